"""Four eyes on disconnection: an officer asks, a supervisor other than the requester approves, and only then is
supply cut; the latest payments are checked when asked and again when approved, so a payer is never cut off."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from recovery.approvals import service as approvals
from recovery.approvals.models import ApprovalRequest
from recovery.audit.models import AuditEntry
from recovery.auth.service import create_user
from recovery.collections import dunning
from recovery.collections.models import DisconnectionOrder
from recovery.errors import Conflict, Forbidden
from recovery.events.models import Event
from recovery.extensions import db
from recovery.payments.models import PaymentState
from tests.collections import test_dunning
from tests.collections.test_dunning import D, orders, pay, run
from tests.web.data import PASSWORD, cheap_password_hashing

district = test_dunning.district  # the same five customers, each owing a bill due on 20 March 2026


def _order(c) -> DisconnectionOrder:
    return db.session.scalar(select(DisconnectionOrder).where(DisconnectionOrder.customer_id == c.id))


def _decide(request_id: int, by: str, role: str = "supervisor", approve: bool = True) -> ApprovalRequest:
    req = approvals.decide(db.session, request_id, approve=approve, decided_by=by, role=role)
    db.session.commit()
    return req


def _events(c) -> list[str]:
    return list(db.session.scalars(select(Event.kind).where(Event.customer_id == c.id)))


def test_an_order_is_carried_out_only_when_a_supervisor_other_than_the_requester_approves(district):
    c1 = district["C1"]
    run(D(2026, 4, 19))
    asked = dunning.request_execution(db.session, _order(c1), by="li", note="three visits, no answer")
    db.session.commit()
    assert asked["outcome"] == "awaiting_approval"
    assert orders(c1) == [("open", "collections")] and _events(c1) == []
    req = db.session.get(ApprovalRequest, asked["request_id"])
    assert (req.kind, req.subject_id, req.reason, req.payload["amount_fen"]) == (
        "disconnection.execute", str(_order(c1).id), "three visits, no answer", 10_000)
    with pytest.raises(Conflict):  # one request per order waits at a time
        dunning.request_execution(db.session, _order(c1), by="wang")
    db.session.rollback()

    with pytest.raises(Forbidden):  # an officer does not approve
        approvals.decide(db.session, req.id, approve=True, decided_by="wang", role="officer")
    db.session.rollback()
    decided = _decide(req.id, "zhao")
    assert decided.result == {"order_id": _order(c1).id, "outcome": "executed", "reason": "disconnection_order",
                              "requested_by": "li"}
    assert orders(c1) == [("executed", "collections")] and _events(c1) == ["disconnection"]
    executed = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "disconnection.execute")).one()
    assert executed.actor == "zhao"


def test_a_supervisors_own_request_needs_another_supervisor(district):
    c2 = district["C2"]
    run(D(2026, 4, 19))
    asked = dunning.request_execution(db.session, _order(c2), by="zhao")
    db.session.commit()
    with pytest.raises(Forbidden, match="someone other than"):
        approvals.decide(db.session, asked["request_id"], approve=True, decided_by="zhao", role="supervisor")
    db.session.rollback()
    assert orders(c2) == [("open", "collections")]
    assert _decide(asked["request_id"], "qian", role="admin").result["outcome"] == "executed"


def test_a_payment_between_the_request_and_the_approval_cancels_the_order_instead(district):
    c3 = district["C3"]
    run(D(2026, 4, 19))
    asked = dunning.request_execution(db.session, _order(c3), by="li")
    db.session.commit()
    pay("C3", 10_000, "2026-04-21T09:00:00+08:00", PaymentState.provisional)  # an agent's, not yet settled
    result = _decide(asked["request_id"], "zhao").result
    assert (result["outcome"], result["reason"]) == ("cancelled", "paid")
    assert orders(c3) == [("cancelled", "collections")] and _events(c3) == []


def test_asking_for_a_payers_order_cancels_it_with_nothing_to_approve(district):
    c4 = district["C4"]
    run(D(2026, 4, 19))
    pay("C4", 10_000, "2026-04-20T09:00:00+08:00", PaymentState.provisional, ref="R4")
    asked = dunning.request_execution(db.session, _order(c4), by="li")
    db.session.commit()
    assert (asked["outcome"], asked["reason"], asked["request_id"]) == ("cancelled", "paid", None)
    assert orders(c4) == [("cancelled", "collections")]
    assert db.session.scalar(select(ApprovalRequest.id)) is None


def test_an_order_closed_before_the_approval_is_left_as_it_is(district):
    c5 = district["C5"]
    run(D(2026, 4, 19))
    asked = dunning.request_execution(db.session, _order(c5), by="li")
    dunning.withdraw_order(db.session, _order(c5), by="zhao", reason="customer in hospital")
    db.session.commit()
    result = _decide(asked["request_id"], "qian", role="admin").result
    assert (result["outcome"], result["reason"]) == ("cancelled", "closed_before_approval")
    assert orders(c5) == [("cancelled", "collections")] and _events(c5) == []


@pytest.fixture(autouse=True)
def _staff(district, monkeypatch):
    cheap_password_hashing(monkeypatch)
    for name, role in (("li", "officer"), ("wang", "officer"), ("zhao", "supervisor"), ("qian", "admin")):
        create_user(db.session, name, role=role, password=PASSWORD, grids=["G1"] if role == "officer" else ())
    db.session.commit()


def test_on_the_pages_the_officer_asks_and_the_supervisor_approves(app, client, district):
    run(D(2026, 4, 19))
    order = _order(district["C1"])
    assert client.post("/login", data={"username": "li", "password": PASSWORD}).status_code == 302
    client.post("/lang/en")
    client.post(f"/customers/C1/collections/orders/{order.id}/execute", data={"note": "refuses to pay"})
    page = client.get("/customers/C1?lang=en").get_data(as_text=True)
    assert "approval (request #1 by li)." in page and 'data-field="order-awaiting-approval"' in page
    assert orders(district["C1"]) == [("open", "collections")]

    client.post("/logout")
    assert client.post("/login", data={"username": "zhao", "password": PASSWORD}).status_code == 302
    client.post("/lang/en")
    listed = client.get("/approvals?lang=en").get_data(as_text=True)
    assert "Carry out a disconnection order" in listed and "refuses to pay" in listed
    assert client.post("/approvals/1/decide", data={"decision": "approve"}).status_code == 302
    assert orders(district["C1"]) == [("executed", "collections")]



def test_from_the_command_line_an_order_is_asked_for_not_carried_out(district, recovery):
    run(D(2026, 4, 19))
    order = _order(district["C2"])
    result = recovery("collections", "execute-order", str(order.id), "--note", "field team booked")
    assert result.exit_code == 0, result.output
    assert f"disconnection order #{order.id}: awaiting_approval (disconnection_order, approval request #" \
        in result.output
    db.session.expire_all()
    assert orders(district["C2"]) == [("open", "collections")]
    assert db.session.scalar(select(ApprovalRequest.reason)) == "field team booked"
