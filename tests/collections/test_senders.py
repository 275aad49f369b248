"""The outbox's senders: the HTTP SMS gateway adapter against a real local HTTP server."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from recovery.extensions import db
from recovery.notifications import service as notices
from recovery.notifications.models import Notification
from recovery.notifications.senders import HttpSmsSender, LogSender, SendError, send_pending
from tests.factories import customer, load


@pytest.fixture
def gateway():
    """A local SMS gateway: records each JSON body it accepts and the Idempotency-Key of every request;
    answers 503 while `down` is set."""
    received: list[dict] = []
    keys: list[str | None] = []
    state = {"down": False}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            keys.append(self.headers.get("Idempotency-Key"))
            if state["down"]:
                self.send_response(503)
            else:
                received.append(body)
                self.send_response(200)
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}/sms", "received": received, "keys": keys, "state": state}
    server.shutdown()
    thread.join(timeout=5)


def test_http_sms_sender_posts_json_to_a_real_server_and_a_failure_leaves_the_row_unsent(app, recovery, tmp_path,
                                                                                        gateway):
    load(recovery, tmp_path, customers=[customer("C1", phone="13800000001"), customer("C2")])
    first = notices.notify(db.session, "customer:C1", "dunning.overdue_notice", "您的电费已逾期", channel="sms")
    no_phone = notices.notify(db.session, "customer:C2", "dunning.overdue_notice", "overdue", channel="sms")
    letter = notices.notify(db.session, "customer:C1", "dunning.final_notice", "final notice", channel="letter")
    db.session.commit()
    senders = {"sms": HttpSmsSender(gateway["url"], timeout=5), "letter": LogSender()}

    gateway["state"]["down"] = True
    assert send_pending(db.session, senders) == {"sent": 1, "failed": 2, "waiting": 2}
    db.session.commit()
    assert (first.sent_at, first.attempts) == (None, 1) and "503" in first.last_error
    assert letter.sent_at is not None  # letters go to the print run's log

    gateway["state"]["down"] = False
    assert send_pending(db.session, senders) == {"sent": 1, "failed": 1, "waiting": 1}
    db.session.commit()
    assert gateway["received"] == [{"id": first.id, "to": "13800000001", "text": "您的电费已逾期",
                                    "kind": "dunning.overdue_notice"}]
    assert first.sent_at is not None and first.last_error is None
    # The failed try and the retry carry the same key: a gateway that took the first drops the second.
    assert gateway["keys"] == [f"notice-{first.id}", f"notice-{first.id}"]
    assert (no_phone.sent_at, no_phone.attempts, no_phone.last_error) == (None, 2, "no phone number for customer:C2")


def test_notices_send_command_uses_the_gateway_configured_by_url(app, recovery, tmp_path, gateway):
    load(recovery, tmp_path, customers=[customer("C1", phone="13800000001")])
    notices.notify(db.session, "customer:C1", "prepaid.low_balance", "please top up")
    db.session.commit()
    app.config["NOTIFY_SMS_URL"] = gateway["url"]
    result = recovery("notices", "send")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"sent": 1, "failed": 0, "waiting": 0}
    assert [r["to"] for r in gateway["received"]] == ["13800000001"]
    assert db.session.scalar(select(Notification.sent_at)) is not None


class Killed(BaseException):
    """The process dying under the sender (SIGKILL, the machine going down): no SendError, no cleanup."""


class Handset:
    """A sender that records what it delivers, once by id; dies on its `dies_at`-th message, before sending it."""

    def __init__(self, delivered: list[int], dies_at: int | None = None):
        self.delivered, self.dies_at, self.calls = delivered, dies_at, 0

    def send(self, note: Notification, address: str | None) -> None:
        self.calls += 1
        if self.calls == self.dies_at:
            raise Killed
        if not address:
            raise SendError("no phone number")
        self.delivered.append(note.id)


def test_a_run_killed_half_way_keeps_what_it_delivered_and_the_rerun_sends_each_message_once(app, recovery,
                                                                                               tmp_path):
    codes = ["C1", "C2", "C3", "C4", "C5"]
    load(recovery, tmp_path, customers=[customer(c, phone=f"1380000000{n}") for n, c in enumerate(codes)])
    notes = [notices.notify(db.session, f"customer:{c}", "dunning.overdue_notice", f"notice to {c}", channel="sms")
             for c in codes]
    db.session.commit()
    ids = [n.id for n in notes]
    delivered: list[int] = []

    with pytest.raises(Killed):
        send_pending(db.session, {"sms": Handset(delivered, dies_at=3)})
    db.session.remove()  # what the next process finds in the database

    marked = list(db.session.scalars(select(Notification.id).where(Notification.sent_at.is_not(None))
                                     .order_by(Notification.id)))
    assert marked == delivered == ids[:2]
    assert send_pending(db.session, {"sms": Handset(delivered)}) == {"sent": 3, "failed": 0, "waiting": 0}
    db.session.remove()
    assert delivered == ids  # each message exactly once, in order
    assert db.session.scalar(select(Notification.id).where(Notification.sent_at.is_(None))) is None


def test_the_nightly_job_killed_half_way_is_recorded_failed_and_keeps_what_it_delivered(app, recovery, tmp_path,
                                                                                        monkeypatch):
    from recovery.jobs import runner
    from recovery.jobs.models import JobRun
    from recovery.jobs.table import job

    load(recovery, tmp_path, customers=[customer("C1", phone="13800000001"), customer("C2", phone="13800000002")])
    first, second = (notices.notify(db.session, f"customer:{c}", "prepaid.low_balance", "请及时充值", channel="sms")
                     for c in ("C1", "C2"))
    db.session.commit()
    first_id, second_id = first.id, second.id
    delivered: list[int] = []
    monkeypatch.setattr("recovery.notifications.senders.default_senders",
                        lambda: {"sms": Handset(delivered, dies_at=2)})

    day = dt.date(2026, 11, 20)
    with pytest.raises(Killed):
        runner.run(db.session, job("notifications.send"), day, trigger="cli", actor="cli:test")
    db.session.remove()
    assert db.session.scalar(select(JobRun.status)) == "failed"
    assert db.session.scalar(select(Notification.sent_at).where(Notification.id == first_id)) is not None

    monkeypatch.setattr("recovery.notifications.senders.default_senders", lambda: {"sms": Handset(delivered)})
    done = runner.run(db.session, job("notifications.send"), day, trigger="cli", actor="cli:test")
    assert (done.status, done.summary["sent"]) == ("succeeded", 1)
    assert delivered == [first_id, second_id]
