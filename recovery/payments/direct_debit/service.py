"""Direct debit (代扣): mandates, daily debit batches, posting and the bank's results.

The day's batch (`create_batch(session, D)`) holds one item per mandated customer for the unpaid
part of the bills falling due on D (due_on = D, mandate active and signed by D). A bill is in at
most one live item (a partial unique index); a rerun of D adds only what is new (nothing, if
nothing changed), until the batch is sent.

Posting: `send_batch` posts every item as a *provisional* payment (channel direct_debit,
channel_account = the debtor's bank code, channel_ref = the end-to-end id, paid at the start of the
collection day), so that a customer whose debit is in flight is not chased for the bill; the
bank's result then settles it (success) or reverses it with the bank's reason code (return).

Results (`import_results`): CSV, pain.002 or camt.054 (read with reconciliation.formats). Success
settles the payment; a return reverses it (a `reversal` ledger entry pointing at the payment's
entry), frees its bills for a later batch and records a `returned_payment` event for the credit
rating. An unknown end-to-end id, an amount other than the item's, or a success for an item
already returned is an error naming it, and nothing is changed; importing a file again changes
nothing. A success after a return is refused; a return after a success is accepted (a late return).

Files: see direct_debit_files.py (the batch CSV's columns, pain.008.001.02, the result CSV's columns).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from marshmallow import Schema, fields
from sqlalchemy import Date, and_, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from recovery import bulk, ledger, policy
from recovery.audit import service as audit
from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.errors import Conflict, ImportRejected, Invalid, NotFound
from recovery.events.models import Event, EventKind
from recovery.ledger.allocations import reallocate
from recovery.ledger.models import Allocation, EntryKind, LedgerEntry
from recovery.money import check_currency, format_yuan
from recovery.payments.direct_debit.models import (
    BatchStatus,
    DebitBatch,
    DebitItem,
    DebitItemBill,
    DebitMandate,
    ItemStatus,
    MandateStatus,
)
from recovery.payments.models import Channel, Payment, PaymentState
from recovery.payments.reversals import reverse_many, settle_payments
from recovery.timeutil import now, start_of_day, today

RESULT_FORMATS = ("csv", "pain002", "camt054")


class DirectDebitPolicySchema(Schema):
    """[direct_debit]: the creditor (the utility) as the pain.008 file names it."""

    creditor_name = fields.String(load_default="fee-recovery utility")
    creditor_account = fields.String(load_default="UTILITY-ACCOUNT")
    creditor_agent = fields.String(load_default="UTILITY-BANK")
    creditor_scheme_id = fields.String(load_default="CN00ZZZUTILITY")
    currency = fields.String(load_default="CNY")
    sequence_type = fields.String(load_default="RCUR")


# ---------------------------------------------------------------- mandates


def create_mandate(session: Session, customer_code: str, *, bank_code: str, account: str, reference: str,
                   signed_on: dt.date, actor: str | None = None) -> DebitMandate:
    """Record a customer's signed mandate; one active mandate per customer."""
    customer = session.scalar(select(Customer).where(Customer.code == customer_code))
    if customer is None:
        raise NotFound(f"no customer {customer_code}", code="customer_not_found")
    for name, value, limit in (("bank_code", bank_code, 40), ("account", account, 40), ("reference", reference, 35)):
        if not value or not value.strip() or len(value.strip()) > limit:
            raise Invalid(f"{name}: 1-{limit} characters required, got {value!r}")
    if session.scalar(select(DebitMandate.id).where(DebitMandate.reference == reference.strip())):
        raise Conflict(f"mandate {reference} already exists")
    if session.scalar(select(DebitMandate.id).where(DebitMandate.customer_id == customer.id,
                                                    DebitMandate.status == MandateStatus.active)):
        raise Conflict(f"customer {customer_code} already has an active mandate; revoke it first")
    mandate = DebitMandate(customer_id=customer.id, bank_code=bank_code.strip(), account=account.strip(),
                           reference=reference.strip(), signed_on=signed_on, status=MandateStatus.active)
    session.add(mandate)
    audit.record(session, "debit.mandate_create", "customer", customer_code, actor=actor, reference=reference,
                 bank_code=bank_code, signed_on=signed_on.isoformat())
    return mandate


