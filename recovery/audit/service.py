"""Recording audit entries, in the caller's transaction: the change and its record commit together."""

from __future__ import annotations

import getpass
import os
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy.orm import Session

from recovery.audit.models import AuditEntry


def current_actor() -> str:
    """The signed-in user in a request, else the command line's account (RECOVERY_ACTOR overrides)."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.username
    if actor := os.environ.get("RECOVERY_ACTOR"):
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def record(session: Session, action: str, subject_type: str, subject_id: str | None = None, *,
           actor: str | None = None, **details: Any) -> AuditEntry:
    """Add one audit entry; it is stored when the caller commits."""
    entry = AuditEntry(actor=actor or current_actor(), action=action, subject_type=subject_type,
                       subject_id=subject_id, details=details)
    session.add(entry)
    return entry
