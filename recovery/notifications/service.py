"""Writing to the outbox, in the caller's transaction; the text of a customer notice in the utility's language."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recovery.notifications import texts
from recovery.notifications.models import Notification


def notify(session: Session, recipient: str, kind: str, body: str, *, subject_type: str | None = None,
           subject_id: str | None = None, channel: str | None = None) -> Notification:
    """Queue one message; it is stored when the caller commits and delivered by the sender later."""
    note = Notification(recipient=recipient, kind=kind, body=body, subject_type=subject_type, subject_id=subject_id,
                        channel=channel)
    session.add(note)
    return note


def text(kind: str, **values: object) -> str:
    """The customer notice `kind` in the language of [notifications], its placeholders filled in from `values`."""
    return texts.render(kind, texts.language(), **values)
