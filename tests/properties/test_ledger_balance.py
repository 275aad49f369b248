"""After any sequence of bills, payments, reversals and penalty accruals, what the API says a customer owes
is the sum of their ledger entries, reversals cancel their payments exactly, and allocation never gives
more than a payment had or a bill asked."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from recovery.auth.service import create_user
from recovery.billing import penalties
from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.ledger.models import Allocation, EntryKind, LedgerEntry
from recovery.money import format_yuan
from recovery.payments import posting, reversals
from recovery.payments.models import Channel, Payment, PaymentState
from tests.conftest import FreshContextClient
from tests.factories import bill, customer, load
from tests.fuzz.api import PASSWORD, sign_in
from tests.web.data import cheap_password_hashing

START = dt.date(2026, 1, 1)
OPS = st.lists(st.one_of(
    st.tuples(st.just("bill"), st.integers(0, 500_000), st.integers(0, 200)),  # amount, due day after START
    st.tuples(st.just("pay"), st.integers(1, 400_000), st.integers(0, 300)),  # amount, paid day after START
    st.tuples(st.just("reverse"), st.integers(0, 20), st.just(0)),  # which earlier payment
    st.tuples(st.just("penalty"), st.integers(0, 330), st.just(0)),  # accrual day after START
), min_size=1, max_size=8)


def _fen(*where) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(*where)))


def test_balance_is_the_sum_of_the_ledger_after_any_sequence(app, recovery, tmp_path, monkeypatch):
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "root", role="admin", password=PASSWORD)
    db.session.commit()
    client = FreshContextClient(app, app.response_class, use_cookies=True)
    sign_in(client, "root")
    serial = itertools.count()

    @settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(ops=OPS)
    def run(ops) -> None:
        n = next(serial)
        code = f"P{n}"
        load(recovery, tmp_path, customers=[customer(code)])
        payments: list[int] = []
        for i, (op, a, b) in enumerate(ops):
            if op == "bill":
                due = START + dt.timedelta(days=b)
                load(recovery, tmp_path, bills=[bill(f"{code}-B{i}", code, format_yuan(a), f"{due:%Y-%m}",
                                                     (due - dt.timedelta(days=15)).isoformat(), due.isoformat())])
            elif op == "pay":
                paid = dt.datetime.combine(START + dt.timedelta(days=b), dt.time(10), dt.UTC)
                payments.append(posting.post_payment(
                    db.session, channel=Channel.bank, channel_account="ICBC", customer_code=code, amount_fen=a,
                    channel_ref=f"{code}-R{i}", paid_at=paid, state=PaymentState.settled).id)
                db.session.commit()
            elif op == "reverse" and payments:
                target = db.session.get(Payment, payments[a % len(payments)])
                if target.state != PaymentState.reversed:
                    reversals.reverse_payment(db.session, target, "returned by the bank", "AM04", actor="test")
                    db.session.commit()
            elif op == "penalty":
                penalties.accrue(db.session, START + dt.timedelta(days=a), actor="test")
                db.session.commit()

        cid = db.session.scalar(select(Customer.id).where(Customer.code == code))
        ledger = _fen(LedgerEntry.customer_id == cid)
        billed = int(db.session.scalar(select(func.coalesce(func.sum(Bill.amount_fen), 0))
                                       .where(Bill.customer_id == cid)))
        paid_in_force = int(db.session.scalar(select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(
            Payment.customer_id == cid, Payment.state != PaymentState.reversed)))
        penalty = _fen(LedgerEntry.customer_id == cid, LedgerEntry.kind == EntryKind.penalty)
        assert ledger == billed + penalty - paid_in_force
        shown = client.get(f"/api/v1/customers/{code}").get_json()
        assert shown["balance"] == format_yuan(ledger)
        entries = client.get(f"/api/v1/customers/{code}/ledger").get_json()
        assert not entries or entries[-1]["balance"] == format_yuan(ledger)
        # Allocation: never more than a payment had or a bill asked; nothing from a reversed payment.
        given_by = dict(db.session.execute(select(Allocation.payment_id, func.sum(Allocation.amount_fen))
                                           .where(Allocation.customer_id == cid).group_by(Allocation.payment_id)).all())
        for p in db.session.scalars(select(Payment).where(Payment.customer_id == cid)):
            assert given_by.get(p.id, 0) <= (0 if p.state == PaymentState.reversed else p.amount_fen)
        taken = db.session.execute(select(Bill.amount_fen, func.sum(Allocation.amount_fen)).join(
            Allocation, Allocation.bill_id == Bill.id).where(Bill.customer_id == cid).group_by(Bill.id)).all()
        assert all(t <= amount for amount, t in taken)

    run()