def revoke_mandate(session: Session, reference: str, *, actor: str | None = None) -> DebitMandate:
    """End a mandate: later batches leave its customer out."""
    mandate = session.scalar(select(DebitMandate).where(DebitMandate.reference == reference))
    if mandate is None:
        raise NotFound(f"no mandate {reference}")
    if mandate.status == MandateStatus.revoked:
        raise Conflict(f"mandate {reference} is already revoked")
    mandate.status = MandateStatus.revoked
    audit.record(session, "debit.mandate_revoke", "mandate", reference, actor=actor)
    return mandate


# ---------------------------------------------------------------- batches


def batch_code(day: dt.date) -> str:
    """The batch code (and pain.008 MsgId) of a collection day: DD20261120."""
    return f"DD{day:%Y%m%d}"


def get_batch(session: Session, code: str) -> DebitBatch:
    """The batch with this code, or NotFound."""
    batch = session.scalar(select(DebitBatch).where(DebitBatch.code == code))
    if batch is None:
        raise NotFound(f"no debit batch {code}")
    return batch


def _refresh_counts(session: Session, batch_ids) -> None:
    """A batch's counts and totals, from its items (one UPDATE for all the batches named)."""
    items = DebitItem.__table__.c
    per = lambda *where: select(func.count()).where(items.batch_id == DebitBatch.id, *where)  # noqa: E731
    fen = lambda *where: select(func.coalesce(func.sum(items.amount_fen), 0)).where(  # noqa: E731
        items.batch_id == DebitBatch.id, *where)
    session.execute(update(DebitBatch).where(DebitBatch.id.in_(batch_ids)).values(
        item_count=per().scalar_subquery(),
        total_fen=fen().scalar_subquery(),
        succeeded_count=per(items.status == ItemStatus.succeeded).scalar_subquery(),
        returned_count=per(items.status == ItemStatus.returned).scalar_subquery(),
        returned_fen=fen(items.status == ItemStatus.returned).scalar_subquery(),
    ))


def create_batch(session: Session, day: dt.date, *, actor: str | None = None) -> DebitBatch:
    """The debit batch for the bills falling due on `day` (created, or topped up while still open)."""
    batch = session.scalar(select(DebitBatch).where(DebitBatch.created_for == day))
    if batch is None:
        batch = DebitBatch(code=batch_code(day), created_for=day, status=BatchStatus.open, item_count=0, total_fen=0,
                           succeeded_count=0, returned_count=0, returned_fen=0)
        session.add(batch)
        session.flush()  # items need batch.id
    if batch.status != BatchStatus.open:
        return batch  # sent: what it holds is what the bank has

    paid = (select(func.coalesce(func.sum(Allocation.amount_fen), 0)).where(Allocation.bill_id == Bill.id)
            .scalar_subquery())
    mandate = (select(func.max(DebitMandate.id)).where(
        DebitMandate.customer_id == Bill.customer_id, DebitMandate.status == MandateStatus.active,
        DebitMandate.signed_on <= day).scalar_subquery())
    live = exists().where(DebitItemBill.bill_id == Bill.id, DebitItemBill.live.is_(True))
    eligible = bulk.read_frame(session, select(
        Bill.id.label("bill_id"), Bill.customer_id, Customer.code.label("customer_code"),
        (Bill.amount_fen - paid).label("amount_fen"), mandate.label("mandate_id"),
    ).join(Customer, Customer.id == Bill.customer_id)
        .where(Bill.due_on == day, Bill.amount_fen > 0, mandate.is_not(None), ~live, Bill.amount_fen > paid))
    if not eligible.empty:
        eligible = eligible.astype({"bill_id": "int64", "customer_id": "int64", "amount_fen": "int64",
                                    "mandate_id": "int64"})
        items = (eligible.groupby(["customer_id", "customer_code", "mandate_id"], as_index=False)["amount_fen"].sum()
                 .sort_values("customer_code", ignore_index=True))
        already = session.scalar(select(func.count()).where(DebitItem.batch_id == batch.id)) or 0
        items["end_to_end_id"] = [f"{batch.code}-{already + k + 1:06d}" for k in range(len(items))]
        stamp = now()
        bulk.insert_frame(session, DebitItem.__table__, items.assign(
            batch_id=batch.id, status=ItemStatus.pending.value, created_at=pd.Timestamp(stamp))
            [["batch_id", "customer_id", "mandate_id", "amount_fen", "end_to_end_id", "status", "created_at"]])
        staged = bulk.stage(session, "debit_new_bills", eligible.merge(items[["customer_id", "end_to_end_id"]]),
                            {"bill_id": bulk.ID, "end_to_end_id": bulk.TEXT})
        session.execute(insert(DebitItemBill).from_select(
            ["item_id", "bill_id", "live"],
            select(DebitItem.id, staged.c.bill_id, literal(True))
            .join(staged, staged.c.end_to_end_id == DebitItem.end_to_end_id)))
        audit.record(session, "debit.batch", "debit_batch", batch.code, actor=actor, added_items=len(items),
                     added_fen=int(items["amount_fen"].sum()))
    _refresh_counts(session, [batch.id])
    session.expire(batch)
    return batch


