"""Guarantees: registration, what counts as held, statuses by date, expiry tasks, calling one."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from recovery.approvals.service import decide
from recovery.auth.models import User
from recovery.credit.security import guarantees
from recovery.credit.security.models import Guarantee, SecurityTask
from recovery.credit.security.review import security_review
from recovery.errors import Conflict, Invalid
from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.payments.models import Payment
from recovery.portfolio import service as customers
from recovery.timeutil import today
from tests.credit.security_helpers import one_customer, set_policy, staff

DAY = dt.timedelta(days=1)


def _guarantee(c, *, amount_fen: int = 100_000, until: dt.date | None = None, kind: str = "bank_guarantee",
               reference: str = "LG-001", since: dt.date | None = None) -> Guarantee:
    return guarantees.register(db.session, c, kind=kind, guarantor="中国银行北京分行", reference=reference,
                               amount_fen=amount_fen, valid_from=since or today() - 100 * DAY,
                               valid_until=until or today() + 200 * DAY, created_by="li")


def test_a_registered_guarantee_counts_as_held_security_while_valid(recovery, tmp_path):
    c = one_customer(recovery, tmp_path)
    _guarantee(c, amount_fen=100_000)
    _guarantee(c, amount_fen=50_000, reference="LG-OLD", since=today() - 400 * DAY, until=today() - DAY)
    _guarantee(c, amount_fen=70_000, reference="LG-LATER", since=today() + 10 * DAY)
    assert guarantees.held_guarantees(db.session, today(), [c.id]).to_dict() == {c.id: 100_000}


def test_each_kind_counts_at_the_policys_percentage(app, recovery, tmp_path):
    c = one_customer(recovery, tmp_path)
    set_policy(app, {"guarantee": {"count_percent": {"mortgage": 70}}})
    _guarantee(c, amount_fen=100_000, kind="mortgage")
    _guarantee(c, amount_fen=10_000, kind="surety", reference="S-1")
    assert guarantees.held_guarantees(db.session, today(), [c.id]).to_dict() == {c.id: 80_000}


def test_a_guarantee_is_refused_without_guarantor_dates_or_a_known_kind(recovery, tmp_path):
    c = one_customer(recovery, tmp_path)
    with pytest.raises(Invalid, match="kind must be one of"):
        _guarantee(c, kind="promise")
    with pytest.raises(Invalid, match="before valid_from"):
        _guarantee(c, since=today(), until=today() - DAY)
    _guarantee(c)
    with pytest.raises(Conflict, match="already recorded"):
        _guarantee(c)


def test_guarantee_status_moves_from_active_to_expiring_to_expired_by_date(recovery, tmp_path):
    c = one_customer(recovery, tmp_path)
    g = _guarantee(c, until=today() + 40 * DAY)
    db.session.commit()
    assert g.status == "active"
    assert guarantees.refresh_statuses(db.session, today()) == {"expired": 0, "expiring": 0}
    assert guarantees.refresh_statuses(db.session, today() + 10 * DAY) == {"expired": 0, "expiring": 1}
    db.session.refresh(g)
    assert g.status == "expiring"
    assert guarantees.refresh_statuses(db.session, today() + 41 * DAY) == {"expired": 1, "expiring": 0}
    db.session.refresh(g)
    assert g.status == "expired"
    assert guarantees.held_guarantees(db.session, today(), [c.id]).empty  # an expired one no longer counts


def test_expiry_task_goes_to_the_grids_officer_the_notice_days_before_and_only_once(recovery, tmp_path):
    c = one_customer(recovery, tmp_path)
    staff()
    g = _guarantee(c, until=today() + 45 * DAY)
    db.session.commit()
    assert security_review(db.session, today())["tasks_raised"] == 0  # 45 days ahead: not yet (notice 30)
    assert security_review(db.session, today() + 15 * DAY)["tasks_raised"] == 1
    assert security_review(db.session, today() + 15 * DAY)["tasks_raised"] == 0  # a rerun of the night
    assert security_review(db.session, today() + 16 * DAY)["tasks_raised"] == 0  # the next night
    db.session.commit()
    [task] = db.session.scalars(select(SecurityTask)).all()
    officer = db.session.scalar(select(User.id).where(User.username == "li"))
    assert (task.kind, task.guarantee_id, task.due_on, task.officer_id, task.status) == (
        "guarantee_expiry", g.id, g.valid_until, officer, "open")
    assert [t.id for t in guarantees.open_tasks(db.session, c)] == [task.id]


def test_calling_a_guarantee_posts_the_recovered_amount_to_the_ledger(recovery, tmp_path):
    c = one_customer(recovery, tmp_path, amounts=["300.00"] * 2, last_issued=today() - 40 * DAY)
    g = _guarantee(c, amount_fen=100_000)
    db.session.commit()
    req = guarantees.propose_call(db.session, g, requested_by="li", reason="arrears unpaid for two months")
    assert req.payload == {"amount_fen": 60_000}  # the arrears, not the whole guarantee
    decide(db.session, req.id, approve=True, decided_by="zhao", role="supervisor")
    db.session.commit()
    db.session.refresh(g)
    payment = db.session.get(Payment, g.payment_id)
    assert (g.status, g.called_fen) == ("called", 60_000)
    assert (payment.channel, payment.channel_account, payment.channel_ref, payment.amount_fen, payment.state) == (
        "guarantee", "GUARANTEE", f"G{g.id}", 60_000, "settled")
    assert db.session.scalar(select(LedgerEntry.amount_fen).where(LedgerEntry.payment_id == payment.id)) == -60_000
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.customer_id == c.id)) == 0
    assert all(b["paid_fen"] == b["amount_fen"] for b in customers.bills(db.session, c))


def test_a_guarantee_is_called_only_once(recovery, tmp_path):
    c = one_customer(recovery, tmp_path, amounts=["300.00"] * 2, last_issued=today() - 40 * DAY)
    g = _guarantee(c)
    first = guarantees.propose_call(db.session, g, requested_by="li", reason="arrears", amount_fen=10_000)
    decide(db.session, first.id, approve=True, decided_by="zhao", role="supervisor")
    db.session.commit()
    with pytest.raises(Conflict, match="can no longer be called"):
        guarantees.propose_call(db.session, g, requested_by="li", reason="again")
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_an_expired_guarantee_cannot_be_called(recovery, tmp_path):
    c = one_customer(recovery, tmp_path, amounts=["300.00"], last_issued=today() - 40 * DAY)
    g = _guarantee(c, since=today() - 400 * DAY, until=today() - DAY)
    assert g.status == "expired"
    with pytest.raises(Conflict, match="can no longer be called"):
        guarantees.propose_call(db.session, g, requested_by="li", reason="arrears")


def test_a_released_guarantee_no_longer_counts(recovery, tmp_path):
    c = one_customer(recovery, tmp_path)
    g = _guarantee(c)
    guarantees.release(db.session, g, released_by="li", reason="customer closed the account")
    assert g.status == "released"
    assert guarantees.held_guarantees(db.session, today(), [c.id]).empty


def test_an_expiry_task_is_closed_once_its_guarantee_is_handed_back(recovery, tmp_path):
    c = one_customer(recovery, tmp_path)
    staff()
    g = _guarantee(c, until=today() + 10 * DAY)
    security_review(db.session, today())
    guarantees.release(db.session, g, released_by="li", reason="replaced by a new letter")
    assert security_review(db.session, today())["tasks_closed"] == 1
    assert guarantees.open_tasks(db.session, c) == []


def test_guarantees_on_the_command_line(recovery, tmp_path):
    import json

    one_customer(recovery, tmp_path)
    until = (today() + 300 * DAY).isoformat()
    added = recovery("credit", "guarantee", "add", "C1", "--kind", "pledge", "--guarantor", "东方集团", "--reference",
                     "PL-7", "--amount", "1200.50", "--from", today().isoformat(), "--until", until)
    assert added.exit_code == 0, added.output
    [listed] = json.loads(recovery("credit", "guarantee", "list", "C1").output)
    assert (listed["kind"], listed["amount"], listed["status"]) == ("pledge", "1200.50", "active")
    bad = recovery("credit", "guarantee", "add", "C1", "--kind", "pledge", "--guarantor", "x", "--reference",
                   "PL-8", "--amount", "1.234", "--from", today().isoformat(), "--until", until)
    assert bad.exit_code != 0 and "yuan amount" in bad.output
    assert recovery("credit", "guarantee", "release", str(listed["guarantee_id"]), "--reason", "repaid").exit_code == 0
    assert json.loads(recovery("credit", "guarantee", "list", "C1").output)[0]["status"] == "released"
