"""The outbox's senders: the HTTP SMS gateway adapter against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from recovery.extensions import db
from recovery.notifications import service as notices
from recovery.notifications.models import Notification
from recovery.notifications.senders import HttpSmsSender, LogSender, send_pending
from tests.factories import customer, load


@pytest.fixture
def gateway():
    """A local SMS gateway: records each JSON body; answers 503 while `down` is set."""
    received: list[dict] = []
    state = {"down": False}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
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
    yield {"url": f"http://127.0.0.1:{server.server_port}/sms", "received": received, "state": state}
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
