"""Reads for the approvals page: the requests decided lately."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.approvals.models import ApprovalRequest, ApprovalStatus

DECISIONS_SHOWN = 50


def latest_decisions(session: Session) -> list[ApprovalRequest]:
    """The latest requests no longer pending (approved, rejected or cancelled), newest decision first."""
    return list(session.scalars(
        select(ApprovalRequest).where(ApprovalRequest.status != ApprovalStatus.pending)
        .order_by(ApprovalRequest.decided_at.desc(), ApprovalRequest.id.desc()).limit(DECISIONS_SHOWN)))
