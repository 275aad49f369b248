"""The oldest unpaid bill that positions() finds, for any bills and payments and any date, is the one the
rule gives: the amount owed on bills (the balance, within what was billed), filled from the youngest bill
backwards, reaches it and no older one. The search runs in two parts (the debtors' bills already due, the
others' bills not yet due); this checks that together they give the rule's answer on every date around
the bills."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.ledger.positions import positions
from recovery.money import format_yuan
from recovery.payments import posting
from recovery.payments.models import Channel, PaymentState
from tests.factories import bill, customer, load

START = dt.date(2026, 1, 1)
# One customer: bills (amount, due day after START; several may fall due on one day) and payments
# (amount, day paid).
ACCOUNT = st.tuples(
    st.lists(st.tuples(st.integers(1, 300_000), st.integers(0, 120)), min_size=0, max_size=5),
    st.lists(st.tuples(st.integers(1, 400_000), st.integers(0, 150)), min_size=0, max_size=3),
)


def _by_the_rule(bills: list[tuple[dt.date, dt.date, int]], balance: int, day: dt.date) -> dt.date | None:
    """bills: (issued_on, due_on, amount). The oldest bill that the owed amount, filled youngest first, reaches."""
    live = sorted(((due, amount) for issued, due, amount in bills if issued <= day and amount > 0), reverse=True)
    owed = min(max(balance, 0), sum(amount for _, amount in live))
    oldest, younger = None, 0
    for due, amount in live:
        if younger < owed:
            oldest = due
        younger += amount
    return oldest


def test_the_oldest_unpaid_bill_follows_the_rule_on_every_date(app, recovery, tmp_path):
    serial = iter(range(10_000))

    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(accounts=st.lists(ACCOUNT, min_size=1, max_size=12))
    def run(accounts) -> None:
        n = next(serial)
        codes = [f"Q{n}-{i}" for i in range(len(accounts))]
        rows = []
        for code, (bills, _) in zip(codes, accounts, strict=True):
            for j, (amount, due_day) in enumerate(bills):
                due = START + dt.timedelta(days=due_day)
                rows.append(bill(f"{code}-B{j}", code, format_yuan(amount), f"{due:%Y-%m}",
                                 (due - dt.timedelta(days=15)).isoformat(), due.isoformat()))
        load(recovery, tmp_path, customers=[customer(c) for c in codes], bills=rows)
        for code, (_, pays) in zip(codes, accounts, strict=True):
            for j, (amount, day) in enumerate(pays):
                posting.post_payment(
                    db.session, channel=Channel.bank, channel_account="ICBC", customer_code=code, amount_fen=amount,
                    channel_ref=f"{code}-R{j}", state=PaymentState.settled,
                    paid_at=dt.datetime.combine(START + dt.timedelta(days=day), dt.time(10), dt.UTC))
        db.session.commit()

        ids = {c: i for c, i in db.session.execute(select(Customer.code, Customer.id).where(Customer.code.in_(codes)))}
        bills = {}
        for cid, issued, due, amount in db.session.execute(
                select(Bill.customer_id, Bill.issued_on, Bill.due_on, Bill.amount_fen)
                .where(Bill.customer_id.in_(ids.values()))):
            bills.setdefault(cid, []).append((issued, due, amount))
        entries = db.session.execute(select(LedgerEntry.customer_id, LedgerEntry.effective_on, LedgerEntry.amount_fen)
                                     .where(LedgerEntry.customer_id.in_(ids.values()))).all()
        # Dates before, between and after the bills: each part of the search answers for some of them.
        for day in (START, START + dt.timedelta(days=20), START + dt.timedelta(days=60),
                    START + dt.timedelta(days=100), START + dt.timedelta(days=200)):
            listed = select(Customer.id).where(Customer.code.in_(codes))
            found = {r.customer_id: r.oldest_due_on for r in db.session.execute(positions(day, listed))}
            for code, cid in ids.items():
                balance = sum(a for c, on, a in entries if c == cid and on <= day)
                assert found[cid] == _by_the_rule(bills.get(cid, []), balance, day), (code, day)

    run()
