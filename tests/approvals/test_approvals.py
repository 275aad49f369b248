"""Four-eyes approvals: requested by one person, decided by another with the right role, carried out once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from recovery.approvals import service
from recovery.approvals.models import ApprovalStatus
from recovery.audit.models import AuditEntry
from recovery.auth.permissions import Action
from recovery.auth.service import create_user
from recovery.errors import Conflict, DomainError, Forbidden, Invalid
from recovery.extensions import db
from tests.web.data import PASSWORD

carried_out: list[dict] = []


def carry_out(session, req, decided_by):
    """A test action: refuses when the payload says so, else records what it did."""
    if req.payload.get("refuse"):
        raise Conflict("the deposit was already refunded")
    carried_out.append({"id": req.id, "by": decided_by})
    return {"done": req.payload.get("amount")}


@pytest.fixture(autouse=True)
def test_kind(monkeypatch):
    carried_out.clear()
    monkeypatch.setitem(service.HANDLERS, "test.apply",
                        ("tests.approvals.test_approvals:carry_out", Action.decide_approvals))


def file(session, subject="D1", **payload):
    req = service.request_approval(session, "test.apply", "deposit", subject, reason="arrears of 3 months",
                                   requested_by="li", payload=payload)
    session.commit()
    return req


def test_an_approved_request_is_carried_out_once_and_both_steps_are_audited(session):
    req = file(session, amount="500.00")
    decided = service.decide(session, req.id, approve=True, decided_by="zhao", role="supervisor", note="ok")
    session.commit()
    assert carried_out == [{"id": req.id, "by": "zhao"}]
    assert (decided.status, decided.decided_by, decided.result) == (ApprovalStatus.approved, "zhao",
                                                                    {"done": "500.00"})
    actions = [(a.action, a.actor) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == [("approval.requested", "li"), ("approval.approved", "zhao")]
    with pytest.raises(Conflict, match="already approved by zhao"):
        service.decide(session, req.id, approve=True, decided_by="qian", role="supervisor")
    assert len(carried_out) == 1


def test_a_rejected_request_changes_nothing(session):
    req = file(session)
    service.decide(session, req.id, approve=False, decided_by="zhao", role="supervisor", note="not yet")
    session.commit()
    assert carried_out == [] and req.status == ApprovalStatus.rejected and req.decision_note == "not yet"


def test_nobody_decides_their_own_request_and_officers_decide_none(session):
    req = file(session)
    with pytest.raises(Forbidden, match="someone other than"):
        service.decide(session, req.id, approve=True, decided_by="li", role="supervisor")
    with pytest.raises(Forbidden, match="needs a admin or supervisor"):
        service.decide(session, req.id, approve=True, decided_by="wang", role="officer")
    assert carried_out == [] and req.status == ApprovalStatus.pending


def test_an_action_no_longer_possible_leaves_the_request_pending(session):
    req = file(session, refuse=True)
    with pytest.raises(DomainError, match="already refunded"):
        service.decide(session, req.id, approve=True, decided_by="zhao", role="supervisor")
    session.rollback()
    assert session.get(type(req), req.id).status == ApprovalStatus.pending


def test_the_same_action_on_the_same_subject_cannot_wait_twice(session):
    file(session, subject="D1")
    with pytest.raises(Conflict, match="already waiting"):
        file(session, subject="D1")
    session.rollback()
    file(session, subject="D2")  # another subject is another request


def test_a_request_needs_a_known_kind_and_a_reason(session):
    with pytest.raises(Invalid, match="unknown approval kind"):
        service.request_approval(session, "nope", "deposit", "D1", reason="x", requested_by="li")
    with pytest.raises(Invalid, match="a reason is required"):
        service.request_approval(session, "test.apply", "deposit", "D1", reason="  ", requested_by="li")


def test_only_the_requester_withdraws_a_request(session):
    req = file(session)
    with pytest.raises(Forbidden):
        service.cancel(session, req.id, cancelled_by="zhao")
    assert service.cancel(session, req.id, cancelled_by="li").status == ApprovalStatus.cancelled


def test_supervisors_decide_on_the_approvals_page_and_officers_cannot_open_it(client, session):
    create_user(session, "li", role="officer", password=PASSWORD, grids=[])
    create_user(session, "zhao", role="supervisor", password=PASSWORD)
    session.commit()
    req = file(session, amount="500.00")

    client.post("/login", data={"username": "li", "password": PASSWORD})
    assert client.get("/approvals").status_code == 403
    assert client.post(f"/approvals/{req.id}/decide", data={"decision": "approve"}).status_code == 403
    client.post("/logout")

    client.post("/login", data={"username": "zhao", "password": PASSWORD})
    html = client.get("/approvals").get_data(as_text=True)
    assert f'data-request="{req.id}"' in html and "arrears of 3 months" in html
    answer = client.post(f"/approvals/{req.id}/decide", data={"decision": "approve", "note": "fine"})
    assert answer.status_code == 302
    assert carried_out == [{"id": req.id, "by": "zhao"}]
    html = client.get("/approvals").get_data(as_text=True)
    assert f'data-request="{req.id}"' not in html and "fine" in html
    again = client.post(f"/approvals/{req.id}/decide", data={"decision": "approve"}, follow_redirects=True)
    assert "was already approved by zhao" in again.get_data(as_text=True)
    assert len(carried_out) == 1
    db.session.remove()
