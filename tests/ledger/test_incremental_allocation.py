"""A payment posted through the channels is allocated incrementally (from what is left of the customer's open
items); after any sequence of bills, postings (in time order or backdated), reversals and penalty accruals,
under every allocation order, the stored allocations are exactly what the sequential reference
(recovery.ledger.fifo.allocate_rows, which walks every payment over every item) gives from scratch."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, func, select, update

from recovery import policy
from recovery.billing import penalties
from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.ledger.fifo import allocate_rows
from recovery.ledger.models import Allocation, EntryKind, LedgerEntry, PenaltyAllocation
from recovery.money import format_yuan
from recovery.payments import posting, reversals
from recovery.payments.models import Channel, Payment, PaymentState
from recovery.timeutil import start_of_day
from tests.factories import bill, customer, load

START = dt.date(2026, 1, 1)
OPS = st.lists(st.one_of(
    st.tuples(st.just("bill"), st.integers(1, 50_000), st.integers(0, 120)),  # amount, due day after START
    st.tuples(st.just("pay"), st.integers(1, 60_000), st.integers(0, 200)),  # amount, paid day after START
    st.tuples(st.just("reverse"), st.integers(0, 20), st.just(0)),  # which earlier payment
    st.tuples(st.just("penalty"), st.integers(20, 200), st.just(0)),  # accrual day after START
), min_size=2, max_size=10)


def _reference(cid: int, order: str) -> set[tuple]:
    """What allocating from scratch gives: the sequential walk over the customer's rows."""
    bills = [(b.id, cid, b.amount_fen, b.due_on, b.issued_on, start_of_day(b.issued_on))
             for b in db.session.scalars(select(Bill).where(Bill.customer_id == cid))]
    grace = policy.section("penalty")["grace_days"]
    totals = db.session.execute(
        select(Bill.id, func.sum(LedgerEntry.amount_fen), Bill.due_on, Bill.issued_on)
        .join(Bill, Bill.id == LedgerEntry.bill_id)
        .where(LedgerEntry.customer_id == cid, LedgerEntry.kind == EntryKind.penalty)
        .group_by(Bill.id, Bill.due_on, Bill.issued_on)).all()
    pens = [(bill_id, cid, int(total), due, issued, start_of_day(due + dt.timedelta(days=grace + 1)))
            for bill_id, total, due, issued in totals if total > 0]
    pays = [(p.id, cid, p.amount_fen, p.paid_at) for p in db.session.scalars(
        select(Payment).where(Payment.customer_id == cid, Payment.state != PaymentState.reversed))]
    return {(kind, p, b, amount, at) for kind, p, b, _c, amount, at in allocate_rows(bills, pens, pays, order)}


def _passing_guard(code: str) -> posting.Guard:
    """A guard whose UPDATE changes one row and nothing else (the customer's phone set to itself)."""
    c = Customer.__table__.c
    return posting.Guard(update(Customer.__table__).where(c.code == bindparam("g_code")).values(phone=c.phone),
                         {"g_code": code}, lambda: pytest.fail("the guard refused"))


def _stored(cid: int) -> set[tuple]:
    out = set()
    for kind, model in (("bill", Allocation), ("penalty", PenaltyAllocation)):
        for p, b, amount, at in db.session.execute(select(model.payment_id, model.bill_id, model.amount_fen,
                                                          model.allocated_at).where(model.customer_id == cid)):
            out.add((kind, p, b, amount, at))
    return out


