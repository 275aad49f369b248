"""The worklist page and API as officers and supervisors use them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from recovery.collections.models import Visit, WorkItem
from recovery.extensions import db
from recovery.worklist import build, coverage, segments
from tests.worklist.helpers import customer, day, ids, load, monthly_bills, officers, promise, sign_in


@pytest.fixture
def two_grids(recovery, tmp_path):
    """C1 (grid G1, officer li) and C2 (grid G2, officer wang), each in arrears with a promise due today;
    supervisor zhao; today's list built."""
    load(recovery, tmp_path, customers=[customer("C1", "G1"), customer("C2", "G2")],
         bills=[*monthly_bills("C1", [("300.00", "200")], last_issued=-60),
                *monthly_bills("C2", [("200.00", "200")], last_issued=-60)])
    officers(("li", "officer", ["G1"]), ("wang", "officer", ["G2"]), ("zhao", "supervisor", []))
    cid = ids()
    promise(cid["C1"], 10_000, day())
    promise(cid["C2"], 20_000, day())
    segments.refresh(db.session, day())
    coverage.assign(db.session, day())
    build.build(db.session, day())
    db.session.commit()
    return cid


def _listed(html: str) -> list[str]:
    open_part = html.split('class="cards worklist-done"')[0]
    return re.findall(r'<td data-label="[^"]*" class="code"><a href="/customers/([^"]+)">', open_part)


def test_officer_sees_only_their_grids_items_and_a_supervisor_filters_by_officer(client, two_grids):
    sign_in(client, "li")
    html = client.get("/worklist?lang=en").get_data(as_text=True)
    assert set(_listed(html)) == {"C1"}
    assert "Promise to pay falls due today" in html
    assert html.count('name="csrf_token"') >= 2 * len(_listed(html))  # every form carries the token
    assert '<a href="/worklist">Worklist</a>' in html
    card = client.get("/customers/C1?lang=en").get_data(as_text=True)
    assert 'data-field="manager">li<' in card and "Promise to pay falls due today" in card
    client.post("/logout")

    sign_in(client, "zhao")
    assert set(_listed(client.get("/worklist").get_data(as_text=True))) == {"C1", "C2"}
    assert set(_listed(client.get("/worklist?officer=wang").get_data(as_text=True))) == {"C2"}
    assert set(_listed(client.get("/worklist?grid=G1").get_data(as_text=True))) == {"C1"}
    assert client.get("/worklist/coverage").status_code == 200
    api = client.get("/api/v1/worklist?officer=li").get_json()
    assert {i["customer_id"] for i in api["open"]} == {"C1"}
    assert [i["priority"] for i in api["open"]] == sorted((i["priority"] for i in api["open"]),
                                                          key=lambda y: -float(y))


def test_one_click_done_records_the_outcome_and_a_visit(client, two_grids):
    call = db.session.scalar(select(WorkItem).where(WorkItem.customer_id == two_grids["C1"],
                                                    WorkItem.kind == "call"))
    follow = db.session.scalar(select(WorkItem).where(WorkItem.customer_id == two_grids["C1"],
                                                      WorkItem.kind == "promise_followup"))
    other = db.session.scalar(select(WorkItem).where(WorkItem.customer_id == two_grids["C2"]))
    sign_in(client, "li")

    response = client.post(f"/worklist/items/{call.id}/done", data={"outcome": "not_home"})

    assert response.status_code == 302
    db.session.expire_all()
    done = db.session.get(WorkItem, call.id)
    assert (done.status, done.outcome, done.done_by) == ("done", "not_home", "li") and done.done_at is not None
    visit = db.session.scalar(select(Visit).where(Visit.customer_id == two_grids["C1"]))
    assert (visit.kind, visit.outcome, visit.officer) == ("call", "not_home", "li")
    html = client.get("/worklist?lang=en").get_data(as_text=True)
    assert "Not at home / no answer" in html.split('class="cards worklist-done"')[1]
    # Through the API, and never another grid's item.
    assert client.post(f"/api/v1/work-items/{follow.id}/done", json={"outcome": "promised"}).status_code == 200
    assert client.post(f"/api/v1/work-items/{other.id}/done", json={"outcome": "paid"}).status_code == 404
    assert client.post(f"/api/v1/work-items/{follow.id}/done", json={"outcome": "paid"}).status_code == 409
    assert client.post(f"/worklist/items/{other.id}/dismiss").status_code == 404
    db.session.expire_all()
    assert db.session.get(WorkItem, follow.id).outcome == "promised"
    assert db.session.get(WorkItem, other.id).status == "open"


def test_supervisor_reassigns_a_customer_and_open_work_follows(client, two_grids):
    officers(("liu", "officer", ["G1"]))
    db.session.commit()
    sign_in(client, "zhao")

    response = client.put("/api/v1/customers/C1/account-manager", json={"manager": "liu", "deputy": "li"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"customer_id": "C1", "manager": "liu", "deputy": "li", "assignee": "liu"}
    db.session.expire_all()
    assert {w.assigned_to for w in db.session.scalars(select(WorkItem).where(
        WorkItem.customer_id == two_grids["C1"], WorkItem.status == "open"))} == {"liu"}
    # The deputy must be someone else, and an officer must work the customer's grid.
    assert client.put("/api/v1/customers/C1/account-manager", json={"manager": "li", "deputy": "li"}).status_code == 422
    assert client.post("/worklist/coverage/reassign", data={"customer": "C1", "manager": "wang"}).status_code == 302
    assert client.get("/api/v1/customers/C1/account-manager").get_json()["manager"] == "liu"
    client.post("/logout")
    sign_in(client, "li")
    assert client.put("/api/v1/customers/C1/account-manager", json={"manager": "li"}).status_code == 403
