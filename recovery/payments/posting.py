"""Posting one payment from a channel: the payment, its ledger entry, its allocation, and the answer.

Every channel (agents, kiosks, the counter, recharge cards, deposits applied, guarantees called,
suspense items assigned) posts through `post_payment`. It is the hot path of the service, so it is
written as a few Core statements in the caller's transaction, in this order:

1. the customer's row locked (PostgreSQL: postings and re-allocations of one customer queue on it) and
   the payment inserted unless its channel reference is already posted (ON CONFLICT DO NOTHING, so a
   race between two postings of one reference answers 409, never a unique violation), in one statement;
2. its ledger entry and its allocation against the customer's open items (recovery.ledger);
3. the channel's guard last (an agent's limit, a kiosk's or a drawer's row, a card's state): a
   conditional UPDATE that may refuse the posting, taken last so that the row it locks, which every
   posting of that channel shares, is held only until the commit that follows.

The answer is built from what was written, never read back.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, TextClause, bindparam, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from recovery.customers.models import Customer
from recovery.errors import Conflict, Invalid, NotFound
from recovery.ledger import allocations
from recovery.ledger.models import Allocation, LedgerEntry
from recovery.money import format_yuan
from recovery.ops import metrics
from recovery.payments import idempotency
from recovery.payments.channels import agents
from recovery.payments.models import Channel, Payment, PaymentState
from recovery.payments.policy import signed_max_age
from recovery.timeutil import business_date, now

FUTURE_TOLERANCE = dt.timedelta(minutes=5)
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)  # before it, no date is one a payment was made on
_payments = Payment.__table__


def new_payment_code() -> str:
    return "P" + secrets.token_hex(12).upper()


@dataclass(frozen=True)
class Posted:
    """A payment as just posted: what the channel is answered with, without reading it back."""

    id: int
    code: str
    customer_id: int
    customer_code: str
    channel: str
    channel_account: str
    channel_ref: str
    amount_fen: int
    paid_at: dt.datetime
    state: str
    allocations: tuple[tuple[str, int], ...]  # (bill code, fen), in the order the bills fall due
    balance_fen: int  # the customer's ledger balance after the payment


@dataclass(frozen=True)
class Guard:
    """A channel's guard given as its conditional UPDATE (`statement` with `params`), so that it goes to the
    database in one statement with the payment's allocations; `refuse()` raises the channel's refusal when
    the UPDATE changes no row. Its parameters are named after no column (an UPDATE takes a parameter named
    like a column of a table it writes as a value to set)."""

    statement: Any
    params: dict
    refuse: Callable[[], None]


@functools.cache
def _guard_storing(guard_statement, completion_statement):
    """The guard's UPDATE with the request's stored answer as its CTE: one statement (built once per pair, so that
    SQLAlchemy's compiled form is cached)."""
    return guard_statement.add_cte(completion_statement.cte("stored_answer"))


def _run_guard(session: Session, guard: Guard, completion: tuple | None) -> int:
    """Run the guard, with the request's answer stored in the same statement on PostgreSQL (its parameter
    names are no column's and no guard's); the rows the guard changed."""
    if completion is None:
        return session.execute(guard.statement, guard.params).rowcount
    statement, values = completion
    if session.get_bind().dialect.name != "postgresql":  # SQLite takes no UPDATE in a WITH
        session.execute(statement, values)
        return session.execute(guard.statement, guard.params).rowcount
    return session.execute(_guard_storing(guard.statement, statement), guard.params | values).rowcount


def post_agent_payment(session: Session, agent: agents.Caller, *, customer_code: str, amount_fen: int,
                       channel_ref: str, paid_at: dt.datetime, request: idempotency.Request | None = None) -> Posted:
    """Post an agent's payment: provisional until the agent's daily statement settles it. The request's key
    is claimed and completed in the posting's own statements."""
    statement, params = agents.take_statement(agent, amount_fen)
    return post_payment(session, channel=Channel.agent, channel_account=agent.code, customer_code=customer_code,
                        amount_fen=amount_fen, channel_ref=channel_ref, paid_at=paid_at,
                        state=PaymentState.provisional, max_age=signed_max_age(),
                        guard=Guard(statement, params, lambda: agents.refuse_take(session, agent)),
                        request=request, answer=lambda posted: payment_answer(session, posted))


_customers = Customer.__table__.c
_PAYMENT_COLUMNS = ("code", "channel", "channel_account", "channel_ref", "amount_fen", "paid_at", "state", "created_at")


@functools.cache
def _insert_payment_statement(dialect: str, keys: type | None = None) -> TextClause:
    """Lock the customer's row and insert the payment unless its (channel, account, reference) is taken, in one
    statement: postings and re-allocations of one customer queue on its row (PostgreSQL; SQLite has one
    writer), and the statements after it read what the customer's earlier postings committed.

    With `keys` (PostgreSQL), the request's idempotency key is claimed in the same statement, first: the
    payment goes in only if the claim does, and the one row answered says whether it did (`claimed`).

    Written as SQL (the same upsert on both databases): SQLAlchemy does not cache its dialect-specific
    INSERT … ON CONFLICT constructs, and compiling one on every posting costs more than running it.
    """
    columns = ", ".join(_PAYMENT_COLUMNS)
    values = ", ".join(f":p_{c}" for c in _PAYMENT_COLUMNS)
    conflict = ("ON CONFLICT (channel, channel_account, channel_ref) DO NOTHING "
                "RETURNING payments.id, payments.customer_id")
    if dialect == "postgresql":
        # Unsized casts: a value too long for its column is refused by the column, never cut short by a cast.
        values = ", ".join(f"CAST(:p_{c} AS {_payments.c[c].type.compile(postgresql.dialect()).split('(')[0]})"
                           for c in _PAYMENT_COLUMNS)
        claimed = ""
        if keys is not None:
            claimed = " AND EXISTS (SELECT 1 FROM claim)"
        locked = ("locked_customer AS (SELECT id FROM customers WHERE code = :p_customer_code "
                  f"AND opened_on <= CAST(:p_paid_on AS DATE){claimed} FOR UPDATE)")
        insert = f"INSERT INTO payments (customer_id, {columns}) SELECT id, {values} FROM locked_customer {conflict}"
        if keys is None:
            sql = f"WITH {locked} {insert}"
        else:
            sql = (f"WITH claim AS ({idempotency.claim_sql(keys, dialect)}), {locked}, posted AS ({insert}) "
                   "SELECT (SELECT count(*) FROM claim) AS claimed, posted.id, posted.customer_id "
                   "FROM (SELECT 1) AS one LEFT JOIN posted ON true")
    else:
        sql = (f"INSERT INTO payments (customer_id, {columns}) SELECT id, {values} FROM customers "
               f"WHERE code = :p_customer_code AND opened_on <= :p_paid_on {conflict}")
    binds = [bindparam("p_paid_on", type_=Date()), *(bindparam(f"p_{c}", type_=_payments.c[c].type)
                                                    for c in _PAYMENT_COLUMNS)]
    if keys is not None:
        binds.append(bindparam("p_created_at", type_=keys.__table__.c.created_at.type))
    return text(sql).bindparams(*binds)


def _insert_payment(session: Session, customer_code: str, values: dict,
                    request: idempotency.Request | None) -> tuple[int, int] | None:
    """The new payment's id and its customer's; None when the customer is unknown or the reference taken.
    Claims the request's key first (raising NotClaimed when it does not go in), in the same statement on
    PostgreSQL."""
    dialect = session.get_bind().dialect.name
    params = {"p_customer_code": customer_code, "p_paid_on": business_date(values["paid_at"])} | {
        f"p_{c}": values[c] for c in _PAYMENT_COLUMNS}
    if request is not None and not request.claimed:
        if dialect != "postgresql":
            if not idempotency.try_claim(session, request):
                raise idempotency.NotClaimed
        else:
            row = session.execute(_insert_payment_statement(dialect, request.model),
                                  params | request.claim_params()).one()
            if not row.claimed:
                raise idempotency.NotClaimed
            request.claimed = True
            return None if row.id is None else (row.id, row.customer_id)
    return session.execute(_insert_payment_statement(dialect), params).first()


def post_payment(session: Session, *, channel: Channel, channel_account: str, customer_code: str, amount_fen: int,
                 channel_ref: str, paid_at: dt.datetime, state: PaymentState,
                 guard: Callable[[], None] | Guard | None = None, note: str | None = None,
                 max_age: dt.timedelta | None = None, request: idempotency.Request | None = None,
                 answer: Callable[[Posted], dict] | None = None) -> Posted:
    """Post one payment from any channel: checks, payment, ledger entry, allocation, the channel's guard.

    `guard` is the channel's conditional UPDATE (a limit, a card's state, a drawer's row); it runs after
    everything else is written and raises to refuse the posting, which the caller's rollback undoes.
    Given as a `Guard`, it is sent with the payment's allocations as one statement.

    `request` (a signed channel's idempotency key) is claimed with the payment's first statement, and, with
    a `Guard` and the channel's `answer` for the payment, completed with that answer in its last.
    A payment is never dated before its customer's account opened; `max_age` bounds how far back a
    channel may date one (the signed channels' policy window).
    """
    stamp = now()
    # The year first: comparing an instant of year 1 with any other converts it to UTC, which overflows.
    if paid_at.tzinfo is None or paid_at.year <= EARLIEST.year or paid_at < EARLIEST:
        raise Invalid("paid_at is not a date a payment was made on", code="paid_at_out_of_range")
    if paid_at > stamp + FUTURE_TOLERANCE:
        raise Invalid("paid_at lies in the future", code="paid_at_in_future")
    if max_age is not None and paid_at < stamp - max_age:
        raise Invalid(f"paid_at lies more than {max_age.days} days in the past; a channel posts what it has just "
                      "collected", code="paid_at_too_old")
    if amount_fen <= 0:
        raise Invalid("a payment must be greater than 0", code="bad_amount")
    if session.new or session.dirty or session.deleted:
        session.flush()  # what the caller staged in the unit of work goes before the Core statements below
    code = new_payment_code()
    inserted = _insert_payment(session, customer_code, {
        "code": code, "channel": str(channel), "channel_account": channel_account, "channel_ref": channel_ref,
        "amount_fen": amount_fen, "paid_at": paid_at, "state": str(state), "created_at": stamp}, request)
    if inserted is None:
        opened = session.execute(select(_customers.opened_on).where(_customers.code == customer_code)).first()
        if opened is None:
            raise NotFound(f"no customer {customer_code}", code="customer_not_found")
        if business_date(paid_at) < opened.opened_on:
            raise Invalid(f"paid_at lies before customer {customer_code}'s account opened on {opened.opened_on}",
                          code="paid_before_account_opened")
        existing = session.execute(select(Payment.code).where(
            Payment.channel == channel, Payment.channel_account == channel_account,
            Payment.channel_ref == channel_ref)).scalar()
        raise Conflict(f"channel_ref {channel_ref} is already posted as payment {existing}",
                       code="channel_ref_already_posted")
    payment_id, customer_id = inserted
    settled = allocations.settle_payment(session, customer_id=customer_id, payment_id=payment_id,
                                         amount_fen=amount_fen, paid_at=paid_at, effective_on=business_date(paid_at),
                                         posted_at=stamp, note=note)
    posted = Posted(id=payment_id, code=code, customer_id=customer_id, customer_code=customer_code,
                    channel=str(channel), channel_account=channel_account, channel_ref=channel_ref,
                    amount_fen=amount_fen, paid_at=paid_at, state=str(state), allocations=settled.bills,
                    balance_fen=settled.balance_fen)
    if isinstance(guard, Guard):
        stored = request is not None and answer is not None
        if not _run_guard(session, guard, request.completion(201, answer(posted)) if stored else None):
            guard.refuse()
        if stored:
            request.completed = True
    elif guard is not None:
        guard()
    metrics.payment_posted(session, channel, amount_fen)  # counted when the caller commits
    return posted


def payment_answer(session: Session, payment: Payment | Posted) -> dict:
    """The contract's answer for a payment: allocations and the customer's balance after it.

    A payment just posted is answered from what was written; a stored one (a GET) is read.
    """
    if isinstance(payment, Posted):
        settled, balance, customer_code = payment.allocations, payment.balance_fen, payment.customer_code
    else:
        from recovery.billing.models import Bill

        settled = session.execute(
            select(Bill.code, Allocation.amount_fen).join(Bill, Bill.id == Allocation.bill_id)
            .where(Allocation.payment_id == payment.id).order_by(Bill.due_on, Bill.id)
        ).all()
        balance = int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                                     .where(LedgerEntry.customer_id == payment.customer_id)))
        customer_code = session.scalar(select(Customer.code).where(Customer.id == payment.customer_id))
    return {
        "payment_id": payment.code,
        "customer_id": customer_code,
        "amount": format_yuan(payment.amount_fen),
        "channel_ref": payment.channel_ref,
        "paid_at": payment.paid_at.isoformat(),
        "status": str(payment.state),
        "allocations": [{"bill_id": code, "amount": format_yuan(amount)} for code, amount in settled],
        "balance": format_yuan(balance),
    }


def agent_payment(session: Session, agent: agents.Caller, code: str) -> Payment:
    """One of the agent's own payments; another agent's answers NotFound, as if it did not exist."""
    payment = session.scalar(select(Payment).where(
        Payment.code == code, Payment.channel == Channel.agent, Payment.channel_account == agent.code))
    if payment is None:
        raise NotFound(f"no payment {code} of agent {agent.code}", code="payment_not_found")
    return payment
