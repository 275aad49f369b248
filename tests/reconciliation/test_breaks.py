"""Working the breaks on both databases: assign, resolve by link / correcting entry / acceptance, suspense
credits posted to a customer; resolutions survive reruns, and are audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from recovery.audit.models import AuditEntry
from recovery.errors import Conflict, Invalid
from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.payments.models import Payment
from recovery.reconcile import breaks
from recovery.reconcile.models import ReconBreak, SuspenseItem
from tests.factories import customer, load, payment, write_csv
from tests.reconciliation.test_intake import MT940, use_accounts

DAY = "2026-11-22"


@pytest.fixture
def agent_day(recovery, tmp_path):
    """AG01's day: R1 agrees, R2 differs in amount, R3 is not on the statement, R4 is not in the ledger."""
    load(recovery, tmp_path, customers=[customer(f"C{i}") for i in range(1, 6)],
         payments=[payment(f"R{i}", f"C{i}", f"{i}00.00", f"{DAY}T1{i}:00:00+08:00", channel="agent", account="AG01")
                   for i in (1, 2, 3)] + [
             payment("OTHER-REF", "C4", "400.00", f"{DAY}T15:00:00+08:00", channel="agent", account="AG01")])
    statement = write_csv(tmp_path / "ag01.csv", ["channel_ref", "customer_id", "amount", "paid_at"], [
        {"channel_ref": "R1", "customer_id": "C1", "amount": "100.00", "paid_at": f"{DAY}T11:00:30+08:00"},
        {"channel_ref": "R2", "customer_id": "C2", "amount": "250.00", "paid_at": f"{DAY}T12:00:30+08:00"},
        {"channel_ref": "R4", "customer_id": "C4", "amount": "400.00", "paid_at": f"{DAY}T05:00:00+08:00"},
    ])
    result = recovery("reconcile", "run", "--date", DAY, "--channel", "agent", "--statement", statement,
                      "--format", "csv", "--account", "AG01")
    assert result.exit_code == 0, result.output
    return {b.kind: b.id for b in db.session.scalars(select(ReconBreak))}


def _rerun(recovery):
    result = recovery("reconcile", "run", "--date", DAY, "--channel", "agent")
    assert result.exit_code == 0, result.output
    db.session.expire_all()


def test_the_fixture_day_has_one_break_of_each_shape(agent_day):
    assert set(agent_day) == {"amount_mismatch", "missing_in_statement", "missing_in_ledger"}


def test_assign_then_accept_with_a_reason_is_audited_and_survives_a_rerun(session, recovery, agent_day):
    bid = agent_day["missing_in_statement"]
    breaks.assign(session, bid, to="clerk2", by="clerk1")
    with pytest.raises(Invalid, match="reason"):
        breaks.resolve_accept(session, bid, by="clerk2", reason=" ")
    b = breaks.resolve_accept(session, bid, by="clerk2", reason="agent confirmed the payment is on tomorrow's list")
    session.commit()
    assert (b.status, b.resolution, b.resolved_by, b.assigned_to) == ("resolved", "accepted", "clerk2", "clerk2")
    with pytest.raises(Conflict, match="already resolved"):
        breaks.resolve_accept(session, bid, by="clerk1", reason="again")
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == str(bid),
                                                              AuditEntry.subject_type == "recon_break")).all()
    assert actions == ["reconcile.break.assign", "reconcile.break.accept"]
    _rerun(recovery)
    again = session.get(ReconBreak, bid)
    assert (again.status, again.resolution) == ("resolved", "accepted")


def test_a_correcting_entry_is_a_new_adjustment_pointing_at_the_payments_entry(session, recovery, agent_day):
    bid = agent_day["amount_mismatch"]
    b = breaks.resolve_adjust(session, bid, by="clerk1", note="the agent collected 250.00")
    session.commit()
    entry = session.get(LedgerEntry, b.adjustment_entry_id)
    paid = session.scalar(select(LedgerEntry).where(LedgerEntry.payment_id == b.payment_id,
                                                    LedgerEntry.kind == "payment"))
    assert (entry.kind, entry.amount_fen, entry.corrects_id) == ("adjustment", -5000, paid.id)
    assert paid.amount_fen == -20000  # the original entry is untouched
    with pytest.raises(Conflict):
        breaks.resolve_adjust(session, bid, by="clerk2", note="twice")
    assert len(session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "adjustment")).all()) == 1
    _rerun(recovery)
    assert session.get(ReconBreak, bid).resolution == "adjusted"


