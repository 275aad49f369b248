"""The signed APIs' contract checked on its own terms (contracts.md), not through the product's code:
a known-answer signature vector, each caller's own Idempotency-Key space, and no payment dated in the future."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
import time_machine
from sqlalchemy import func, select, update

from recovery import crypto
from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.payments.channels import agents, kiosks
from recovery.payments.models import (
    Agent,
    AgentSecret,
    IdempotencyKey,
    KioskIdempotencyKey,
    Payment,
    Receipt,
)
from tests.factories import bill, customer, load
from tests.payments.agent_client import payment_body, signed_headers

AGENT_PATH = "/api/v1/payments"
KIOSK_PATH = "/api/v1/kiosk-payments"

# The known-answer vector. The expected signatures were computed outside this code base, from contracts.md's
# definition alone, with OpenSSL:
#   printf 'POST\n/api/v1/payments\n1773105300\nkat-0001\n%s' "$(printf '%s' "$BODY" | openssl dgst -sha256 -hex
#     | awk '{print $NF}')" | openssl dgst -sha256 -hmac "$SECRET" -hex
KAT_SECRET = "kat-secret-5f3c9e1d7a2b4c6e8f0a1b2c3d4e5f60"
KAT_TIMESTAMP = "1773105300"  # 2026-03-10T01:15:00Z
KAT_KEY = "kat-0001"
KAT_BODY = (b'{"customer_id": "C1", "amount": "120.50", "channel_ref": "R-KAT-1", '
            b'"paid_at": "2026-03-10T09:14:00+08:00"}')
KAT_BODY_SHA256 = "3c466634927b9d5ad62746e71bb15bd9b18cf489539a225d070dc1928439dbe9"
KAT_POST_SIGNATURE = "7ef7b35731168af234f8f394fe3e8742d739d0c54d8d027dd0c5678efe6832ad"
# GET: the key line is empty and the body is empty (SHA-256 of nothing).
KAT_GET_PATH = "/api/v1/payments/PKAT0001"
KAT_GET_SIGNATURE = "5ddf03654498ac63023c16e9285cc04f6da8f47893d8d2e88675b2da4e9b1d7a"
KAT_INSTANT = dt.datetime.fromtimestamp(int(KAT_TIMESTAMP), dt.UTC)


def contract_signature(secret: str, method: str, path: str, timestamp: str, key: str, body: bytes) -> str:
    """contracts.md, word for word: lowercase hex HMAC-SHA256 over
    METHOD \\n PATH \\n X-Timestamp \\n Idempotency-Key \\n hex(SHA-256(body))."""
    signed = f"{method}\n{path}\n{timestamp}\n{key}\n{hashlib.sha256(body).hexdigest()}"
    return hmac.new(secret.encode(), signed.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def callers(app, recovery, tmp_path):
    """Agents AG01 (signing with the vector's secret) and AG02, kiosks K01 and K02; C1 owes 100 and 80 yuan."""
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20"),
                bill("B2", "C1", "80.00", "2026-02", "2026-03-03", "2026-03-20")])
    first = agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=3_000_000)
    db.session.execute(update(AgentSecret).where(AgentSecret.agent_id == first.agent.id)
                       .values(secret_encrypted=crypto.encrypt(KAT_SECRET)))
    second = agents.create_agent(db.session, "AG02", name="邮政代收", deposit_fen=3_000_000)
    k1 = kiosks.register_kiosk(db.session, "K01", location="营业厅一楼")
    k2 = kiosks.register_kiosk(db.session, "K02", location="社区服务中心")
    db.session.commit()
    return {"AG01": KAT_SECRET, "AG02": second.secret, "K01": k1.secret, "K02": k2.secret}