def send_batch(session: Session, code: str, *, actor: str | None = None) -> DebitBatch:
    """Mark the batch sent and post each item as a provisional direct-debit payment."""
    batch = get_batch(session, code)
    done = session.execute(update(DebitBatch).where(DebitBatch.id == batch.id, DebitBatch.status == BatchStatus.open)
                           .values(status=BatchStatus.sent, sent_at=now())).rowcount
    if not done:
        raise Conflict(f"debit batch {code} was already sent")
    stamp = now()
    paid_at = start_of_day(batch.created_for)
    i = DebitItem.__table__.c
    mine = and_(i.batch_id == batch.id, i.payment_id.is_(None))
    session.execute(insert(Payment).from_select(
        ["code", "customer_id", "channel", "channel_account", "channel_ref", "amount_fen", "paid_at", "state",
         "created_at"],
        select(literal("P-") + i.end_to_end_id, i.customer_id, literal(Channel.direct_debit.value),
               DebitMandate.bank_code, i.end_to_end_id, i.amount_fen, literal(paid_at, Payment.paid_at.type),
               literal(PaymentState.provisional.value), literal(stamp, Payment.created_at.type))
        .join(DebitMandate, DebitMandate.id == i.mandate_id).where(mine)))
    posted = and_(Payment.channel == Channel.direct_debit, Payment.channel_ref == i.end_to_end_id)
    session.execute(update(DebitItem).where(mine).values(
        payment_id=select(Payment.id).where(posted).scalar_subquery()))
    ledger.post_select(session, select(
        Payment.customer_id, literal(EntryKind.payment.value), -Payment.amount_fen, literal(batch.created_for, Date()),
        literal(stamp, LedgerEntry.posted_at.type), Payment.id)
        .join(DebitItem, DebitItem.payment_id == Payment.id).where(DebitItem.batch_id == batch.id),
        ["customer_id", "kind", "amount_fen", "effective_on", "posted_at", "payment_id"])
    touched = bulk.temp_table(session, "debit_customers", {"id": bulk.ID})
    session.execute(insert(touched).from_select(
        ["id"], select(DebitItem.customer_id).where(DebitItem.batch_id == batch.id).distinct()))
    reallocate(session, touched)
    audit.record(session, "debit.send", "debit_batch", code, actor=actor, items=batch.item_count,
                 total_fen=batch.total_fen)
    session.expire(batch)
    return batch


