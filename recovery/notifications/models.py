"""The outbox. Rows are written with the change that causes them; a later sender delivers them
(SMS, e-mail, the officer's page) and sets `sent_at`. Nothing here sends anything."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_unsent", "sent_at", "created_at"),
                      Index("ix_notifications_subject", "subject_type", "subject_id", "kind"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # An address the sender resolves: "customer:C0001", a phone number, an e-mail, "user:wang".
    recipient: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # How it goes out: sms | letter; None: the sender's default (SMS to a customer, the page to a user).
    channel: Mapped[str | None] = mapped_column(String(20))
    # A message that must go out once only (a dunning notice per step and due date) carries a key.
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    # Failed deliveries so far and the last failure: the row stays unsent and is tried again.
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
