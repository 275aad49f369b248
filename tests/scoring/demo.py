"""Engine frames from the project's demo utility (pure: no database), allocations by the service's own FIFO rule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recovery.demo.generator import generate
from recovery.ledger.fifo import fifo_allocate
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


def demo_frames(*, customers: int, seed: int, as_of: dt.date, months: int = 24, compact: bool = False) -> Frames:
    """A whole demo utility as engine frames (all chunks concatenated).

    `compact`: integer keys (as the database's) and shared strings instead of the demo's text identifiers and
    per-row strings, chunk by chunk: a million customers' frames fit in a few GB instead of twenty.
    """
    chunks = generate(customers=customers, months=months, seed=seed, as_of=as_of, tz=TZ)
    if compact:  # each chunk allocated on its own (no customer spans two): the peak is one chunk's work
        chunks = list(_compacted(chunks))
        for c in chunks:
            c.allocations = allocate(c.bills, c.payments)
        names = ("customers", "bills", "payments", "events", "allocations")
    else:
        chunks, names = list(chunks), ("customers", "bills", "payments", "events")
    tables = {name: pd.concat([getattr(c, name) for c in chunks], ignore_index=True) for name in names}
    allocations = tables["allocations"] if compact else allocate(tables["bills"], tables["payments"])
    return Frames(customers=tables["customers"], bills=tables["bills"], payments=tables["payments"],
                  allocations=allocations, events=tables["events"])


def _shared(values: pd.Series) -> pd.Series:
    """The same text, each distinct value one Python string shared by its rows (8 bytes a row, not 60)."""
    return values.astype("category").astype(object)


def _compacted(chunks):
    """Each chunk with integer customer, bill and payment ids (numbered across chunks) and only the columns the
    engine reads."""
    from types import SimpleNamespace

    next_customer = next_bill = next_payment = 0
    for c in chunks:
        codes = pd.Index(c.customers["customer_id"])
        def number(keys: pd.Series, codes: pd.Index = codes, offset: int = next_customer) -> np.ndarray:
            return codes.get_indexer(keys) + offset  # the chunk's customers only
        customers_ = pd.DataFrame({"customer_id": number(c.customers["customer_id"]),
                                   "customer_class": _shared(c.customers["customer_class"]),
                                   "grid": _shared(c.customers["grid"]), "opened_on": c.customers["opened_on"]})
        bills = pd.DataFrame({"bill_id": range(next_bill, next_bill + len(c.bills)),
                              "customer_id": number(c.bills["customer_id"]), "period": _shared(c.bills["period"]),
                              "kwh": c.bills["kwh"].to_numpy(), "amount_fen": c.bills["amount_fen"].to_numpy(),
                              "issued_on": c.bills["issued_on"].to_numpy(), "due_on": c.bills["due_on"].to_numpy()})
        payments = pd.DataFrame({"payment_id": range(next_payment, next_payment + len(c.payments)),
                                 "customer_id": number(c.payments["customer_id"]),
                                 "amount_fen": c.payments["amount_fen"].to_numpy(), "paid_at": c.payments["paid_at"],
                                 "channel": _shared(c.payments["channel"])})
        events = c.events.assign(customer_id=number(c.events["customer_id"]), kind=_shared(c.events["kind"]))
        next_customer += len(codes)
        next_bill += len(bills)
        next_payment += len(payments)
        yield SimpleNamespace(customers=customers_, bills=bills, payments=payments, events=events)
