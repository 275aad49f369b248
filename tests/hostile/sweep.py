"""Every text field of every JSON operation, filled with hostile text: a NUL byte, terminal escapes and
bidirectional overrides, and a string far longer than any field. A generated valid request is the base;
one field at a time is replaced."""

from __future__ import annotations

from collections.abc import Callable

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.fuzz.api import KNOWN, signed_call

NUL = "C1\x00DROP"
ESCAPES = "\x1b[2J\u202e\x07\x7f"
LONG = "长" * 10_000
# What each must get: NUL and the overlong text a 4xx (refused); escapes no server error.
HOSTILE = {"nul": NUL, "long": LONG, "escapes": ESCAPES}


def text_fields(body: object) -> list[str]:
    return [k for k, v in body.items() if isinstance(v, str)] if isinstance(body, dict) else []


def sweep(app: Flask, staff, cashier, secrets: dict[str, str], outcome: Callable[[str, str, str, object], None],
          kinds: tuple[str, ...]) -> int:
    """Send every (operation, text field, hostile value of `kinds`); `outcome(operation, field, kind, response)`
    judges each answer."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    sent = [0]
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "POST":
            continue
        _sweep_operation(operation, staff, cashier, secrets, outcome, sent, kinds)
    return sent[0]


def _sweep_operation(operation, staff, cashier, secrets, outcome, sent, kinds) -> None:
    path = operation.path

    @settings(max_examples=1, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(GenerationMode.POSITIVE))
    def run(case) -> None:
        if case.path_parameters:
            case.path_parameters = {k: KNOWN.get(k, v) for k, v in case.path_parameters.items()}
        base = case.body if isinstance(case.body, dict) else {}
        for field in text_fields(base):
            for kind in kinds:
                value = HOSTILE[kind]
                case.body = {**base, field: value}
                if path.startswith(("/api/v1/payments", "/api/v1/kiosk-payments")):
                    response = signed_call(case, secrets, kiosk=path.startswith("/api/v1/kiosk-payments"))
                else:
                    response = case.call(session=cashier if path.startswith("/api/v1/counter") else staff)
                sent[0] += 1
                outcome(f"{operation.method.upper()} {path}", field, kind, response)

    run()