def batch_items(session: Session, batch: DebitBatch) -> pd.DataFrame:
    """The batch's items with what the bank files need: customer, mandate, account, bills."""
    items = bulk.read_frame(session, select(
        DebitItem.id.label("item_id"), DebitItem.end_to_end_id, Customer.code.label("customer_id"),
        Customer.name.label("customer_name"), DebitMandate.reference.label("mandate_reference"),
        DebitMandate.signed_on, DebitMandate.bank_code, DebitMandate.account, DebitItem.amount_fen, DebitItem.status,
        DebitItem.return_reason,
    ).join(Customer, Customer.id == DebitItem.customer_id).join(DebitMandate, DebitMandate.id == DebitItem.mandate_id)
        .where(DebitItem.batch_id == batch.id).order_by(DebitItem.end_to_end_id))
    bills = bulk.read_frame(session, select(DebitItemBill.item_id, Bill.code)
                            .join(Bill, Bill.id == DebitItemBill.bill_id)
                            .join(DebitItem, DebitItem.id == DebitItemBill.item_id)
                            .where(DebitItem.batch_id == batch.id).order_by(Bill.due_on, Bill.code))
    covered = bills.groupby("item_id")["code"].agg(";".join) if not bills.empty else pd.Series(dtype=object)
    items["bills"] = items["item_id"].map(covered).fillna("")
    return items


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class ResultSummary:
    source: str
    lines: int
    succeeded: int
    returned: int
    unchanged: int
    pending: int

    def as_dict(self) -> dict:
        """JSON-ready counts, as the CLI prints them."""
        return {"source": self.source, "lines": self.lines, "succeeded": self.succeeded, "returned": self.returned,
                "unchanged": self.unchanged, "pending": self.pending}


def import_results(session: Session, path: Path, fmt: str, *, actor: str | None = None,
                   on: dt.date | None = None) -> ResultSummary:
    """Apply a bank result file (csv, pain002, camt054) atomically; see the module docstring."""
    from recovery.payments.direct_debit.files import read_results

    source = str(path)
    frame = read_results(Path(path), fmt)
    check_currency(set(frame["currency"].dropna()), results_currency(), f"{source}: the result file",
                   "[direct_debit] currency, or [reconcile.accounts] for the creditor account")
    return apply_results(session, frame, source=source, actor=actor, on=on)


def results_currency() -> str:
    """The currency debits are collected in: the creditor account's in [reconcile.accounts], else
    [direct_debit] currency (CNY by default)."""
    creditor = policy.section("direct_debit")
    entry = policy.section("reconcile")["accounts"].get(creditor["creditor_account"])
    return entry["currency"] if entry else creditor["currency"]