@pytest.mark.parametrize("order", ["bills_first", "penalties_first", "oldest_first"])
def test_incremental_allocation_equals_the_sequential_reference(app, recovery, tmp_path, order):
    app.config["POLICY_IN_FORCE"] = dict(app.config["POLICY_IN_FORCE"]) | {
        "allocation": policy.section("allocation", {"allocation": {"order": order}})}
    serial = itertools.count()

    @settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(ops=OPS)
    def run(ops) -> None:
        code = f"I{next(serial)}"
        load(recovery, tmp_path, customers=[customer(code)])
        posted: list[int] = []
        for i, (op, a, b) in enumerate(ops):
            if op == "bill":
                due = START + dt.timedelta(days=b)
                load(recovery, tmp_path, bills=[bill(f"{code}-B{i}", code, format_yuan(a), f"{due:%Y-%m}",
                                                     (due - dt.timedelta(days=15)).isoformat(), due.isoformat())])
            elif op == "pay":
                paid = dt.datetime.combine(START + dt.timedelta(days=b), dt.time(10), dt.UTC)
                # Every other payment comes with a channel guard, its allocations then written with the guard.
                posted.append(posting.post_payment(
                    db.session, channel=Channel.bank, channel_account="ICBC", customer_code=code, amount_fen=a,
                    channel_ref=f"{code}-R{i}", paid_at=paid, state=PaymentState.settled,
                    guard=_passing_guard(code) if i % 2 else None).id)
                db.session.commit()
            elif op == "reverse" and posted:
                target = db.session.get(Payment, posted[a % len(posted)])
                if target.state != PaymentState.reversed:
                    reversals.reverse_payment(db.session, target, "returned by the bank", "AM04", actor="test")
                    db.session.commit()
            elif op == "penalty":
                penalties.accrue(db.session, START + dt.timedelta(days=a), actor="test")
                db.session.commit()
        cid = db.session.scalar(select(Customer.id).where(Customer.code == code))
        assert _stored(cid) == _reference(cid, order)

    run()


def test_a_payment_on_open_bills_is_split_oldest_first_with_the_balance_after_it(app, recovery, tmp_path):
    # Fixed figures: bills of 100.00 (due 02-20) and 80.00 (due 03-20); 150.00 paid settles the first and 50.00
    # of the second; the balance after is 180.00 - 150.00 = 30.00.
    load(recovery, tmp_path, customers=[customer("C1")], bills=[
        bill("B1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20"),
        bill("B2", "C1", "80.00", "2026-02", "2026-03-03", "2026-03-20")])
    done = posting.post_payment(db.session, channel=Channel.bank, channel_account="ICBC", customer_code="C1",
                                amount_fen=15_000, channel_ref="R1", state=PaymentState.settled,
                                paid_at=dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC))
    db.session.commit()
    assert done.allocations == (("B1", 10_000), ("B2", 5_000))
    assert done.balance_fen == 3_000
    answer = posting.payment_answer(db.session, done)
    assert answer["allocations"] == [{"bill_id": "B1", "amount": "100.00"}, {"bill_id": "B2", "amount": "50.00"}]
    assert answer["balance"] == "30.00"
    stored = posting.payment_answer(db.session, db.session.get(Payment, done.id))
    assert stored == answer


def test_what_a_payment_leaves_over_settles_a_penalty_that_starts_later_under_penalties_first(app, recovery,
                                                                                              tmp_path):
    app.config["POLICY_IN_FORCE"] = dict(app.config["POLICY_IN_FORCE"]) | {
        "allocation": policy.section("allocation", {"allocation": {"order": "penalties_first"}})}
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20")])
    # 100.00 unpaid from 02-21 to 03-02, ten days at 0.1%: 1.00 of penalty, accruing from 02-21 00:00 (+08:00).
    penalties.accrue(db.session, dt.date(2026, 3, 2), actor="test")
    db.session.commit()
    # Paid on 02-10, before the penalty started: the bill takes 100.00; 50.00 is a credit, of which the penalty
    # takes its 1.00 the moment it starts.
    done = posting.post_payment(db.session, channel=Channel.bank, channel_account="ICBC", customer_code="C1",
                                amount_fen=15_000, channel_ref="R1", state=PaymentState.settled,
                                paid_at=dt.datetime(2026, 2, 10, 2, tzinfo=dt.UTC))
    db.session.commit()
    bill_id = db.session.scalar(select(Bill.id))
    assert _stored(db.session.scalar(select(Customer.id))) == {
        ("bill", done.id, bill_id, 10_000, dt.datetime(2026, 2, 10, 2, tzinfo=dt.UTC)),
        ("penalty", done.id, bill_id, 100, dt.datetime(2026, 2, 20, 16, tzinfo=dt.UTC)),
    }
    assert done.balance_fen == 10_000 + 100 - 15_000


