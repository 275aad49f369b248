"""Writing to the outbox, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recovery.notifications.models import Notification


def notify(session: Session, recipient: str, kind: str, body: str, *, subject_type: str | None = None,
           subject_id: str | None = None, channel: str | None = None) -> Notification:
    """Queue one message; it is stored when the caller commits and delivered by the sender later."""
    note = Notification(recipient=recipient, kind=kind, body=body, subject_type=subject_type, subject_id=subject_id,
                        channel=channel)
    session.add(note)
    return note