def apply_results(session: Session, frame: pd.DataFrame, *, source: str, actor: str | None = None,
                  on: dt.date | None = None) -> ResultSummary:
    """Apply result rows (line, end_to_end_id, outcome, reason, amount_fen) to the items they name."""
    day = on or today()
    pending_lines = int((frame["outcome"] == "pending").sum())
    rows = frame.loc[frame["outcome"] != "pending"]
    # Several lines for one debit (a booking, then its return): the return is the last word.
    rows = rows.assign(rank=(rows["outcome"] == "returned").astype(int)).sort_values(["end_to_end_id", "rank", "line"])
    final = rows.groupby("end_to_end_id", as_index=False).agg(
        line=("line", "first"), outcome=("outcome", "last"), reason=("reason", "last"),
        amount_fen=("amount_fen", lambda s: s.dropna().iloc[0] if s.notna().any() else None))
    staged = bulk.stage(session, "debit_results", final, {
        "line": bulk.ID, "end_to_end_id": bulk.TEXT, "outcome": bulk.TEXT, "reason": bulk.TEXT,
        "amount_fen": bulk.FEN})
    s = staged.c
    i = DebitItem.__table__.c
    errors = [(line, f"end_to_end_id: unknown debit {e2e}") for line, e2e in session.execute(
        select(s.line, s.end_to_end_id).where(~exists().where(i.end_to_end_id == s.end_to_end_id)))]
    known = select(s.line, s.end_to_end_id, s.outcome, s.amount_fen, i.amount_fen, i.status, i.payment_id).join(
        DebitItem, i.end_to_end_id == s.end_to_end_id)
    for line, e2e, outcome, amount, expected, status, payment_id in session.execute(known):
        if payment_id is None:
            errors.append((line, f"end_to_end_id: debit {e2e} is in a batch not yet sent"))
        elif amount is not None and int(amount) != int(expected):
            errors.append((line, f"amount: debit {e2e} is {format_yuan(int(expected))}, the file says "
                                 f"{format_yuan(int(amount))}"))
        elif outcome == "succeeded" and status == ItemStatus.returned:
            errors.append((line, f"status: debit {e2e} was already returned; a success cannot follow"))
    if errors:
        raise ImportRejected([f"{source}:{line}: {message}" for line, message in sorted(errors)])

    # What changes: successes of pending items; returns of items not yet returned.
    succeed = select(i.id).join(staged, s.end_to_end_id == i.end_to_end_id).where(
        s.outcome == "succeeded", i.status == ItemStatus.pending)
    to_return = bulk.temp_table(session, "debit_to_return", {"item_id": bulk.ID, "payment_id": bulk.ID,
                                                            "code": bulk.TEXT, "reason": bulk.TEXT})
    session.execute(insert(to_return).from_select(
        ["item_id", "payment_id", "code", "reason"],
        select(i.id, i.payment_id, s.reason, literal("direct debit returned"))
        .join(staged, s.end_to_end_id == i.end_to_end_id)
        .where(s.outcome == "returned", i.status != ItemStatus.returned)))
    r = to_return.c
    succeeded = session.scalar(select(func.count()).select_from(succeed.subquery())) or 0
    batches = select(i.batch_id).where(i.end_to_end_id.in_(select(s.end_to_end_id))).distinct()

    settle_payments(session, select(i.payment_id).where(i.id.in_(succeed)), actor=actor, source=source)
    session.execute(update(DebitItem).where(DebitItem.id.in_(succeed))
                    .values(status=ItemStatus.succeeded, result_on=day))
    returned = 0
    if session.scalar(select(func.count()).select_from(to_return)):
        session.execute(update(DebitItem).where(DebitItem.id.in_(select(r.item_id))).values(
            status=ItemStatus.returned, result_on=day,
            return_reason=select(r.code).where(r.item_id == DebitItem.id).scalar_subquery()))
        session.execute(update(DebitItemBill).where(DebitItemBill.item_id.in_(select(r.item_id))).values(live=False))
        flipped = reverse_many(session, to_return, on=day, actor=actor, source=source)
        returned = len(flipped)
        # The credit rating reads returned payments as events: one per customer and day (the natural key).
        if flipped:
            ids = bulk.stage(session, "debit_flipped", pd.DataFrame({"id": flipped}), {"id": bulk.ID})
            returns = (select(Payment.customer_id, func.sum(Payment.amount_fen).label("amount_fen"))
                       .where(Payment.id.in_(select(ids.c.id))).group_by(Payment.customer_id).subquery())
            session.execute(insert(Event).from_select(
                ["customer_id", "kind", "occurred_on", "amount_fen", "created_at"],
                select(returns.c.customer_id, literal(EventKind.returned_payment.value), literal(day, Date()),
                       returns.c.amount_fen, literal(now(), Event.created_at.type))
                .where(~exists().where(Event.customer_id == returns.c.customer_id,
                                       Event.kind == EventKind.returned_payment, Event.occurred_on == day))))
    batch_ids = [b for (b,) in session.execute(batches)]
    _refresh_counts(session, batch_ids)
    session.execute(update(DebitBatch).where(
        DebitBatch.id.in_(batch_ids), DebitBatch.status == BatchStatus.sent,
        ~exists().where(DebitItem.batch_id == DebitBatch.id, DebitItem.status == ItemStatus.pending),
    ).values(status=BatchStatus.closed))
    summary = ResultSummary(source=source, lines=len(frame), succeeded=succeeded, returned=returned,
                            unchanged=len(final) - succeeded - returned, pending=pending_lines)
    audit.record(session, "debit.results", "file", Path(source).name, actor=actor, **summary.as_dict())
    return summary


def nightly_batch(session: Session, day: dt.date) -> dict:
    """The job `payments.debit_batch`: the batch for the bills falling due on `day` (rerunnable)."""
    batch = create_batch(session, day, actor="job:payments.debit_batch")
    return {"batch": batch.code, "status": batch.status, "items": batch.item_count, "total_fen": batch.total_fen}
