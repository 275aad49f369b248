"""Hostile input on the signed posting path: dates a payment cannot have, headers that are not what the
contract says, bodies larger than a payment, and a race on one channel reference. Each is a clear 4xx,
the same for known and unknown callers, and posts nothing; none is a 500."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.payments.channels import agents
from recovery.payments.models import Agent, IdempotencyKey, Payment
from tests.factories import bill, customer, load
from tests.hostile.test_hostile_values import TEXT
from tests.payments.agent_client import just_now, payment_body, signed_headers

PATH = "/api/v1/payments"


@pytest.fixture
def agent(app, recovery, tmp_path):
    """Agent AG01; customer C1 (account opened 2024-01-01) with a bill of 100 yuan."""
    load(recovery, tmp_path, customers=[customer("C1")], bills=[bill("B1", "C1", "100.00")])
    secret = agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=3_000_000).secret
    db.session.commit()
    return secret


def _post(client, secret: str, body: bytes, key: str = "k-1", **headers):
    sent = signed_headers("AG01", secret, "POST", PATH, body, key) | headers
    return client.post(PATH, data=body, headers=sent)


def _nothing_posted() -> None:
    db.session.rollback()
    for model in (Payment, LedgerEntry, IdempotencyKey):
        kind = LedgerEntry.kind == "payment" if model is LedgerEntry else True
        assert db.session.scalar(select(func.count()).select_from(model).where(kind)) == 0
    assert db.session.scalar(select(Agent.unremitted_fen)) == 0


def test_a_payment_dated_where_no_payment_can_be_is_422_and_posts_nothing(client, agent):
    for i, (paid_at, code) in enumerate([
        ("0001-01-01T00:00:00-08:00", None),  # year 1 west of UTC: its UTC instant lies before the calendar
        ("0001-01-01T00:00:00+08:00", None),
        ("1970-01-01T00:00:00+08:00", None),
        ("2000-06-01T10:00:00+08:00", "paid_at_too_old"),
    ]):
        response = _post(client, agent, payment_body(paid_at=paid_at), key=f"k-{i}")
        assert response.status_code == 422, (paid_at, response.json)
        if code:
            assert response.json["code"] == code
    _nothing_posted()


def test_a_payment_older_than_the_policy_window_is_refused_and_a_recent_one_is_not(client, agent):
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=36)).isoformat(timespec="seconds")
    response = _post(client, agent, payment_body(paid_at=old), key="k-old")
    assert (response.status_code, response.json["code"]) == (422, "paid_at_too_old")
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(days=34)).isoformat(timespec="seconds")
    assert _post(client, agent, payment_body(paid_at=recent, channel_ref="R-2"), key="k-new").status_code == 201


def test_a_payment_dated_before_the_account_opened_is_refused(app, client, agent, recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C9", opened_on=dt.date.today().isoformat())])
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat(timespec="seconds")
    response = _post(client, agent, payment_body(customer_id="C9", paid_at=yesterday))
    assert (response.status_code, response.json["code"]) == (422, "paid_before_account_opened")
    _nothing_posted()


def test_a_timestamp_that_is_not_ascii_unix_seconds_is_401(client, agent):
    for timestamp in ["²", "1" * 4301, "١٧٠٠٠٠٠٠٠٠", "-1", " 1700000000"]:
        response = _post(client, agent, payment_body(), **{"X-Timestamp": timestamp})
        assert (response.status_code, response.json["code"]) == (401, "bad_timestamp"), timestamp[:20]
    _nothing_posted()


def test_a_malformed_signature_gets_the_same_answer_for_known_and_unknown_agents(client, agent):
    body = payment_body()
    for signature in ["é" * 64, "Z" * 64, "ab", ""]:
        answers = []
        for code in ("AG01", "NOBODY"):
            headers = signed_headers(code, agent, "POST", PATH, body, "k-1") | {"X-Signature": signature}
            response = client.post(PATH, data=body, headers=headers)
            answers.append((response.status_code, response.json["code"], response.json["message"]))
        assert answers[0] == answers[1], signature
        assert answers[0][0] == 401
    _nothing_posted()


def test_an_unsigned_body_larger_than_a_payment_is_refused_before_it_is_read(client, agent):
    huge = b'{"customer_id": "' + b"C" * (8 * 1024 * 1024) + b'"}'
    started = time.perf_counter()
    response = client.post(PATH, data=huge, headers={"Content-Type": "application/json", "X-Agent-Id": "AG01",
                                                     "X-Timestamp": str(int(time.time())), "X-Signature": "0" * 64,
                                                     "Idempotency-Key": "k-1"})
    assert response.status_code == 413
    assert time.perf_counter() - started < 2  # refused unread: no JSON of 8 MB parsed
    _nothing_posted()


def test_a_body_under_the_limit_is_checked_by_its_signature_before_it_is_parsed(client, agent):
    # Deeply nested JSON, but unsigned: the signature is checked on the raw bytes and the body never parsed.
    nested = b"[" * 3000 + b"]" * 3000  # under the size limit, past what a recursive parser survives
    headers = {"Content-Type": "application/json", "X-Agent-Id": "AG01", "X-Timestamp": str(int(time.time())),
               "X-Signature": hmac.new(b"not-the-secret", nested, hashlib.sha256).hexdigest(),
               "Idempotency-Key": "k-1"}
    response = client.post(PATH, data=nested, headers=headers)
    assert (response.status_code, response.json["code"]) == (401, "bad_signature")
    _nothing_posted()


def test_one_channel_reference_posted_at_once_under_many_keys_is_one_payment_and_409s(live_server, agent):
    import urllib.error
    import urllib.request

    body = json.dumps({"customer_id": "C1", "amount": "10.00", "channel_ref": "SAME", "paid_at": just_now()}).encode()

    def send(i: int) -> int:
        request = urllib.request.Request(live_server + PATH, data=body, method="POST",
                                         headers=signed_headers("AG01", agent, "POST", PATH, body, f"key-{i}"))
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(send, range(20)))
    assert statuses.count(201) == 1 and set(statuses) == {201, 409}, statuses
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert db.session.scalar(select(Agent.unremitted_fen)) == 1000


# What a server receives of a header: bytes, read as Latin-1 (WSGI); no line breaks or NULs survive HTTP.
HEADER = TEXT.map(lambda t: t.encode().decode("latin-1")).filter(lambda t: not set(t) & {"\r", "\n", "\x00"})


def test_hostile_values_in_each_signed_header_are_refused_with_a_4xx_and_post_nothing(client, agent):
    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(name=st.sampled_from(["X-Agent-Id", "X-Timestamp", "X-Signature", "Idempotency-Key"]), value=HEADER)
    def run(name: str, value: str) -> None:
        body = payment_body()
        headers = signed_headers("AG01", agent, "POST", PATH, body, "k-1") | {name: value}
        response = client.post(PATH, data=body, headers=headers)
        assert 400 <= response.status_code < 500, (name, value[:40], response.status_code)

    run()
    _nothing_posted()
