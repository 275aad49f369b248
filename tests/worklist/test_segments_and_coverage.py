"""Segments by value and risk, and account managers by the coverage rule with a named deputy."""

from __future__ import annotations

from sqlalchemy import select

from recovery.audit.models import AuditEntry
from recovery.auth.models import User
from recovery.extensions import db
from recovery.worklist import coverage, segments
from recovery.worklist.models import AccountManager, CustomerSegment
from tests.worklist.helpers import customer, day, ids, load, monthly_bills, officers, score


def test_segment_shares_top_5_and_next_15_percent_and_risk_bands_from_the_latest_score(recovery, tmp_path):
    # 20 customers whose monthly bills are 100, 200 … 2,000 yuan (two bills each, averaged).
    codes = [f"C{i:02d}" for i in range(1, 21)]
    load(recovery, tmp_path, customers=[customer(c, "G1") for c in codes],
         bills=[b for i, c in enumerate(codes, start=1)
                for b in monthly_bills(c, [(f"{i * 100 - 10}.00", "100"), (f"{i * 100 + 10}.00", "100")])])
    cid = ids()
    score(cid["C01"], 0.55, as_of=day(-30))  # an older run: ignored
    score(cid["C01"], 0.45)
    score(cid["C02"], 0.12)
    score(cid["C03"], 0.02)
    db.session.flush()

    summary = segments.refresh(db.session, day())

    rows = {r.customer_id: r for r in db.session.scalars(select(CustomerSegment))}
    by_code = {c: rows[cid[c]] for c in codes}
    assert [c for c in codes if by_code[c].value_segment == "high_value"] == ["C20"]  # top 5 % of 20
    assert [c for c in codes if by_code[c].value_segment == "potential"] == ["C17", "C18", "C19"]  # next 15 %
    assert sum(r.value_segment == "medium" for r in rows.values()) == 6
    assert sum(r.value_segment == "low" for r in rows.values()) == 10
    assert by_code["C20"].monthly_bill_fen == 200_000 and by_code["C20"].value_rank == 1
    # The segment sets the contact frequencies (policy defaults).
    assert (by_code["C20"].visit_every_days, by_code["C20"].call_every_days) == (30, 14)
    assert (by_code["C01"].visit_every_days, by_code["C01"].call_every_days) == (None, 30)
    assert [by_code[c].risk_segment for c in ("C01", "C02", "C03", "C04")] == ["high", "medium", "low", "unscored"]
    assert summary["value_high_value"] == 1 and summary["risk_unscored"] == 17


def test_one_manager_per_high_value_customer_a_deputy_each_and_no_orphan_when_a_manager_leaves(recovery, tmp_path):
    codes = [f"C{i:02d}" for i in range(1, 11)]
    load(recovery, tmp_path, customers=[customer(c, "G1") for c in codes],
         bills=[b for i, c in enumerate(codes, start=1) for b in monthly_bills(c, [(f"{i * 100}.00", "100")])])
    officers(("ann", "officer", ["G1"]), ("bo", "officer", ["G1"]), ("cy", "officer", ["G1"]),
             ("zhao", "supervisor", []))
    segments.refresh(db.session, day())
    assert coverage.orphans(db.session)  # nobody assigned yet

    summary = coverage.assign(db.session, day(), "G1", actor="zhao")

    assert summary["assigned"] == 10 and summary["orphans"] == 0
    rows = {r.customer_id: r for r in db.session.scalars(select(AccountManager))}
    users = dict(db.session.execute(select(User.id, User.username)).all())
    cid = ids()
    top = rows[cid["C10"]]  # the high-value customer has a manager of its own
    assert sum(r.manager_id == top.manager_id for r in rows.values()) == 1
    second = rows[cid["C09"]]  # the potential customer goes to another officer
    assert second.manager_id != top.manager_id
    assert all(r.deputy_id is not None and r.deputy_id != r.manager_id for r in rows.values())
    loads = {m["manager"]: m for m in coverage.loads(db.session)}
    assert loads[users[top.manager_id]]["load"] == 1.0 and loads[users[top.manager_id]]["high_value"] == 1

    # The manager of the top customer leaves: the deputy covers at once, and takes over on the next run.
    manager, deputy = db.session.get(User, top.manager_id), db.session.get(User, top.deputy_id)
    manager.active = False
    db.session.flush()
    assert coverage.orphans(db.session) == []
    assert coverage.manager_of(db.session, _customer("C10"))["assignee"] == deputy.username

    again = coverage.assign(db.session, day(), actor="zhao")

    assert again["took_over"] == 1 and again["orphans"] == 0
    db.session.expire_all()
    row = db.session.get(AccountManager, cid["C10"])
    assert row.manager_id == deputy.id and row.deputy_id not in (None, deputy.id, manager.id)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "worklist.assign")
                             .order_by(AuditEntry.id.desc())).details["took_over_customers"] == ["C10"]
    assert coverage.assign(db.session, day())["assigned"] == 0  # nothing left to assign


def _customer(code):
    from recovery.customers.models import Customer

    return db.session.scalar(select(Customer).where(Customer.code == code))
