"""The outcome to predict, exactly as the contract defines default.

Default: a bill due within `horizon_days` after the as-of date is not fully paid within `grace_days`
after its due date. "Within 30 days after the due date" means by the close of business day due + 30
(local time), so a bill paid on day 30 is not a default and one paid on day 31 is.

This deliberately reads what happened after the as-of date, but only that: the bills due in the
window, and the allocations to them made before each bill's deadline.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from scoring.frames import DEFAULT_TZ, as_of_day, dates_to_days, day_end_utc, instants_to_utc

HORIZON_DAYS = 60
GRACE_DAYS = 30


def default_outcomes(bills: pd.DataFrame, allocations: pd.DataFrame, as_of: datetime.date | str,
                     horizon_days: int = HORIZON_DAYS, grace_days: int = GRACE_DAYS, *,
                     tz: str = DEFAULT_TZ) -> pd.DataFrame:
    """Per customer with a bill due in (as_of, as_of + horizon]: default (0/1) and unpaid_fen at the deadlines.

    unpaid_fen is what was still owed on those bills at their deadlines (the defaulted amount, int64).
    Customers with no bill due in the window are not in the index.
    """
    day = as_of_day(as_of)
    due = dates_to_days(bills["due_on"])
    window = (due > day) & (due <= day + horizon_days)
    b = bills.loc[window]
    due = due[window]
    amount = b["amount_fen"].to_numpy(dtype=np.int64)
    deadline = day_end_utc(due + grace_days, tz)      # the end of the last day of grace, exclusive
    pos = pd.Index(b["bill_id"]).get_indexer(allocations["bill_id"]) if len(b) else np.full(len(allocations), -1)
    hit = pos >= 0
    pos = pos[hit]
    at = instants_to_utc(allocations["allocated_at"])[hit]
    on_time = at < deadline[pos]
    paid = np.zeros(len(b), dtype=np.int64)
    np.add.at(paid, pos[on_time], allocations["amount_fen"].to_numpy(dtype=np.int64)[hit][on_time])
    unpaid = np.maximum(amount - paid, 0)
    per_bill = pd.DataFrame({"customer_id": b["customer_id"].to_numpy(), "default": (unpaid > 0).astype(np.int64),
                             "unpaid_fen": unpaid})
    out = per_bill.groupby("customer_id", sort=True).agg(default=("default", "max"), unpaid_fen=("unpaid_fen", "sum"))
    out.index.name = "customer_id"
    return out.astype({"default": np.int64, "unpaid_fen": np.int64})


def default_labels(bills: pd.DataFrame, allocations: pd.DataFrame, as_of: datetime.date | str,
                   horizon_days: int = HORIZON_DAYS, grace_days: int = GRACE_DAYS, *,
                   tz: str = DEFAULT_TZ) -> pd.Series:
    """1 if any bill due within (as_of, as_of + horizon_days] is not fully paid within grace_days of its due date.

    Indexed by customer_id; customers with no bill due in the window are excluded.
    """
    return default_outcomes(bills, allocations, as_of, horizon_days, grace_days, tz=tz)["default"]


def label_window_end(as_of: datetime.date | str, horizon_days: int = HORIZON_DAYS,
                     grace_days: int = GRACE_DAYS) -> datetime.date:
    """The first date at whose close the labels of as_of are complete."""
    return pd.Timestamp(as_of).date() + datetime.timedelta(days=horizon_days + grace_days)
