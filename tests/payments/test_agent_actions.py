"""Suspending, reinstating and forfeiting an agent's deposit: four eyes, audited, effective on its postings."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from recovery.approvals import service as approvals
from recovery.approvals.models import ApprovalRequest
from recovery.audit.models import AuditEntry
from recovery.errors import Conflict, Forbidden, Invalid
from recovery.extensions import db
from recovery.payments.channels import agent_actions, agents
from recovery.payments.models import Agent, AgentForfeiture
from tests.credit.security_helpers import set_policy
from tests.factories import bill, customer, load
from tests.payments.agent_client import payment_body, signed_headers

PATH = "/api/v1/payments"


@pytest.fixture
def secret(app, recovery, tmp_path):
    """Agent AG01 with a 1,000-yuan deposit (limit 1,000); customer C1 owes 500."""
    load(recovery, tmp_path, customers=[customer("C1")], bills=[bill("B1", "C1", "500.00")])
    # The limit is what this test is about: its agent's agreement asks a deposit of 1000.00 yuan only.
    set_policy(app, {"agents": {"min_deposit": "1000.00"}})
    new = agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=100_000)
    db.session.commit()
    return new.secret


def post(client, secret: str, key: str, amount: str = "10.00"):
    body = payment_body(amount=amount, channel_ref=key)
    return client.post(PATH, data=body, headers=signed_headers("AG01", secret, "POST", PATH, body, key))


def _agent() -> Agent:
    db.session.expire_all()
    return db.session.scalar(select(Agent).where(Agent.code == "AG01"))


def _approve(request_id: int, by: str = "boss") -> ApprovalRequest:
    req = approvals.decide(db.session, request_id, approve=True, decided_by=by, role="supervisor")
    db.session.commit()
    return req


def test_suspension_takes_effect_only_when_a_supervisor_approves_it(client, secret):
    req = agent_actions.request_suspension(db.session, "AG01", reason="takings unremitted for 10 days",
                                           requested_by="clerk1")
    db.session.commit()
    assert post(client, secret, "before").status_code == 201  # still active while the request waits

    with pytest.raises(Forbidden):
        approvals.decide(db.session, req.id, approve=True, decided_by="clerk1", role="supervisor")
    db.session.rollback()
    with pytest.raises(Forbidden):
        approvals.decide(db.session, req.id, approve=True, decided_by="clerk2", role="clerk")
    db.session.rollback()
    assert _approve(req.id).status == "approved"

    refused = post(client, secret, "after")
    assert (refused.status_code, refused.json["code"]) == (403, "agent_suspended")
    assert _agent().status == "suspended"
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == "AG01")).all()
    assert {"approval.requested", "agent.suspend", "approval.approved"} <= set(actions)
    with pytest.raises(Conflict):
        agent_actions.request_suspension(db.session, "AG01", reason="again", requested_by="clerk1")


def test_a_rejected_suspension_changes_nothing_and_reinstatement_lets_the_agent_post_again(client, secret):
    req = agent_actions.request_suspension(db.session, "AG01", reason="late", requested_by="clerk1")
    db.session.commit()
    approvals.decide(db.session, req.id, approve=False, decided_by="boss", role="supervisor", note="paid now")
    db.session.commit()
    assert _agent().status == "active"

    _approve(agent_actions.request_suspension(db.session, "AG01", reason="late again", requested_by="clerk1").id)
    with pytest.raises(Conflict):
        agent_actions.request_suspension(db.session, "AG01", reason="x", requested_by="clerk1")
    _approve(agent_actions.request_reinstatement(db.session, "AG01", reason="remitted", requested_by="clerk1").id)
    assert _agent().status == "active"
    assert post(client, secret, "reinstated").status_code == 201


def test_forfeiture_records_the_kept_deposit_and_lowers_the_limit(client, secret):
    assert post(client, secret, "k1", amount="500.00").status_code == 201
    req = agent_actions.request_forfeiture(db.session, "AG01", 40_000, reason="breach of agreement §7",
                                           requested_by="clerk1")
    db.session.commit()
    assert _agent().deposit_fen == 100_000  # nothing happens before approval

    result = _approve(req.id).result
    assert (result["amount"], result["deposit"], result["limit"]) == ("400.00", "600.00", "600.00")
    agent = _agent()
    assert (agent.deposit_fen, agent.limit_fen, agent.unremitted_fen) == (60_000, 60_000, 50_000)
    row = db.session.scalar(select(AgentForfeiture))
    assert (row.amount_fen, row.deposit_after_fen, row.requested_by, row.approved_by, row.approval_id) == (
        40_000, 60_000, "clerk1", "boss", req.id)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "agent.forfeit")).details["amount_fen"] \
        == 40_000

    refused = post(client, secret, "k2", amount="100.01")  # 500 + 100.01 > the new 600 limit
    assert (refused.status_code, refused.json["code"]) == (403, "agent_limit_exceeded")
    assert post(client, secret, "k3", amount="100.00").status_code == 201


def test_more_than_the_deposit_cannot_be_forfeited(secret):
    with pytest.raises(Invalid, match="cannot be forfeited"):
        agent_actions.request_forfeiture(db.session, "AG01", 100_001, reason="x", requested_by="clerk1")
    req = agent_actions.request_forfeiture(db.session, "AG01", 80_000, reason="x", requested_by="clerk1")
    db.session.commit()
    # The deposit shrank meanwhile (another forfeiture): the approval is refused and stays pending.
    db.session.execute(Agent.__table__.update().values(deposit_fen=50_000))
    db.session.commit()
    with pytest.raises(Conflict):
        approvals.decide(db.session, req.id, approve=True, decided_by="boss", role="supervisor")
    db.session.rollback()
    assert approvals.get(db.session, req.id).status == "pending"
    assert db.session.scalar(select(AgentForfeiture.id)) is None


def test_the_agent_commands_file_approval_requests(recovery, secret):
    result = recovery("agent", "suspend", "AG01", "--reason", "unremitted takings")
    assert result.exit_code == 0, result.output
    assert "waiting for a supervisor" in result.output
    assert recovery("agent", "forfeit", "AG01", "300.00", "--reason", "breach").exit_code == 0
    assert recovery("agent", "forfeit", "AG01", "2000.00", "--reason", "breach").exit_code != 0
    assert recovery("agent", "reinstate", "AG01", "--reason", "x").exit_code != 0  # not suspended
    kinds = sorted(r.kind for r in approvals.pending(db.session))
    assert kinds == ["agent.forfeit", "agent.suspend"]
    assert _agent().status == "active"
