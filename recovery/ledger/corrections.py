"""Re-stating a bill (多退少补 after an upheld complaint): the one way a bill's amount goes down after it was
billed, other than the split-settlement true-up.

The ledger stays append-only: the change is an `adjustment` entry that corrects the bill's own entry (it
names it), dated on the bill's issue date like the bill, so that every position, past or present, reads
the bill at its new amount. The bill row takes the new amount (the allocation engine, the positions and
the dunning ladder all read bills), the customer's payments are re-allocated (what was paid on the part
taken off becomes a credit on the account), and a `bill_corrections` row keeps the amount first billed,
who corrected it and why. Audited.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.audit import service as audit
from recovery.auth.models import User
from recovery.billing.models import Bill
from recovery.errors import Conflict, Invalid
from recovery.ledger.allocations import lock_customers, reallocate
from recovery.ledger.correction_models import BillCorrection, CorrectionKind
from recovery.ledger.entries import post
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.money import format_yuan


def correct_bill(session: Session, bill: Bill, *, after_fen: int, kind: str, reason: str, by: str, on: dt.date,
                 after_kwh: float | None = None) -> BillCorrection:
    """Lower `bill` to `after_fen` (a corrected bill, or a credit of the difference): the adjustment entry,
    the bill re-stated, the customer re-allocated, the correction kept and audited."""
    if kind not in CorrectionKind.__members__:
        raise Invalid(f"a bill correction is one of {', '.join(CorrectionKind)}", code="bad_remedy")
    if not reason.strip():
        raise Invalid("say why the bill is corrected", code="reason_required")
    # Serialise with a payment being posted for the customer (it locks the same row) and re-read the bill.
    lock_customers(session, [bill.customer_id])
    session.refresh(bill)
    before = int(bill.amount_fen)
    if not isinstance(after_fen, int) or isinstance(after_fen, bool):
        raise TypeError("a bill amount is whole fen (int)")
    if not 0 <= after_fen < before:
        raise Invalid(f"the bill {bill.code} is {format_yuan(before)} yuan: a correction lowers it to an amount from "
                      f"0.00 up to less than that, not {format_yuan(after_fen)}", code="bad_amount")
    if after_kwh is not None and after_kwh < 0:
        raise Invalid("kWh are 0 or more", code="bad_kwh")
    billed_entry = session.scalar(select(LedgerEntry.id).where(LedgerEntry.bill_id == bill.id,
                                                               LedgerEntry.kind == EntryKind.bill)
                                  .order_by(LedgerEntry.id).limit(1))
    if billed_entry is None:
        raise Conflict(f"bill {bill.code} has no ledger entry to correct", code="bill_not_in_ledger")
    user_id = session.scalar(select(User.id).where(User.username == by))
    label = "credit on bill" if kind == CorrectionKind.credit else "bill corrected"
    entry_id = post(session, customer_id=bill.customer_id, kind=EntryKind.adjustment, amount_fen=after_fen - before,
                    effective_on=bill.issued_on, bill_id=bill.id, corrects_id=billed_entry, created_by=user_id,
                    note=f"{label} {bill.code}: {reason.strip()}")
    row = BillCorrection(bill_id=bill.id, customer_id=bill.customer_id, kind=kind, before_fen=before,
                         after_fen=after_fen, before_kwh=bill.kwh if after_kwh is not None else None,
                         after_kwh=after_kwh, entry_id=entry_id, reason=reason.strip()[:500], corrected_on=on,
                         corrected_by=by)
    bill.amount_fen = after_fen
    if after_kwh is not None:
        bill.kwh = after_kwh
    session.add(row)
    session.flush()  # the bill's new amount must be in the database before the re-allocation reads it
    reallocate(session, [bill.customer_id])
    audit.record(session, "bill.correct", "bill", bill.code, actor=by, correction_id=row.id, kind=kind,
                 before=format_yuan(before), after=format_yuan(after_fen), entry_id=entry_id, corrects=billed_entry,
                 kwh=after_kwh, reason=reason.strip())
    return row


def first_billed_fen():
    """Per bill (correlated with Bill): the amount the billing system first sent, where it was corrected since;
    NULL for a bill never corrected."""
    return (select(BillCorrection.before_fen).where(BillCorrection.bill_id == Bill.id)
            .order_by(BillCorrection.id).limit(1).correlate(Bill).scalar_subquery())


def first_billed_kwh():
    """Per bill (correlated with Bill): the kWh first billed, where a correction changed them; else NULL."""
    return (select(BillCorrection.before_kwh).where(BillCorrection.bill_id == Bill.id,
                                                     BillCorrection.before_kwh.is_not(None))
            .order_by(BillCorrection.id).limit(1).correlate(Bill).scalar_subquery())
