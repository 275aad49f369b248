"""Engine frames from the project's demo utility (pure: no database), allocations by the service's own FIFO rule."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from recovery.demo.generator import generate
from recovery.payments.allocation import fifo_allocate
from scoring.frames import Frames

TZ = "Asia/Shanghai"


def allocate(bills: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    """fifo_allocate on the demo's text identifiers (it works on the database's integer keys)."""
    bill_ids = pd.Index(bills["bill_id"])
    payment_ids = pd.Index(payments["payment_id"])
    customer_ids = pd.Index(pd.unique(pd.concat([bills["customer_id"], payments["customer_id"]])))
    issued = pd.Series(pd.unique(bills["issued_on"]))
    start = issued.dt.tz_localize(TZ).dt.tz_convert("UTC")
    b = pd.DataFrame({
        "bill_id": bill_ids.get_indexer(bills["bill_id"]),
        "customer_id": customer_ids.get_indexer(bills["customer_id"]),
        "amount_fen": bills["amount_fen"].to_numpy(), "due_on": bills["due_on"].to_numpy(),
        "issued_on": bills["issued_on"].to_numpy(),
        "issued_at": bills["issued_on"].map(pd.Series(start.to_numpy(), index=issued)).to_numpy(),
    })
    p = pd.DataFrame({
        "payment_id": payment_ids.get_indexer(payments["payment_id"]),
        "customer_id": customer_ids.get_indexer(payments["customer_id"]),
        "amount_fen": payments["amount_fen"].to_numpy(), "paid_at": payments["paid_at"].to_numpy(),
    })
    p["paid_at"] = pd.to_datetime(p["paid_at"], utc=True)
    out = fifo_allocate(b, p)
    return out.assign(payment_id=payment_ids[out["payment_id"]], bill_id=bill_ids[out["bill_id"]],
                      customer_id=customer_ids[out["customer_id"]])


def demo_frames(*, customers: int, seed: int, as_of: dt.date, months: int = 24) -> Frames:
    """A whole demo utility as engine frames (all chunks concatenated)."""
    chunks = list(generate(customers=customers, months=months, seed=seed, as_of=as_of, tz=TZ))
    tables = {name: pd.concat([getattr(c, name) for c in chunks], ignore_index=True)
              for name in ("customers", "bills", "payments", "events")}
    return Frames(customers=tables["customers"], bills=tables["bills"], payments=tables["payments"],
                  allocations=allocate(tables["bills"], tables["payments"]), events=tables["events"])
