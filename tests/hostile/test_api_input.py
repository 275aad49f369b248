"""Hostile requests to the JSON API: malformed and oversized bodies, impossible amounts, NUL bytes,
escapes and overlong text in every field. Each gets a clear JSON error and changes nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from recovery.extensions import db
from recovery.payments.models import Agent, Payment
from tests.conftest import FreshContextClient
from tests.fuzz.api import seed, sign_in
from tests.hostile.sweep import sweep
from tests.payments.agent_client import just_now, signed_headers
from tests.web.data import cheap_password_hashing

PATH = "/api/v1/payments"


@pytest.fixture
def world(app, recovery, tmp_path, monkeypatch):
    cheap_password_hashing(monkeypatch)
    return seed(recovery, tmp_path)


def _rows() -> dict[str, int]:
    """Row counts of every table: what "changes nothing" is checked against."""
    db.session.rollback()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def _post(client, secret: str, body: bytes, key: str):
    return client.post(PATH, data=body, headers=signed_headers("AG01", secret, "POST", PATH, body, key))


def _clear_error(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert body["status"] == response.status_code and body["code"] and body["message"].strip()
    return body


AMOUNTS = ["1e400", "-0.001", "12345678901234567890.00", "0.005", "-1.00", "0", "0.00", "NaN", "Infinity",
           "１２.００", " 12.00\x00", "12,00", "0x10", "", "1.00\n", "1.00\r\n", "1\n.00"]


def test_impossible_amounts_malformed_and_oversized_bodies_are_refused_and_post_nothing(app, client, world):
    before = _rows()
    secret = world["agent"]
    good = {"customer_id": "C1", "channel_ref": "R-1", "paid_at": just_now()}
    for i, amount in enumerate(AMOUNTS):
        body = json.dumps({**good, "amount": amount}).encode()
        _clear_error(_post(client, secret, body, f"a-{i}"), 422)
    # Amounts as JSON numbers, including one no float can hold.
    for i, raw in enumerate([b"1e400", b"120.5", b"-1", b"1" * 400]):
        body = b'{"customer_id": "C1", "channel_ref": "R-1", "paid_at": "' + just_now().encode() + b'", "amount": ' \
               + raw + b"}"
        _clear_error(_post(client, secret, body, f"n-{i}"), 400, 422)
    for i, body in enumerate([b"{", b'{"amount": "1.00",}', b"\xff\xfe{}", b"[]", b"null", b'"text"', b"1",
                              b'{"customer_id": "C1"}' * 2, json.dumps({**good, "amount": "1.00"}).encode()[:-1]]):
        _clear_error(_post(client, secret, body, f"m-{i}"), 400, 422)
    # A body far beyond the request size limit is refused before it is read.
    huge = b'{"customer_id": "C1", "note": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1) + b'"}'
    assert _clear_error(_post(client, secret, huge, "big"), 413)["code"] == "request_entity_too_large"
    assert _rows() == before
    assert db.session.scalar(select(Agent.unremitted_fen).where(Agent.code == "AG01")) == 0
    # The same request with a sane amount is taken: the refusals above did not lock anything up.
    ok = _post(client, secret, json.dumps({**good, "amount": "0.01"}).encode(), "good-1")
    assert ok.status_code == 201, ok.get_json()
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_nul_bytes_and_overlong_text_in_every_field_are_refused_and_change_nothing(app, world):
    staff = FreshContextClient(app, app.response_class, use_cookies=True)
    cashier = FreshContextClient(app, app.response_class, use_cookies=True)
    sign_in(staff, "root")
    sign_in(cashier, "till")
    before = _rows()
    wrong: list[str] = []

    def refused(operation: str, field: str, kind: str, response) -> None:
        ok = 400 <= response.status_code < 500
        if ok:
            body = response.json()
            ok = isinstance(body, dict) and body.get("status") == response.status_code and bool(body.get("message"))
        if not ok:
            wrong.append(f"{operation} {field}={kind}: {response.status_code} {response.text[:160]}")

    sent = sweep(app, staff, cashier, world, refused, kinds=("nul", "long"))
    assert sent > 40
    assert not wrong, "\n".join(wrong)
    after = _rows()
    after.pop("audit_log", None), before.pop("audit_log", None)  # sign-ins are audited; nothing else may move
    assert after == before


def test_escapes_and_bidi_overrides_in_every_field_never_cause_a_server_error(app, world):
    staff = FreshContextClient(app, app.response_class, use_cookies=True)
    cashier = FreshContextClient(app, app.response_class, use_cookies=True)
    sign_in(staff, "root")
    sign_in(cashier, "till")
    wrong: list[str] = []

    def no_server_error(operation: str, field: str, kind: str, response) -> None:
        if response.status_code >= 500 or (response.status_code >= 400 and not response.json().get("message")):
            wrong.append(f"{operation} {field}={kind}: {response.status_code} {response.text[:160]}")

    assert sweep(app, staff, cashier, world, no_server_error, kinds=("escapes",)) > 20
    assert not wrong, "\n".join(wrong)


def test_ids_past_64_bits_in_any_url_match_no_route_instead_of_failing_in_the_database(app, world):
    staff = FreshContextClient(app, app.response_class, use_cookies=True)
    sign_in(staff, "root")
    huge = str(2**63)
    tried = 0
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if conv.__class__.__name__ == "BoundedInt"]
        if not ints:
            continue
        url = rule.rule
        for name in rule.arguments:
            value = huge if name in ints else "C1"
            url = url.replace(f"<int:{name}>", value).replace(f"<{name}>", value).replace(f"<string:{name}>", value)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            answer = staff.open(url, method=method, json={})
            assert answer.status_code == 404, (method, url, answer.status_code)
            tried += 1
    assert tried >= 10
