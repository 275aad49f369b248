"""Concurrent agent postings through a real threaded server: never twice, never past the limit."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from recovery.extensions import db
from recovery.payments.channels import agents
from recovery.payments.models import Agent, Payment
from tests.credit.security_helpers import set_policy
from tests.factories import bill, customer, load
from tests.payments.agent_client import payment_body, signed_headers

PATH = "/api/v1/payments"


@pytest.fixture
def secret(app, recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")], bills=[bill("B1", "C1", "5000.00")])
    # The limit is what this test is about: its agent's agreement asks a deposit of 1000.00 yuan only.
    set_policy(app, {"agents": {"min_deposit": "1000.00"}})
    new = agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=100_000)  # limit 1,000 yuan
    db.session.commit()
    return new.secret


def _post_all(base_url: str, requests: list[tuple[bytes, str]], secret: str) -> list[tuple[int, dict]]:
    """Fire all requests at once (a barrier releases them together); returns (status, body) each."""
    barrier = threading.Barrier(len(requests))

    def send(item: tuple[bytes, str]) -> tuple[int, dict]:
        body, key = item
        request = urllib.request.Request(base_url + PATH, data=body, method="POST",
                                         headers=signed_headers("AG01", secret, "POST", PATH, body, key))
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def test_fifty_concurrent_requests_with_one_key_post_one_payment(live_server, secret):
    body = payment_body(amount="10.00")
    results = _post_all(live_server, [(body, "same-key")] * 50, secret)

    statuses = [status for status, _ in results]
    assert set(statuses) <= {201, 409}, statuses
    created = [answer for status, answer in results if status == 201]
    assert created, "at least the first request must succeed"
    assert len({answer["payment_id"] for answer in created}) == 1
    assert all(answer["code"] == "idempotency_key_in_flight" for status, answer in results if status == 409)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert db.session.scalar(select(Agent.unremitted_fen)) == 1000


def test_concurrent_payments_around_the_limit_never_exceed_it(live_server, secret):
    # Thirty payments of 100 yuan against a 1,000-yuan limit, all at once: exactly ten fit.
    requests = [(payment_body(amount="100.00", channel_ref=f"R-{i}"), f"key-{i}") for i in range(30)]
    results = _post_all(live_server, requests, secret)

    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 10 and statuses.count(403) == 20, statuses
    db.session.expire_all()
    takings = db.session.scalar(select(Agent.unremitted_fen))
    posted = db.session.scalar(select(func.sum(Payment.amount_fen)).where(Payment.channel_account == "AG01"))
    assert takings == posted == 100_000
