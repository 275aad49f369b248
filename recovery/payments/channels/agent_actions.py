"""Suspending, reinstating an agent and forfeiting its deposit: requested by one person, approved by a
supervisor (recovery.approvals), carried out by the handlers here, audited.

A suspended agent's signed postings answer 403 (recovery.payments.channels.agents.authenticate and take_statement()).
A forfeiture records the part of the deposit the utility keeps and lowers the deposit, and with it
the deposit-backed limit; the agent's unremitted takings are left as they are: applying the kept
money against them is the finance side's entry, not a remittance.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from recovery.approvals import service as approvals
from recovery.approvals.models import ApprovalRequest
from recovery.audit import service as audit
from recovery.errors import Conflict, Invalid
from recovery.money import format_yuan
from recovery.payments.channels.agents import get_agent, limit_for
from recovery.payments.models import Agent, AgentForfeiture, AgentStatus
from recovery.timeutil import today


def request_suspension(session: Session, code: str, *, reason: str, requested_by: str) -> ApprovalRequest:
    """Ask a supervisor to suspend an agent in breach."""
    agent = get_agent(session, code)
    if agent.status == AgentStatus.suspended:
        raise Conflict(f"agent {code} is already suspended")
    return approvals.request_approval(session, "agent.suspend", "agent", code, reason=reason,
                                      requested_by=requested_by)


def request_reinstatement(session: Session, code: str, *, reason: str, requested_by: str) -> ApprovalRequest:
    """Ask a supervisor to let a suspended agent post again."""
    agent = get_agent(session, code)
    if agent.status != AgentStatus.suspended:
        raise Conflict(f"agent {code} is not suspended")
    return approvals.request_approval(session, "agent.reinstate", "agent", code, reason=reason,
                                      requested_by=requested_by)


def request_forfeiture(session: Session, code: str, amount_fen: int, *, reason: str,
                       requested_by: str) -> ApprovalRequest:
    """Ask a supervisor to forfeit part (or all) of an agent's deposit."""
    agent = get_agent(session, code)
    if amount_fen <= 0:
        raise Invalid("a forfeiture must be greater than 0")
    if amount_fen > agent.deposit_fen:
        raise Invalid(f"agent {code}'s deposit is {format_yuan(agent.deposit_fen)} yuan; "
                      f"{format_yuan(amount_fen)} cannot be forfeited")
    return approvals.request_approval(session, "agent.forfeit", "agent", code, reason=reason,
                                      requested_by=requested_by,
                                      payload={"amount_fen": amount_fen, "amount": format_yuan(amount_fen)})


def _set_status(session: Session, code: str, old: AgentStatus, new: AgentStatus) -> None:
    done = session.execute(update(Agent).where(Agent.code == code, Agent.status == old).values(status=new)
                           .execution_options(synchronize_session=False)).rowcount
    if not done:
        raise Conflict(f"agent {code} is no longer {old}")


def suspend(session: Session, request: ApprovalRequest, decided_by: str) -> dict:
    """Approval handler for agent.suspend: its postings answer 403 from now on."""
    _set_status(session, request.subject_id, AgentStatus.active, AgentStatus.suspended)
    audit.record(session, "agent.suspend", "agent", request.subject_id, actor=decided_by, request_id=request.id,
                 reason=request.reason, requested_by=request.requested_by)
    return {"agent": request.subject_id, "status": AgentStatus.suspended.value}


def reinstate(session: Session, request: ApprovalRequest, decided_by: str) -> dict:
    """Approval handler for agent.reinstate."""
    _set_status(session, request.subject_id, AgentStatus.suspended, AgentStatus.active)
    audit.record(session, "agent.reinstate", "agent", request.subject_id, actor=decided_by, request_id=request.id,
                 reason=request.reason, requested_by=request.requested_by)
    return {"agent": request.subject_id, "status": AgentStatus.active.value}


def forfeit(session: Session, request: ApprovalRequest, decided_by: str) -> dict:
    """Approval handler for agent.forfeit: the deposit and the limit it buys go down by the amount."""
    code, amount = request.subject_id, int(request.payload["amount_fen"])
    agent = get_agent(session, code)
    deposit_after = agent.deposit_fen - amount
    limit_after = limit_for(deposit_after)
    # Conditional on the deposit read: a concurrent change (another forfeiture) makes this one retry.
    done = session.execute(
        update(Agent).where(Agent.id == agent.id, Agent.deposit_fen == agent.deposit_fen, Agent.deposit_fen >= amount)
        .values(deposit_fen=deposit_after, limit_fen=limit_after).execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise Conflict(f"agent {code}'s deposit changed or is below {format_yuan(amount)} yuan; decide again")
    row = AgentForfeiture(agent_id=agent.id, amount_fen=amount, deposit_after_fen=deposit_after,
                          limit_after_fen=limit_after, forfeited_on=today(), reason=request.reason,
                          requested_by=request.requested_by, approved_by=decided_by, approval_id=request.id)
    session.add(row)
    session.flush()  # the forfeiture's id goes into the approval's result
    session.refresh(agent)
    audit.record(session, "agent.forfeit", "agent", code, actor=decided_by, request_id=request.id,
                 amount_fen=amount, deposit_after_fen=deposit_after, limit_after_fen=limit_after,
                 unremitted_fen=agent.unremitted_fen)
    return {"agent": code, "forfeiture_id": row.id, "amount": format_yuan(amount),
            "deposit": format_yuan(deposit_after), "limit": format_yuan(limit_after)}
