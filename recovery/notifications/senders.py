"""Delivering the outbox: a pluggable sender per channel.

LogSender (the default) writes each message to the log and marks it sent: letters go to the print
run from there, and a site without an SMS gateway loses nothing. HttpSmsSender posts each SMS as
JSON to the gateway at NOTIFY_SMS_URL (app config or environment):

    POST <url>  {"id": 17, "to": "13800000001", "text": "…", "kind": "dunning.overdue_notice"}
    Idempotency-Key: notice-17

and counts any answer outside 2xx, a timeout or a customer without a phone number as a failed
attempt: the row stays unsent, with the attempt counted and the error kept, and is tried again on
the next run until `max_attempts`.

An SMS cannot be called back, so none may go twice: `send_pending` commits each message's outcome
(sent, or the failed attempt) as soon as it is known, so a run that dies half-way (killed, the
database lost) leaves every message delivered before it marked sent, and the rerun sends only the
rest. The one message in flight when the run died may have reached the gateway without being marked;
it goes again with the same Idempotency-Key (notice-<outbox id>), by which the gateway drops the
duplicate. A gateway that ignores the key may deliver that one message twice, never more.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import urllib.error
import urllib.request
from typing import Protocol

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.customers.models import Customer
from recovery.notifications.models import Notification
from recovery.timeutil import now

log = logging.getLogger("recovery.notifications")
MAX_ATTEMPTS = 5


class SendError(Exception):
    """A delivery that failed; the message stays in the outbox."""


class Sender(Protocol):
    def send(self, note: Notification, address: str | None) -> None:
        """Deliver one message to `address` (resolved from the recipient), or raise SendError."""


class LogSender:
    """Logs the message; nothing leaves the building."""

    def send(self, note: Notification, address: str | None) -> None:
        log.info("notice #%s to %s (%s, %s): %s", note.id, address or note.recipient, note.channel or "-", note.kind,
                 note.body)


class HttpSmsSender:
    """Posts one SMS per message to an HTTP gateway (JSON body, 2xx means accepted)."""

    def __init__(self, url: str, *, timeout: float = 10.0, token: str | None = None):
        self.url = url
        self.timeout = timeout
        self.token = token

    def send(self, note: Notification, address: str | None) -> None:
        if not address:
            raise SendError(f"no phone number for {note.recipient}")
        body = json.dumps({"id": note.id, "to": address, "text": note.body, "kind": note.kind},
                          ensure_ascii=False).encode("utf-8")
        # The same key every time this message is tried: the gateway drops a repeat of one it already took.
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": f"notice-{note.id}"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read()
        except urllib.error.HTTPError as e:
            raise SendError(f"gateway answered {e.code} {e.reason}") from e
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise SendError(f"gateway unreachable: {getattr(e, 'reason', e)}") from e


def _setting(name: str) -> str | None:
    return current_app.config.get(name) or os.environ.get(name) or None


def default_senders() -> dict[str, Sender]:
    """The sender per channel from the configuration: SMS through the gateway when NOTIFY_SMS_URL is set."""
    url = _setting("NOTIFY_SMS_URL")
    sms: Sender = HttpSmsSender(url, token=_setting("NOTIFY_SMS_TOKEN")) if url else LogSender()
    return {"sms": sms, "letter": LogSender(), "other": LogSender()}


def _channel(note: Notification) -> str:
    """SMS for customers unless the row says otherwise; messages to staff go to the log (their page)."""
    if note.channel:
        return note.channel
    return "sms" if note.recipient.startswith("customer:") else "other"


def send_pending(session: Session, senders: dict[str, Sender] | None = None, *, limit: int = 1000,
                 max_attempts: int = MAX_ATTEMPTS) -> dict:
    """Deliver up to `limit` unsent messages, oldest first; failures stay queued with the attempt counted.

    Commits after each message, unlike other services: a delivered SMS cannot be rolled back, so its
    `sent_at` must not wait for the end of the run (see the module's docstring). Call it with nothing
    else pending in the session."""
    senders = senders or default_senders()
    notes = list(session.scalars(select(Notification)
                                 .where(Notification.sent_at.is_(None), Notification.attempts < max_attempts)
                                 .order_by(Notification.id).limit(limit)))
    # One query for the phone numbers of every customer addressed.
    codes = {n.recipient.removeprefix("customer:") for n in notes if n.recipient.startswith("customer:")}
    rows = session.execute(select(Customer.code, Customer.phone).where(Customer.code.in_(codes))) if codes else []
    phones = {code: phone for code, phone in rows}
    sent = failed = 0
    for note in notes:
        channel = _channel(note)
        address = phones.get(note.recipient.removeprefix("customer:")) if channel == "sms" else note.recipient
        sender = senders.get(channel) or senders.get("other") or LogSender()
        try:
            sender.send(note, address)
        except SendError as e:
            note.attempts = (note.attempts or 0) + 1
            note.last_error = str(e)[:1000]
            failed += 1
            log.warning("notice #%s not delivered (attempt %s): %s", note.id, note.attempts, e)
        else:
            note.sent_at = now()
            note.last_error = None
            sent += 1
        # The documented exception to the unit of work (recovery.unitofwork): each message is committed as it
        # goes, so that one handed to the gateway is marked sent at once and a crash later never sends it twice.
        session.commit()
    return {"sent": sent, "failed": failed, "waiting": len(notes) - sent}


def nightly(session: Session, day: dt.date) -> dict:
    """Job notifications.send: deliver what the night's jobs queued (each message committed as it goes)."""
    return {"day": day.isoformat(), **send_pending(session)}
