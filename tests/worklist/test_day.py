"""The officer's day: one row per customer within the day's capacity, carried rows aged up, progress, the
supervisor's view of each officer's load and of early warnings called back with their cause."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from recovery import policy
from recovery.collections.models import Visit, WorkItem
from recovery.extensions import db
from recovery.worklist import day as workday
from tests.worklist.helpers import customer, day, ids, load, officers, sign_in

# (customer, kind, reason, expected recoverable in fen, days since it fell due)
ITEMS = [
    ("C1", "call", "segment_call", 50_000, 0),
    ("C1", "promise_followup", "promise_due", 80_000, 0),
    ("C2", "visit", "segment_visit", 60_000, 0),
    ("C3", "call", "early_warning_drop", 30_000, 0),
    ("C4", "call", "segment_call", 20_000, 12),  # carried 12 days: ranks 20,000 x (1 + 0.05 x 12) = 32,000
    ("C5", "call", "segment_call", 10_000, 0),
]


@pytest.fixture
def li_day(app, recovery, tmp_path):
    """Five customers of officer li with the items above; a day of two calls, one visit and two hours."""
    load(recovery, tmp_path, customers=[customer(f"C{n}", "G1") for n in range(1, 6)])
    officers(("li", "officer", ["G1"]), ("zhao", "supervisor", []))
    cid = ids()
    for code, kind, reason, fen, age in ITEMS:
        db.session.add(WorkItem(customer_id=cid[code], due_on=day(-age), kind=kind, reason=reason, priority_fen=fen,
                                assigned_to="li", status="open"))
    db.session.commit()
    app.config["POLICY_IN_FORCE"] = {**app.config["POLICY_IN_FORCE"], "worklist": policy.section(
        "worklist", {"worklist": {"capacity": {"calls": 2, "visits": 1, "hours": "2"}}})}
    return cid


def _rows(html: str) -> list[str]:
    table = html.split('class="cards worklist"')[1].split("</table>")[0]
    return re.findall(r'<tr data-customer="([^"]+)"', table)


def _progress(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-progress="(\w+)"><strong>(\d+)</strong>', html)}


def test_the_day_holds_one_row_per_customer_within_capacity_and_carries_the_rest(client, li_day):
    sign_in(client, "li")
    html = client.get("/worklist?lang=en").get_data(as_text=True)
    # Ranked 80,000 (C1) > 60,000 (C2, a visit) > 32,000 (C4, aged) > 30,000 (C3) > 10,000 (C5); two calls
    # and one visit fit the day, so C3 and C5 are carried.
    assert _rows(html) == ["C1", "C2", "C4"]
    assert _progress(html) == {"done": 0, "left": 3, "carried": 2}
    c1 = html.split('data-customer="C1"')[1].split("</tr>")[0]
    assert "Promise to pay falls due today" in c1 and "Regular call for the customer&#39;s segment" in c1
    assert 'data-customer="C2" data-action="visit"' in html and 'data-customer="C1" data-action="call"' in html
    assert "waiting 12 days" in html.split('data-customer="C4"')[1].split("</tr>")[0]
    assert "2 calls, 1 visits, 2 hours" in html


def test_a_done_row_closes_every_reason_logs_one_call_and_uses_the_days_capacity(client, li_day):
    sign_in(client, "li")
    assert client.post("/worklist/customers/C1/done", data={"outcome": "promised"}).status_code == 302
    db.session.expire_all()
    items = db.session.scalars(select(WorkItem).where(WorkItem.customer_id == li_day["C1"])).all()
    assert {(i.status, i.outcome, i.done_by) for i in items} == {("done", "promised", "li")}
    visits = db.session.scalars(select(Visit).where(Visit.customer_id == li_day["C1"])).all()
    assert [(v.kind, v.outcome) for v in visits] == [("call", "promised")]
    html = client.get("/worklist?lang=en").get_data(as_text=True)
    # One call is spent: C2's visit and one more call (C4) fit; C3 and C5 stay carried.
    assert _rows(html) == ["C2", "C4"]
    assert _progress(html) == {"done": 1, "left": 2, "carried": 2}


def test_an_early_warning_called_back_records_its_cause_and_the_supervisor_sees_the_follow_up(client, li_day):
    sign_in(client, "li")
    client.post("/worklist/customers/C3/done", data={"outcome": "contacted"})
    db.session.expire_all()
    warning = db.session.scalar(select(WorkItem).where(WorkItem.customer_id == li_day["C3"]))
    assert warning.status == "open"  # refused: a customer reached, and no cause
    assert client.post("/worklist/customers/C3/done", data={"outcome": "contacted", "cause": "vacant"}
                       ).status_code == 302
    db.session.expire_all()
    assert (warning.status, warning.cause) == ("done", "vacant")
    client.post("/logout")

    sign_in(client, "zhao")
    html = client.get("/worklist?lang=en").get_data(as_text=True)
    load_row = html.split('class="cards team-load"')[1].split('data-officer="li"')[1].split("</tr>")[0]
    # After C3's call li has one call and the visit left: C1 and C2 fit; C4 and C5 are carried; C4's item is
    # 12 days overdue.
    assert re.search(r'data-field="today">2<', load_row) and re.search(r'data-field="done">1<', load_row)
    assert re.search(r'data-field="carried">2<', load_row) and re.search(r'data-field="overdue">1<', load_row)
    follow = html.split('class="cards warnings-follow-up"')[1].split("</table>")[0]
    assert re.search(r'data-field="raised">1<.*data-field="called-back">1 \(100%\)<.*'
                     r'data-field="cause-recorded">1<.*data-field="open">0<', follow, re.S)
    assert workday.team(db.session, db.session.scalar(select(workday.User).filter_by(username="zhao")),
                        day())["warnings"][0]["cause_recorded"] == 1
