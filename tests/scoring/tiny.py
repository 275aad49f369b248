"""A hand-made grid of three customers whose every feature can be worked out on paper."""

from __future__ import annotations

import pandas as pd

from scoring.frames import Frames
from tests.scoring.demo import allocate

AS_OF = "2025-11-01"
PERIODS = [f"2025-{m:02d}" for m in range(1, 9)]             # bills 1..8, due on the 20th of the next month
# C1: on time for bills 1-4, then 40, 40, 10 days late, and bill 8 (due 2025-09-20) still unpaid
C1_LATE = [-5, -5, -5, -5, 40, 40, 10, None]
C1_KWH = [200, 200, 200, 200, 200, 100, 100, 100]


def _due(period: str) -> pd.Timestamp:
    return (pd.Timestamp(period + "-01") + pd.DateOffset(months=1)).replace(day=20)


def tiny_frames(*, security: bool = True) -> Frames:
    customers = pd.DataFrame({
        "customer_id": ["C1", "C2", "C3", "C4"], "customer_class": ["residential"] * 4, "grid": ["G1"] * 4,
        "opened_on": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-01", "2025-12-01"]),
    })
    bills, payments = [], []
    for customer in ("C1", "C2", "C3"):
        for i, period in enumerate(PERIODS):
            due = _due(period)
            kwh = C1_KWH[i] if customer == "C1" else 200
            bills.append({"bill_id": f"B{customer}{i}", "customer_id": customer, "period": period, "kwh": float(kwh),
                          "amount_fen": 10_000, "issued_on": due - pd.Timedelta(days=15), "due_on": due})
            late = C1_LATE[i] if customer == "C1" else -3
            if late is not None:
                paid = (due + pd.Timedelta(days=late, hours=10)).tz_localize("Asia/Shanghai").tz_convert("UTC")
                payments.append({"payment_id": f"P{customer}{i}", "customer_id": customer, "channel": "bank",
                                 "amount_fen": 10_000, "paid_at": paid})
    bills, payments = pd.DataFrame(bills), pd.DataFrame(payments)
    events = pd.DataFrame({"customer_id": ["C1", "C1", "C2"], "kind": ["returned_payment", "theft", "violation"],
                           "occurred_on": pd.to_datetime(["2025-07-20", "2025-10-30", "2025-11-02"]),
                           "amount_fen": pd.array([10_000, 50_000, None], dtype="Int64")})
    sec = pd.DataFrame({"customer_id": ["C1"], "deposit_fen": [5_000], "guarantee_fen": [5_000]}) if security else None
    return Frames(customers=customers, bills=bills, payments=payments, allocations=allocate(bills, payments),
                  events=events, security=sec)