def _headers(caller: str, signature: str, *, timestamp: str = KAT_TIMESTAMP, key: str | None = KAT_KEY) -> dict:
    headers = {"X-Agent-Id": caller, "X-Timestamp": timestamp, "X-Signature": signature,
               "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def _kiosk_headers(kiosk: str, secret: str, path: str, body: bytes, key: str) -> dict:
    headers = signed_headers(kiosk, secret, "POST", path, body, key)
    headers["X-Kiosk-Id"] = headers.pop("X-Agent-Id")
    return headers


def _count(what) -> int:
    return db.session.scalar(select(func.count()).select_from(what))


def test_the_known_answer_signature_is_accepted_and_each_signed_part_invalidates_it_when_changed(client, callers):
    # The test's own signer reproduces the vector computed outside, so the variants below are signed by the
    # contract, not by the product.
    assert hashlib.sha256(KAT_BODY).hexdigest() == KAT_BODY_SHA256
    assert contract_signature(KAT_SECRET, "POST", AGENT_PATH, KAT_TIMESTAMP, KAT_KEY, KAT_BODY) == KAT_POST_SIGNATURE
    assert contract_signature(KAT_SECRET, "GET", KAT_GET_PATH, KAT_TIMESTAMP, "", b"") == KAT_GET_SIGNATURE

    variants = {
        "method": ("PUT", AGENT_PATH, KAT_TIMESTAMP, KAT_KEY, KAT_BODY),
        "path": ("POST", KIOSK_PATH, KAT_TIMESTAMP, KAT_KEY, KAT_BODY),
        "timestamp": ("POST", AGENT_PATH, str(int(KAT_TIMESTAMP) + 1), KAT_KEY, KAT_BODY),
        "key": ("POST", AGENT_PATH, KAT_TIMESTAMP, "kat-0002", KAT_BODY),
        "body": ("POST", AGENT_PATH, KAT_TIMESTAMP, KAT_KEY, KAT_BODY.replace(b"120.50", b"120.51")),
    }
    with time_machine.travel(KAT_INSTANT, tick=False):
        for part, signed in variants.items():
            # The request is the vector's; only the signature was made over a changed part.
            response = client.post(AGENT_PATH, data=KAT_BODY,
                                   headers=_headers("AG01", contract_signature(KAT_SECRET, *signed)))
            assert (response.status_code, response.json["code"]) == (401, "bad_signature"), part
        # The vector's signature on a request whose key, body or timestamp differs from what was signed.
        assert client.post(AGENT_PATH, data=KAT_BODY,
                           headers=_headers("AG01", KAT_POST_SIGNATURE, key="kat-0002")).status_code == 401
        assert client.post(AGENT_PATH, data=KAT_BODY.replace(b"120.50", b"120.51"),
                           headers=_headers("AG01", KAT_POST_SIGNATURE)).status_code == 401
        assert client.post(AGENT_PATH, data=KAT_BODY, headers=_headers(
            "AG01", KAT_POST_SIGNATURE, timestamp=str(int(KAT_TIMESTAMP) - 1))).status_code == 401
        assert _count(Payment) == 0

        accepted = client.post(AGENT_PATH, data=KAT_BODY, headers=_headers("AG01", KAT_POST_SIGNATURE))
        assert accepted.status_code == 201, accepted.json
        assert (accepted.json["amount"], accepted.json["balance"]) == ("120.50", "59.50")

        # GET: signed with an empty key line over an empty body; past the signature, the payment is unknown.
        read = client.get(KAT_GET_PATH, headers=_headers("AG01", KAT_GET_SIGNATURE, key=None))
        assert (read.status_code, read.json["code"]) == (404, "payment_not_found")
        forged = contract_signature(KAT_SECRET, "GET", KAT_GET_PATH, KAT_TIMESTAMP, KAT_KEY, b"")
        assert client.get(KAT_GET_PATH, headers=_headers("AG01", forged, key=None)).status_code == 401
    assert _count(Payment) == 1


def test_two_agents_and_two_kiosks_may_use_the_same_idempotency_key(client, callers):
    key = "same-key-1"
    for agent, ref in (("AG01", "R-A1"), ("AG02", "R-A2")):
        payload = payment_body(amount="10.00", channel_ref=ref)
        response = client.post(AGENT_PATH, data=payload,
                               headers=signed_headers(agent, callers[agent], "POST", AGENT_PATH, payload, key))
        assert response.status_code == 201, (agent, response.json)
    for kiosk, ref in (("K01", "R-K1"), ("K02", "R-K2")):
        payload = payment_body(amount="10.00", channel_ref=ref, tender="cash")
        response = client.post(KIOSK_PATH, data=payload,
                               headers=_kiosk_headers(kiosk, callers[kiosk], KIOSK_PATH, payload, key))
        assert response.status_code == 201, (kiosk, response.json)

    posted = db.session.execute(select(Payment.channel_account, Payment.channel_ref)).all()
    assert sorted(posted) == [("AG01", "R-A1"), ("AG02", "R-A2"), ("K01", "R-K1"), ("K02", "R-K2")]
    assert db.session.scalar(select(func.count()).where(LedgerEntry.kind == "payment")) == 4


def test_a_payment_dated_in_the_future_is_refused_on_every_signed_channel_and_nothing_is_stored(client, callers):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)  # past the contract's five minutes of clock skew
    for n, paid_at in enumerate((soon, soon + dt.timedelta(days=400))):
        stamp = paid_at.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()
        payload = payment_body(channel_ref=f"R-F{n}", paid_at=stamp)
        agent = client.post(AGENT_PATH, data=payload,
                            headers=signed_headers("AG02", callers["AG02"], "POST", AGENT_PATH, payload, f"f-{n}"))
        assert (agent.status_code, agent.json["code"]) == (422, "paid_at_in_future"), stamp
        payload = payment_body(channel_ref=f"R-F{n}", paid_at=stamp, tender="card")
        kiosk = client.post(KIOSK_PATH, data=payload,
                            headers=_kiosk_headers("K01", callers["K01"], KIOSK_PATH, payload, f"f-{n}"))
        assert (kiosk.status_code, kiosk.json["code"]) == (422, "paid_at_in_future"), stamp

    assert [_count(m) for m in (Payment, LedgerEntry, Receipt, IdempotencyKey, KioskIdempotencyKey)] == [
        0, 2, 0, 0, 0]  # the two ledger entries are C1's bills
    assert db.session.scalar(select(Agent.unremitted_fen).where(Agent.code == "AG02")) == 0
