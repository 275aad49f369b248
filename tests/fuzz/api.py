"""Fuzzing the service's own OpenAPI document with schemathesis, in process through the WSGI app.

Every generated request is sent as the right caller: staff endpoints by a signed-in admin (the
counter's by a signed-in cashier), the agent and kiosk endpoints with a valid signature computed
over the exact body sent. What must hold for every request, valid or not: no server error, and
every 4xx is the contract's JSON error (status, code, message).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from recovery.auth.service import create_user
from recovery.extensions import db
from recovery.payments.channels import agents, kiosks
from tests.factories import bill, customer, load
from tests.payments.agent_client import signed_headers

PASSWORD = "correct horse battery"
# Path parameters that name real rows: half the examples use them, so requests get past the 404.
KNOWN = {"code": "C1", "payment_id": "P-0001", "deposit_id": "1", "guarantee_id": "1"}


def seed(recovery, tmp_path: Path) -> dict[str, str]:
    """Two customers with bills and a payment, an agent and a kiosk (their secrets returned), an admin and a
    cashier."""
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2", grid="G2")],
         bills=[bill("B1", "C1", "100.00"), bill("B2", "C2", "80.00")])
    secrets = {"agent": agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=10_000_000).secret,
               "kiosk": kiosks.register_kiosk(db.session, "K01", location="营业厅").secret}
    create_user(db.session, "root", role="admin", password=PASSWORD)
    create_user(db.session, "till", role="cashier", password=PASSWORD)
    db.session.commit()
    return secrets


def sign_in(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def _body_bytes(kwargs: dict) -> bytes:
    if "json" in kwargs:
        return json.dumps(kwargs["json"]).encode()
    data = kwargs.get("data", b"")
    return data.encode() if isinstance(data, str) else (data or b"")


def check_response(case, response) -> None:
    """The fuzzing oracle: no 5xx; a 4xx is JSON with the contract's status, code and message."""
    case.validate_response(response, checks=[not_a_server_error])
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict), (case.as_curl_command(), response.text)
        assert body.get("status") == response.status_code, (case.as_curl_command(), body)
        assert isinstance(body.get("code"), str) and body["code"], (case.as_curl_command(), body)
        assert isinstance(body.get("message"), str) and body["message"].strip(), (case.as_curl_command(), body)


def fuzz(app: Flask, client_class, secrets: dict[str, str], *, max_examples: int, derandomize: bool = True) -> int:
    """Send `max_examples` generated requests (valid and invalid) to every operation; returns how many."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    staff = client_class(app, app.response_class, use_cookies=True)
    cashier = client_class(app, app.response_class, use_cookies=True)
    sign_in(staff, "root")
    sign_in(cashier, "till")
    sent = [0]
    for result in schema.get_all_operations():
        _fuzz_operation(result.ok(), staff, cashier, secrets, max_examples, sent, derandomize)
    return sent[0]


def _fuzz_operation(operation, staff, cashier, secrets: dict[str, str], max_examples: int, sent: list[int],
                    derandomize: bool) -> None:
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))
    path = operation.path

    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=derandomize,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data) -> None:
        case = data.draw(strategy)
        if case.path_parameters and data.draw(st.booleans()):
            case.path_parameters = {k: KNOWN.get(k, v) for k, v in case.path_parameters.items()}
        if path.startswith(("/api/v1/payments", "/api/v1/kiosk-payments")):
            response = signed_call(case, secrets, kiosk=path.startswith("/api/v1/kiosk-payments"))
        else:
            response = case.call(session=cashier if path.startswith("/api/v1/counter") else staff)
        sent[0] += 1
        check_response(case, response)

    run()


def signed_call(case, secrets: dict[str, str], *, kiosk: bool):
    """Send the case signed over the exact bytes sent, as the partner's system would."""
    kwargs = case.as_transport_kwargs()
    body = _body_bytes(kwargs)
    # Most examples carry a fresh key; a few reuse one, so replays and conflicts are fuzzed too.
    key = f"fz-{abs(hash((kwargs['path'], body))) % 10**12}"
    caller = ("K01", secrets["kiosk"]) if kiosk else ("AG01", secrets["agent"])
    # The server signs over the decoded path (request.path), as a partner sees it in its own URL.
    headers = signed_headers(caller[0], caller[1], case.method.upper(), unquote(kwargs["path"]), body,
                             key if case.method.upper() == "POST" else "")
    if kiosk:
        headers["X-Kiosk-Id"] = headers.pop("X-Agent-Id")
    headers["Content-Type"] = kwargs["headers"].get("Content-Type", "application/json")
    return case.call(data=body, headers=headers)
