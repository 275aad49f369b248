"""Requesting and deciding approvals. The action itself is a handler named in `HANDLERS`.

A handler is `handler(session, request: ApprovalRequest, decided_by: str) -> dict`; it carries the
action out in the caller's transaction (so the action, the decision and their audit entries commit
together) and returns what it did. It raises a DomainError when the action is no longer possible
(the deposit was already refunded, …): nothing is then changed and the request stays pending.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.approvals.models import ApprovalRequest, ApprovalStatus
from recovery.audit import service as audit
from recovery.auth.permissions import Action, allowed, may
from recovery.errors import Conflict, Forbidden, Invalid, NotFound
from recovery.timeutil import now

# kind -> "module:function" and the action that decides it (recovery.auth.permissions). Each domain adds its
# lines here.
HANDLERS: dict[str, tuple[str, Action]] = {
    "deposit.apply": ("recovery.credit.security.deposits:carry_out_application", Action.decide_approvals),
    "deposit.refund": ("recovery.credit.security.deposits:carry_out_refund", Action.decide_approvals),
    "deposit.release": ("recovery.credit.security.deposits:carry_out_release", Action.decide_approvals),
    "guarantee.call": ("recovery.credit.security.guarantees:carry_out_call", Action.decide_approvals),
    "terms.change": ("recovery.credit.terms:apply_terms_change", Action.decide_approvals),
    "agent.suspend": ("recovery.payments.channels.agent_actions:suspend", Action.decide_approvals),
    "agent.reinstate": ("recovery.payments.channels.agent_actions:reinstate", Action.decide_approvals),
    "agent.forfeit": ("recovery.payments.channels.agent_actions:forfeit", Action.decide_approvals),
    "debt.write_off": ("recovery.collections.writeoff.service:carry_out_write_off", Action.decide_approvals),
    "disconnection.execute": ("recovery.collections.dunning:carry_out_execution", Action.decide_approvals),
    "theft.charge": ("recovery.loss.inspections:carry_out_theft_charge", Action.decide_approvals),
}


def request_approval(session: Session, kind: str, subject_type: str, subject_id: str, *, reason: str,
                     requested_by: str, payload: dict[str, Any] | None = None) -> ApprovalRequest:
    """File a request; refused when the same action on the same subject is already pending."""
    if kind not in HANDLERS:
        raise Invalid(f"unknown approval kind {kind!r}")
    if not reason or not reason.strip():
        raise Invalid("a reason is required")
    pending = session.scalar(select(ApprovalRequest.id).where(
        ApprovalRequest.kind == kind, ApprovalRequest.subject_type == subject_type,
        ApprovalRequest.subject_id == str(subject_id), ApprovalRequest.status == ApprovalStatus.pending))
    if pending is not None:
        raise Conflict(f"a {kind} request for {subject_type} {subject_id} is already waiting (#{pending})")
    req = ApprovalRequest(kind=kind, subject_type=subject_type, subject_id=str(subject_id), payload=payload or {},
                          reason=reason.strip()[:500], requested_by=requested_by, status=ApprovalStatus.pending)
    session.add(req)
    session.flush()  # the id goes into the audit entry
    audit.record(session, "approval.requested", subject_type, str(subject_id), actor=requested_by,
                 request_id=req.id, kind=kind, reason=req.reason, payload=req.payload)
    return req


def get(session: Session, request_id: int) -> ApprovalRequest:
    req = session.get(ApprovalRequest, request_id)
    if req is None:
        raise NotFound(f"no approval request #{request_id}")
    return req


def decide(session: Session, request_id: int, *, approve: bool, decided_by: str, role: str,
           note: str | None = None) -> ApprovalRequest:
    """Approve (and carry out) or reject a pending request. The requester may not decide their own."""
    # FOR UPDATE on PostgreSQL: two supervisors clicking at once cannot both carry the action out.
    req = session.scalar(select(ApprovalRequest).where(ApprovalRequest.id == request_id).with_for_update())
    if req is None:
        raise NotFound(f"no approval request #{request_id}")
    _path, action = HANDLERS[req.kind]
    if not may(role, action):
        raise Forbidden(f"a {req.kind} request needs a {allowed(action)} to decide it")
    if req.status != ApprovalStatus.pending:
        raise Conflict(f"request #{req.id} was already {req.status} by {req.decided_by}")
    if decided_by == req.requested_by:
        raise Forbidden("a request must be decided by someone other than the person who made it")
    if approve:
        module, _, name = HANDLERS[req.kind][0].partition(":")
        req.result = getattr(import_module(module), name)(session, req, decided_by) or {}
    req.status = ApprovalStatus.approved if approve else ApprovalStatus.rejected
    req.decided_by, req.decided_at, req.decision_note = decided_by, now(), (note or None)
    audit.record(session, f"approval.{req.status}", req.subject_type, req.subject_id, actor=decided_by,
                 request_id=req.id, kind=req.kind, note=note, result=req.result)
    return req


def cancel(session: Session, request_id: int, *, cancelled_by: str) -> ApprovalRequest:
    """The requester withdraws a pending request."""
    req = get(session, request_id)
    if req.status != ApprovalStatus.pending:
        raise Conflict(f"request #{req.id} was already {req.status}")
    if cancelled_by != req.requested_by:
        raise Forbidden("only the person who made a request may withdraw it")
    req.status, req.decided_by, req.decided_at = ApprovalStatus.cancelled, cancelled_by, now()
    audit.record(session, "approval.cancelled", req.subject_type, req.subject_id, actor=cancelled_by,
                 request_id=req.id, kind=req.kind)
    return req


def waiting(session: Session, kind: str, subject_type: str, subject_ids: list[str]) -> dict[str, ApprovalRequest]:
    """The pending request of `kind` about each of these subjects (at most one each: request_approval refuses a
    second), by subject id; one query for all."""
    if not subject_ids:
        return {}
    rows = session.scalars(select(ApprovalRequest).where(
        ApprovalRequest.kind == kind, ApprovalRequest.subject_type == subject_type,
        ApprovalRequest.subject_id.in_(subject_ids), ApprovalRequest.status == ApprovalStatus.pending))
    return {r.subject_id: r for r in rows}


def pending(session: Session, kind: str | None = None) -> list[ApprovalRequest]:
    """Pending requests, oldest first."""
    stmt = select(ApprovalRequest).where(ApprovalRequest.status == ApprovalStatus.pending)
    if kind:
        stmt = stmt.where(ApprovalRequest.kind == kind)
    return list(session.scalars(stmt.order_by(ApprovalRequest.requested_at, ApprovalRequest.id)))
