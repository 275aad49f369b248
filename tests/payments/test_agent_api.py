"""The partner-agent API: signatures, idempotency, limits, and agents seeing only their own payments."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from sqlalchemy import func, select

from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.payments.channels import agents
from recovery.payments.models import Agent, AgentSecret, IdempotencyKey, Payment
from tests.credit.security_helpers import set_policy
from tests.factories import bill, customer, load
from tests.payments.agent_client import payment_body, signed_headers

PATH = "/api/v1/payments"


@pytest.fixture
def agent(app, recovery, tmp_path):
    """Agent AG01 (deposit 1,000 yuan) and AG02; customer C1 with two bills, 100 and 80 yuan."""
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2")],
         bills=[bill("B1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20"),
                bill("B2", "C1", "80.00", "2026-02", "2026-03-03", "2026-03-20")])
    # The limit is what this test is about: its agent's agreement asks a deposit of 1000.00 yuan only.
    set_policy(app, {"agents": {"min_deposit": "1000.00"}})
    first = agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=100_000)
    second = agents.create_agent(db.session, "AG02", name="邮政代收", deposit_fen=100_000)
    db.session.commit()
    return {"AG01": first.secret, "AG02": second.secret}


def post(client, secrets, body: bytes, key: str = "k-1", agent: str = "AG01", **kw):
    headers = signed_headers(agent, secrets[agent], "POST", PATH, body, key, **kw)
    return client.post(PATH, data=body, headers=headers)


def get(client, secrets, payment_id: str, agent: str = "AG01"):
    path = f"{PATH}/{payment_id}"
    return client.get(path, headers=signed_headers(agent, secrets[agent], "GET", path, b""))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_signed_payment_is_posted_provisional_and_allocated_oldest_bill_first(client, agent):
    response = post(client, agent, payment_body(amount="120.50"))

    assert response.status_code == 201, response.json
    body = response.json
    assert body["payment_id"].startswith("P") and body["customer_id"] == "C1"
    assert (body["amount"], body["status"], body["balance"]) == ("120.50", "provisional", "59.50")
    assert body["allocations"] == [{"bill_id": "B1", "amount": "100.00"}, {"bill_id": "B2", "amount": "20.50"}]
    assert db.session.scalar(select(Agent.unremitted_fen).where(Agent.code == "AG01")) == 12050


def test_same_key_and_body_answer_the_same_and_post_once(client, agent):
    first = post(client, agent, payment_body())
    again = post(client, agent, payment_body())

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert _count(Payment) == 1
    assert db.session.scalar(select(func.count()).where(LedgerEntry.kind == "payment")) == 1


def test_same_key_with_another_body_is_409(client, agent):
    assert post(client, agent, payment_body(amount="10.00")).status_code == 201
    response = post(client, agent, payment_body(amount="11.00"))
    assert response.status_code == 409
    assert response.json["code"] == "idempotency_key_reused"
    assert _count(Payment) == 1


def test_a_request_still_in_flight_with_the_same_key_is_409(client, agent):
    agent_id = db.session.scalar(select(Agent.id).where(Agent.code == "AG01"))
    body = payment_body()
    import hashlib

    db.session.add(IdempotencyKey(agent_id=agent_id, key="k-1", request_hash=hashlib.sha256(body).hexdigest(),
                                  state="in_flight"))
    db.session.commit()
    response = post(client, agent, body)
    assert response.status_code == 409
    assert response.json["code"] == "idempotency_key_in_flight"


def test_a_claim_abandoned_by_a_dead_request_is_taken_over(client, agent):
    import hashlib

    agent_id = db.session.scalar(select(Agent.id).where(Agent.code == "AG01"))
    body = payment_body()
    db.session.add(IdempotencyKey(agent_id=agent_id, key="k-1", request_hash=hashlib.sha256(body).hexdigest(),
                                  state="in_flight",
                                  created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)))
    db.session.commit()
    assert post(client, agent, body).status_code == 201
    assert _count(Payment) == 1


def test_unknown_customer_is_404_and_the_key_can_be_used_again(client, agent):
    response = post(client, agent, payment_body(customer_id="NOPE"))
    assert response.status_code == 404
    assert response.json["code"] == "customer_not_found"
    assert post(client, agent, payment_body(customer_id="C2")).status_code == 201


@pytest.mark.parametrize(("field", "value"), [
    ("amount", "12.345"), ("amount", "-5.00"), ("amount", "1e3"), ("amount", 12.5),
    ("paid_at", "2026-03-10 09:15"), ("paid_at", "2026-03-10T09:15:00"), ("channel_ref", "has space"),
])
def test_malformed_fields_are_422_naming_the_field(client, agent, field, value):
    payload = json.loads(payment_body())
    payload[field] = value
    response = post(client, agent, json.dumps(payload).encode())
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert _count(Payment) == 0


def test_missing_fields_and_non_json_bodies_are_422(client, agent):
    assert post(client, agent, b'{"customer_id": "C1"}').status_code == 422
    assert post(client, agent, b"not json", key="k-2").status_code in (400, 422)
    assert _count(Payment) == 0


def test_bad_signature_stale_timestamp_and_unknown_agent_are_401(client, agent):
    body = payment_body()
    forged = signed_headers("AG01", "not-the-secret", "POST", PATH, body, "k-1")
    assert client.post(PATH, data=body, headers=forged).json["code"] == "bad_signature"

    stale = post(client, agent, body, timestamp=int(time.time()) - 301)
    assert (stale.status_code, stale.json["code"]) == (401, "stale_timestamp")

    stranger = signed_headers("AG99", agent["AG01"], "POST", PATH, body, "k-1")
    assert client.post(PATH, data=body, headers=stranger).status_code == 401

    tampered = signed_headers("AG01", agent["AG01"], "POST", PATH, body, "k-1")
    assert client.post(PATH, data=payment_body(amount="999.00"), headers=tampered).status_code == 401
    assert _count(Payment) == 0


def test_missing_idempotency_key_is_refused(client, agent):
    body = payment_body()
    headers = signed_headers("AG01", agent["AG01"], "POST", PATH, body, "")
    response = client.post(PATH, data=body, headers=headers)
    assert response.status_code == 422
    assert response.json["code"] == "bad_idempotency_key"


def test_a_payment_past_the_agent_limit_is_403_until_it_remits(client, agent):
    assert post(client, agent, payment_body(amount="900.00", channel_ref="R-1"), key="a").status_code == 201
    refused = post(client, agent, payment_body(amount="100.01", channel_ref="R-2"), key="b")
    assert refused.status_code == 403
    assert refused.json["code"] == "agent_limit_exceeded"
    assert "limit" in refused.json["message"]

    agents.record_remittance(db.session, "AG01", 50_000, remitted_on=dt.date(2026, 3, 10), reference="REM-1",
                             recorded_by="clerk")
    db.session.commit()
    assert post(client, agent, payment_body(amount="100.01", channel_ref="R-2"), key="b").status_code == 201
    assert db.session.scalar(select(Agent.unremitted_fen).where(Agent.code == "AG01")) == 90_000 + 10_001 - 50_000


def test_the_same_channel_reference_cannot_be_posted_twice_under_another_key(client, agent):
    assert post(client, agent, payment_body(), key="a").status_code == 201
    again = post(client, agent, payment_body(), key="b")
    assert (again.status_code, again.json["code"]) == (409, "channel_ref_already_posted")


def test_agents_see_only_their_own_payments(client, agent):
    payment_id = post(client, agent, payment_body()).json["payment_id"]
    own = get(client, agent, payment_id)
    assert (own.status_code, own.json["payment_id"]) == (200, payment_id)
    other = get(client, agent, payment_id, agent="AG02")
    assert (other.status_code, other.json["code"]) == (404, "payment_not_found")


def test_secrets_are_stored_encrypted_and_rotation_keeps_both_valid(client, agent):
    stored = db.session.scalars(select(AgentSecret.secret_encrypted)).all()
    assert all(agent["AG01"] not in token for token in stored)

    new = agents.rotate_secret(db.session, "AG01").secret
    db.session.commit()
    assert post(client, agent, payment_body(channel_ref="R-old"), key="old").status_code == 201
    assert post(client, {"AG01": new}, payment_body(channel_ref="R-new"), key="new").status_code == 201

    db.session.execute(AgentSecret.__table__.update().where(AgentSecret.expires_at.is_not(None))
                       .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    db.session.commit()
    # Each worker keeps what it read of a caller's secrets for agents.CACHE_SECONDS: the cache running out is
    # what makes a worker read the changed expiry.
    client.application.extensions["signed_callers"].clear()
    assert post(client, agent, payment_body(channel_ref="R-late"), key="late").status_code == 401


def test_a_suspended_agent_is_403(client, agent):
    db.session.execute(Agent.__table__.update().where(Agent.code == "AG01").values(status="suspended"))
    db.session.commit()
    response = post(client, agent, payment_body())
    assert (response.status_code, response.json["code"]) == (403, "agent_suspended")


def test_agent_create_prints_the_secret_once_as_json(recovery):
    result = recovery("agent", "create", "AG07", "--name", "社区便利店", "--deposit", "50000.00", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert (printed["code"], printed["limit"]) == ("AG07", "50000.00")
    assert len(printed["secret"]) >= 32


def test_an_agent_suspended_after_its_secret_was_cached_is_refused_at_once(client, agent):
    assert post(client, agent, payment_body(channel_ref="R-1"), key="k-1").status_code == 201  # now cached
    db.session.execute(Agent.__table__.update().where(Agent.code == "AG01").values(status="suspended"))
    db.session.commit()
    response = post(client, agent, payment_body(channel_ref="R-2"), key="k-2")
    assert (response.status_code, response.json["code"]) == (403, "agent_suspended")
    assert _count(Payment) == 1