def test_linking_a_payment_resolves_a_line_the_ledger_holds_under_another_reference(session, recovery, agent_day):
    bid = agent_day["missing_in_ledger"]
    code = session.scalar(select(Payment.code).where(Payment.channel_ref == "OTHER-REF"))
    b = breaks.resolve_link(session, bid, code, by="clerk1", note="posted with a mistyped reference")
    session.commit()
    assert (b.status, b.resolution, b.linked_payment_id) == ("resolved", "linked", session.scalar(
        select(Payment.id).where(Payment.code == code)))
    report = json.loads(recovery("reconcile", "report", "--date", DAY, "--json").stdout)
    [linked] = [x for x in report["channels"][0]["breaks"] if x["kind"] == "missing_in_ledger"]
    assert (linked["ledger_payment_id"], linked["status"]) == (code, "resolved")


def test_assigning_a_suspense_credit_posts_the_payment_and_clears_its_break(app, session, recovery, tmp_path):
    use_accounts(app, {"6222020200112233445": "bank:ICBC01"})
    load(recovery, tmp_path, customers=[customer("C1"), customer("C7"), customer("C9")],
         payments=[payment("PAY-1", "C1", "885.00", f"{DAY}T09:00:00+08:00", account="ICBC01"),
                   payment("PAY-2", "C7", "120.50", f"{DAY}T10:00:00+08:00", account="ICBC01")])
    file = tmp_path / "icbc.sta"
    file.write_text(MT940, encoding="utf-8")
    assert recovery("reconcile", "run", "--date", DAY, "--statement", file, "--format", "mt940").exit_code == 0
    [item] = breaks.list_suspense(session)
    posted = breaks.assign_suspense(session, item.id, "C9", by="clerk1")
    session.commit()
    assert (posted.channel, posted.channel_account, posted.amount_fen, posted.state) == ("bank", "ICBC01", 30000,
                                                                                         "settled")
    with pytest.raises(Conflict):
        breaks.assign_suspense(session, item.id, "C1", by="clerk2")
    [b] = session.scalars(select(ReconBreak).where(ReconBreak.kind == "missing_in_ledger")).all()
    assert (b.status, b.resolution, b.linked_payment_id) == ("resolved", "posted", posted.id)
    # Rerun: the credit now matches its payment; the resolved break stays as the day's history.
    assert recovery("reconcile", "run", "--date", DAY, "--channel", "bank").exit_code == 0
    report = json.loads(recovery("reconcile", "report", "--date", DAY, "--json").stdout)
    [bank] = report["channels"]
    assert bank["matched"] == 3
    assert [(x["kind"], x["status"]) for x in bank["breaks"]] == [("missing_in_ledger", "resolved")]
    assert session.scalar(select(SuspenseItem.status)) == "assigned"


def test_two_clerks_correcting_one_break_at_once_post_one_entry(live_server, agent_day, monkeypatch):
    import threading
    import urllib.parse
    import urllib.request
    from http.cookiejar import CookieJar

    from recovery.auth.service import create_user
    from tests.web.data import PASSWORD, cheap_password_hashing

    cheap_password_hashing(monkeypatch)
    for name in ("qian", "sun"):
        create_user(db.session, name, role="clerk", password=PASSWORD)
    db.session.commit()
    bid = agent_day["amount_mismatch"]
    barrier = threading.Barrier(2)
    statuses = []

    def clerk(name: str) -> None:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        opener.open(live_server + "/login", data=urllib.parse.urlencode(
            {"username": name, "password": PASSWORD}).encode(), timeout=30)
        barrier.wait()
        with opener.open(live_server + f"/reconcile/breaks/{bid}/adjust",
                         data=urllib.parse.urlencode({"note": f"{name} corrects"}).encode(), timeout=60) as r:
            statuses.append(r.status)

    threads = [threading.Thread(target=clerk, args=(n,)) for n in ("qian", "sun")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert statuses == [200, 200]  # both land back on the list, one with "already resolved"
    db.session.expire_all()
    assert len(db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "adjustment")).all()) == 1
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action == "reconcile.break.adjust")).all()
    assert len(actions) == 1


def test_a_day_whose_breaks_are_all_resolved_is_balanced_and_stays_so_on_rerun(session, recovery, agent_day):
    from recovery.reconcile.models import ReconRun

    for bid in session.scalars(select(ReconBreak.id)).all():
        breaks.resolve_accept(session, bid, by="clerk1", reason="checked with the agent")
    session.commit()
    _rerun(recovery)
    run = session.scalar(select(ReconRun))
    stamp = run.run_at
    assert run.state == "balanced"
    _rerun(recovery)
    assert (session.scalar(select(ReconRun.state)), session.scalar(select(ReconRun.run_at))) == ("balanced", stamp)
