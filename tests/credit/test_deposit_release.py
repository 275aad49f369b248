"""Release of deposits after good behaviour (proposed nightly, once) and optional deposit interest."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from recovery.approvals.models import ApprovalRequest
from recovery.approvals.service import decide
from recovery.credit.security import deposits
from recovery.credit.security.models import Deposit, DepositEntry
from recovery.extensions import db
from recovery.timeutil import today
from tests.credit.security_helpers import cust, load_customers, monthly_bills, rate, set_policy
from tests.factories import bill, customer, payment

ON_TIME, LATE, NEXT_MONTH = "on_time", "late", "next_month"


def _history(recovery, tmp_path, *, late: int = 0, next_month: int = 0, held_years_ago: int = 3,
             code: str = "C1") -> Deposit:
    """36 monthly bills of 100.00, each paid by one payment: on time (the 10th), late within its month
    (the 26th, after the 23rd it fell due) or in the next month (the 5th); a deposit received
    `held_years_ago` years and ten days ago."""
    bills = monthly_bills(code, ["100.00"] * 36)
    kinds = [ON_TIME] * 36
    for i in range(late):
        kinds[-2 - 2 * i] = LATE
    for i in range(next_month):
        kinds[-3 - 2 * i] = NEXT_MONTH
    pays = []
    for b, kind in zip(bills, kinds, strict=True):
        issued = dt.date.fromisoformat(b["issued_on"])
        paid = {ON_TIME: issued.replace(day=10), LATE: issued.replace(day=26),
                NEXT_MONTH: deposits.months_before(issued, -1).replace(day=5)}[kind]
        pays.append(payment(f"P-{b['bill_id']}", code, "100.00", paid_at=f"{paid.isoformat()}T10:00:00+08:00"))
    load_customers(recovery, tmp_path, customer(code, opened_on="2020-01-01"), bills=bills, payments=pays)
    c = cust(code)
    received = deposits.months_before(today(), 12 * held_years_ago) - dt.timedelta(days=10)
    deposits.receive(db.session, c, amount_fen=100_000, reference=f"R-{code}", received_by="li",
                     received_on=received)
    db.session.commit()
    return db.session.scalar(select(Deposit).where(Deposit.customer_id == c.id))


def _release_requests() -> list[ApprovalRequest]:
    return list(db.session.scalars(select(ApprovalRequest).where(ApprovalRequest.kind == "deposit.release")))


def test_deposit_held_three_years_with_at_most_three_late_payments_is_proposed_for_release_once(recovery, tmp_path):
    d = _history(recovery, tmp_path, late=3)
    assert deposits.propose_releases(db.session, today())["proposed"] == 1
    db.session.commit()
    # The job again (a rerun of the night, or the next night): never a second proposal.
    assert deposits.propose_releases(db.session, today())["proposed"] == 0
    assert deposits.propose_releases(db.session, today() + dt.timedelta(days=1))["proposed"] == 0
    [req] = _release_requests()
    assert (req.subject_id, req.payload, req.requested_by) == (str(d.id), {"amount_fen": 100_000},
                                                               deposits.RELEASE_ACTOR)


def test_deposit_release_job_runs_through_the_job_table(recovery, tmp_path):
    _history(recovery, tmp_path)
    result = recovery("jobs", "run", "credit.deposit_release", "--date", today().isoformat())
    assert result.exit_code == 0, result.output
    assert len(_release_requests()) == 1


def test_four_late_payments_keep_the_deposit(recovery, tmp_path):
    _history(recovery, tmp_path, late=4)
    assert deposits.propose_releases(db.session, today())["proposed"] == 0


def test_a_payment_slipping_into_the_next_month_keeps_the_deposit(recovery, tmp_path):
    _history(recovery, tmp_path, next_month=1)
    assert deposits.propose_releases(db.session, today())["proposed"] == 0


def test_a_bill_still_unpaid_past_its_month_keeps_the_deposit(recovery, tmp_path):
    _history(recovery, tmp_path)
    c = cust("C1")
    issued = deposits.months_before(today(), 2).replace(day=1)
    load_customers(recovery, tmp_path, bills=[bill("C1-EXTRA", "C1", "80.00", f"{issued:%Y-%m}", issued.isoformat(),
                                                   (issued + dt.timedelta(days=10)).isoformat())])
    assert deposits.behaviour(db.session, [c.id], deposits.months_before(today(), 36), today()).loc[
        c.id, "into_next_month"] >= 1  # the payments settle the oldest bills first: the unpaid part moves on
    assert deposits.propose_releases(db.session, today())["proposed"] == 0


def test_a_deposit_held_less_than_three_years_is_kept(recovery, tmp_path):
    _history(recovery, tmp_path, held_years_ago=2)
    assert deposits.propose_releases(db.session, today())["proposed"] == 0


def test_release_rules_come_from_the_policy(app, recovery, tmp_path):
    _history(recovery, tmp_path, held_years_ago=2, late=4)
    set_policy(app, {"deposit": {"release_after_years": 2, "release_max_late": 5}})
    assert deposits.propose_releases(db.session, today())["proposed"] == 1


def test_a_customer_whose_grade_requires_security_keeps_the_deposit(recovery, tmp_path):
    d = _history(recovery, tmp_path)
    rate(d.customer_id, "C")
    assert deposits.propose_releases(db.session, today())["proposed"] == 0


def test_a_rejected_release_is_not_proposed_again(recovery, tmp_path):
    _history(recovery, tmp_path)
    deposits.propose_releases(db.session, today())
    [req] = _release_requests()
    decide(db.session, req.id, approve=False, decided_by="zhao", role="supervisor")
    db.session.commit()
    assert deposits.propose_releases(db.session, today() + dt.timedelta(days=1))["proposed"] == 0


def test_an_approved_release_returns_everything_held(recovery, tmp_path):
    d = _history(recovery, tmp_path)
    deposits.propose_releases(db.session, today())
    [req] = _release_requests()
    decide(db.session, req.id, approve=True, decided_by="zhao", role="supervisor")
    db.session.commit()
    db.session.refresh(d)
    released = db.session.scalar(select(DepositEntry).where(DepositEntry.kind == "released"))
    assert (d.held_fen, d.status, released.amount_fen) == (0, "closed", -100_000)


# ---------------------------------------------------------------- interest


def test_deposit_interest_is_off_by_default(recovery, tmp_path):
    _history(recovery, tmp_path)
    assert deposits.accrue_interest(db.session, today()) == {"entries": 0}


def test_deposit_interest_accrues_once_per_month_at_the_policy_rate(app, recovery, tmp_path):
    d = _history(recovery, tmp_path, held_years_ago=1)
    set_policy(app, {"deposit": {"interest_rate_percent": "3.65"}})
    day = today().replace(day=1) + dt.timedelta(days=4)
    assert deposits.accrue_interest(db.session, day)["entries"] == 1
    assert deposits.accrue_interest(db.session, day + dt.timedelta(days=1))["entries"] == 0  # same month again
    db.session.commit()
    interest = db.session.scalar(select(DepositEntry).where(DepositEntry.kind == "interest"))
    # 1,000.00 x 3.65% / 12 = 3.0416.. -> 3.04 yuan, booked on the month's last day.
    assert (interest.amount_fen, interest.effective_on) == (304, today().replace(day=1) - dt.timedelta(days=1))
    db.session.refresh(d)
    assert d.held_fen == 100_304 == db.session.scalar(select(func.sum(DepositEntry.amount_fen)).where(
        DepositEntry.deposit_id == d.id, DepositEntry.kind != "requested"))
