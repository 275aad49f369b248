"""Structured logs: one JSON line per request with its request id; no secret ever reaches the log."""

from __future__ import annotations

import io
import json
import logging

import pytest

from recovery.auth.service import create_user
from recovery.extensions import db
from recovery.ops.logs import JsonFormatter
from recovery.payments.channels import agents
from tests.payments.agent_client import signed_headers
from tests.web.data import PASSWORD, cheap_password_hashing


@pytest.fixture
def captured(caplog):
    """Everything logged, as the JSON lines the service writes (and as pytest's own capture sees it)."""
    caplog.set_level(logging.DEBUG)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    yield lambda: stream.getvalue() + caplog.text
    logging.getLogger().removeHandler(handler)


def test_a_sane_request_id_is_echoed_and_logged_and_a_bad_one_replaced(client, captured):
    echoed = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert echoed.headers["X-Request-ID"] == "lb-7f3a.42"
    replaced = client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 200})
    assert not replaced.headers["X-Request-ID"].startswith("<script>")
    assert len(replaced.headers["X-Request-ID"]) == 32

    json_lines = [json.loads(line) for line in captured().splitlines() if line.startswith("{")]
    requests = [line for line in json_lines if line["logger"] == "recovery.requests"]
    assert [(r["request_id"], r["method"], r["path"], r["status"]) for r in requests] == [
        ("lb-7f3a.42", "GET", "/healthz", 200), (replaced.headers["X-Request-ID"], "GET", "/healthz", 200)]
    assert all(isinstance(r["duration_ms"], float) for r in requests)


def test_a_sign_in_and_a_signed_agent_request_leave_no_secret_in_the_log(client, captured, monkeypatch):
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "li", role="officer", password=PASSWORD)
    agent = agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=3_000_000)
    db.session.commit()

    client.post("/login", data={"username": "li", "password": "wrong horse battery"})
    signed_in = client.post("/login", data={"username": "li", "password": PASSWORD})
    session_cookie = signed_in.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    client.get(signed_in.headers["Location"])
    path = "/api/v1/payments/PNONE"
    headers = signed_headers("AG01", agent.secret, "GET", path, b"")
    client.get(path, headers={**headers, "Authorization": "Bearer very-secret-token"})

    text = captured()
    for secret in (PASSWORD, "wrong horse battery", agent.secret, headers["X-Signature"], "very-secret-token",
                   session_cookie):
        assert secret not in text
    json_lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    users = [(r["path"], r["user"]) for r in json_lines if r["logger"] == "recovery.requests"]
    assert users == [("/login", None), ("/login", "li"), (signed_in.headers["Location"], "li"),
                     (path, "agent:AG01")]