def test_a_backdated_payment_takes_the_oldest_bill_from_a_later_one(app, recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")], bills=[
        bill("B1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20"),
        bill("B2", "C1", "80.00", "2026-02", "2026-03-03", "2026-03-20")])
    late = posting.post_payment(db.session, channel=Channel.bank, channel_account="ICBC", customer_code="C1",
                                amount_fen=10_000, channel_ref="R1", state=PaymentState.settled,
                                paid_at=dt.datetime(2026, 3, 15, 2, tzinfo=dt.UTC))
    db.session.commit()
    assert late.allocations == (("B1", 10_000),)
    # Made on 03-01 but posted after it: payments settle in the order they were made, so it takes B1 and the
    # later payment moves on to B2.
    early = posting.post_payment(db.session, channel=Channel.bank, channel_account="ICBC", customer_code="C1",
                                 amount_fen=6_000, channel_ref="R2", state=PaymentState.settled,
                                 paid_at=dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC))
    db.session.commit()
    assert early.allocations == (("B1", 6_000),)
    codes = dict(db.session.execute(select(Bill.id, Bill.code)).all())
    rows = db.session.execute(select(Allocation.payment_id, Allocation.bill_id, Allocation.amount_fen)
                              .order_by(Allocation.payment_id, Allocation.bill_id)).all()
    assert [(p, codes[b], a) for p, b, a in rows] == [(late.id, "B1", 4_000), (late.id, "B2", 6_000),
                                                      (early.id, "B1", 6_000)]


@pytest.mark.parametrize("passes", [True, False])
def test_a_guard_goes_with_the_bill_and_penalty_allocations_and_a_refusal_leaves_nothing(app, recovery, tmp_path,
                                                                                         passes):
    app.config["POLICY_IN_FORCE"] = dict(app.config["POLICY_IN_FORCE"]) | {
        "allocation": policy.section("allocation", {"allocation": {"order": "penalties_first"}})}
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20")])
    penalties.accrue(db.session, dt.date(2026, 3, 2), actor="test")  # 1.00 of penalty on B1, as above
    db.session.commit()

    class Refused(Exception):
        pass

    def refuse() -> None:
        raise Refused

    c = Customer.__table__.c
    guard = posting.Guard(update(Customer.__table__).where(c.code == bindparam("g_code")).values(phone=c.phone),
                          {"g_code": "C1" if passes else "NOBODY"}, refuse)
    paid = dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC)  # after the penalty started: it is settled first
    if not passes:
        with pytest.raises(Refused):
            posting.post_payment(db.session, channel=Channel.bank, channel_account="ICBC", customer_code="C1",
                                 amount_fen=15_000, channel_ref="R1", state=PaymentState.settled, paid_at=paid,
                                 guard=guard)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
        assert _stored(db.session.scalar(select(Customer.id))) == set()
        return
    done = posting.post_payment(db.session, channel=Channel.bank, channel_account="ICBC", customer_code="C1",
                                amount_fen=15_000, channel_ref="R1", state=PaymentState.settled, paid_at=paid,
                                guard=guard)
    db.session.commit()
    bill_id = db.session.scalar(select(Bill.id))
    assert _stored(db.session.scalar(select(Customer.id))) == {
        ("penalty", done.id, bill_id, 100, paid), ("bill", done.id, bill_id, 10_000, paid)}
    assert done.allocations == (("B1", 10_000),)
