"""The nightly build: early warnings, promise and plan follow-ups, contacts by segment frequency, the order
by expected recoverable amount, and reruns that add nothing."""

from __future__ import annotations

from sqlalchemy import select

from recovery.collections.models import PayPlan, PayPlanInstallment, PromiseStatus, Visit, WorkItem
from recovery.credit.models import CreditRating
from recovery.extensions import db
from recovery.timeutil import now
from recovery.worklist import build, coverage, segments
from tests.worklist.helpers import customer, day, ids, load, monthly_bills, officers, payment, promise, score


def _items(**where) -> dict[tuple[str, str], WorkItem]:
    codes = {v: k for k, v in ids().items()}
    return {(codes[w.customer_id], w.reason): w for w in db.session.scalars(select(WorkItem).filter_by(**where))}


def test_zero_and_sharply_dropped_consumption_put_a_call_on_the_next_mornings_list(recovery, tmp_path):
    history = [("100.00", "200")] * 4
    load(recovery, tmp_path, customers=[customer(c, "G1") for c in ("ZERO", "DROP", "STEADY", "VACANT")],
         bills=[*monthly_bills("ZERO", [*history, ("0.00", "0")]),
                *monthly_bills("DROP", [*history, ("40.00", "80")]),
                *monthly_bills("STEADY", [*history, ("90.00", "180")]),
                *monthly_bills("VACANT", [("0.00", "0")] * 5)])
    segments.refresh(db.session, day())

    summary = build.build(db.session, day())

    items = {k: w for k, w in _items().items() if k[1].startswith("early_warning")}
    assert set(items) == {("ZERO", "early_warning_zero_consumption"), ("DROP", "early_warning_drop")}
    assert {w.kind for w in items.values()} == {"call"}
    # The expected loss: the monthly bill (average of the last 12 months) x the assumed probability (10 %).
    assert items["DROP", "early_warning_drop"].priority_fen == (4 * 10_000 + 4_000) // 5 // 10
    assert summary["early_warning_zero_consumption"] == 1 and summary["early_warning_drop"] == 1
    # The next night the same bill raises nothing again.
    tomorrow = build.build(db.session, day(1))
    assert tomorrow["early_warning_zero_consumption"] == tomorrow["early_warning_drop"] == 0


def test_first_late_payment_by_a_good_customer_puts_a_call_on_the_list(recovery, tmp_path):
    # Each customer's latest bill fell due yesterday and is unpaid; their previous bill fell due ~30 days ago.
    bills = {c: monthly_bills(c, [("100.00", "200"), ("100.00", "200")], last_issued=-16)
             for c in ("RATED_A", "CLEAN", "WAS_LATE")}
    load(recovery, tmp_path, customers=[customer(c, "G1") for c in bills],
         bills=[b for rows in bills.values() for b in rows],
         payments=[payment(f"P-{c}", c, "100.00", paid_at=f"{bills[c][0]['due_on']}T10:00:00+08:00")
                   for c in ("RATED_A", "CLEAN")]
         # WAS_LATE paid its previous bill five days after its due date.
         + [payment("P-LATE", "WAS_LATE", "100.00", paid_at=f"{day(-26).isoformat()}T10:00:00+08:00")])
    cid = ids()
    db.session.add(CreditRating(customer_id=cid["WAS_LATE"], rated_on=day(-2), points=70, points_grade="B",
                                grade="B", cash_only=False, upgrade_blocked=False, reasons={}))
    db.session.add(CreditRating(customer_id=cid["RATED_A"], rated_on=day(-2), points=95, points_grade="A",
                                grade="A", cash_only=False, upgrade_blocked=False, reasons={}))
    score(cid["CLEAN"], 0.25)
    segments.refresh(db.session, day())

    build.build(db.session, day())

    items = _items(reason="early_warning_first_late")
    assert set(items) == {("RATED_A", "early_warning_first_late"), ("CLEAN", "early_warning_first_late")}
    assert items["CLEAN", "early_warning_first_late"].priority_fen == 10_000 * 25 // 100  # unpaid x pd
    assert items["CLEAN", "early_warning_first_late"].source_type == "bill"


def test_promise_due_today_appears_and_is_dismissed_when_kept_and_a_rerun_builds_nothing_new(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1", "G1")],
         bills=monthly_bills("C1", [("500.00", "300")], last_issued=-40))
    officers(("li", "officer", ["G1"]))
    segments.refresh(db.session, day())
    coverage.assign(db.session, day())
    p = promise(ids()["C1"], 30_000, day())

    first = build.build(db.session, day())

    item = _items()["C1", "promise_due"]
    assert (item.kind, item.status, item.priority_fen, item.assigned_to) == ("promise_followup", "open", 30_000, "li")
    assert (item.source_type, item.source_id) == ("promise", p.id)
    assert first["promise_due"] == 1
    again = build.build(db.session, day())
    assert again["created"] == 0 and again["dismissed"] == 0
    assert db.session.scalar(select(WorkItem.id).where(WorkItem.reason == "promise_due").offset(1)) is None

    p.status = PromiseStatus.kept  # as the promises job finds it
    db.session.flush()
    build.build(db.session, day())

    db.session.expire_all()
    assert db.session.get(WorkItem, item.id).status == "dismissed"


def test_items_are_ordered_by_expected_recoverable_amount(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer(c, "G1") for c in ("OWES", "PROMISED", "PLAN", "HIGH")],
         bills=[*monthly_bills("OWES", [("1000.00", "300")], last_issued=-60),
                *monthly_bills("PROMISED", [("50.00", "100")], last_issued=-60),
                *monthly_bills("PLAN", [("80.00", "100")], last_issued=-60),
                *monthly_bills("HIGH", [("20.00", "10")], last_issued=-60)])
    officers(("li", "officer", ["G1"]))
    cid = ids()
    score(cid["OWES"], 0.2)
    promise(cid["PROMISED"], 5_000, day())
    plan = PayPlan(customer_id=cid["PLAN"], total_fen=8_000, created_on=day(-10), created_by="li")
    db.session.add(plan)
    db.session.flush()
    db.session.add_all([PayPlanInstallment(plan_id=plan.id, seq=1, due_on=day(), amount_fen=3_000),
                        PayPlanInstallment(plan_id=plan.id, seq=2, due_on=day(30), amount_fen=5_000)])
    # HIGH was called yesterday and asked to be visited today: an officer's scheduled follow-up.
    db.session.add(Visit(customer_id=cid["HIGH"], kind="visit", officer="li", visited_at=now(), outcome="contacted",
                         next_on=day()))
    segments.refresh(db.session, day())

    build.build(db.session, day())

    from recovery.auth.models import User
    from recovery.worklist.service import worklist

    li = db.session.scalar(select(User).where(User.username == "li"))
    listed = [(i["customer_id"], i["reason"], i["priority_fen"]) for i in worklist(db.session, li, day())["open"]]
    # OWES: 1,000 overdue x (1 - 0.2); a call and a visit by its segment's frequency (high-value, in arrears).
    assert set(listed[:2]) == {("OWES", "segment_call", 80_000), ("OWES", "segment_visit", 80_000)}
    assert ("PROMISED", "promise_due", 5_000) in listed and ("PLAN", "plan_due", 3_000) in listed
    assert ("HIGH", "follow_up", 1_800) in listed  # 20.00 overdue x (1 - 0.10)
    assert [p for _, _, p in listed] == sorted((p for _, _, p in listed), reverse=True)
