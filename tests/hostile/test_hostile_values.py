"""The class, not the instances: hostile values in every field of every route, as a signed-in supervisor and
as an officer. The routes come from the URL map and their fields from the OpenAPI document (the JSON API)
and from the page views' modules (what they read from the query string and the form, their input schemas,
the forms of the templates they render), so a route or a field added tomorrow is driven the day it exists.

What must hold for every request: no server error; and a refusal (any 4xx) changes no row in any table.
And afterwards, on the database the hostile run went through: every nightly job runs clean, and every page
opens without a server error.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema
from sqlalchemy import event

import recovery
from recovery.extensions import api, db
from recovery.payments.channels import agents, kiosks
from recovery.timeutil import today
from tests.conftest import FreshContextClient
from tests.payments.agent_client import signed_headers
from tests.web.data import PASSWORD, cheap_password_hashing, load_district

INTEGERS = [2**63, 2**63 - 1, -(2**63) - 1, -(2**63), -1, 0, 10**40]
CALENDAR_ENDS = ["0001-01-01", "9999-12-31", "0000-00-00", "1899-12-31", "2200-01-01", "0001-01", "9999-12",
                 "0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00-08:00", "9999-12-31T23:59:59-08:00"]
NON_ASCII_DIGITS = ["１２", "١٢٣", "²", "߁߂", "١٠٠.٠٠", "１.００", "𝟗𝟗"]
CONTROL = ["1.00\n", "2026-12-01\r\n", "/reconcile\r\nSet-Cookie: x=1", "\x1b[2J", "\u202e", "a\x00b", "\x7f"]
HUGE = ["9" * 4301, "长" * 10_000]


def nested(depth: int) -> object:
    value: object = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


TEXT = st.one_of(st.sampled_from([*map(str, INTEGERS), *CALENDAR_ENDS, *NON_ASCII_DIGITS, *CONTROL, *HUGE]),
                 st.integers(min_value=-(2**70), max_value=2**70).map(str))
JSON = st.one_of(TEXT, st.sampled_from([*INTEGERS, 1e308, -0.0, nested(40), [nested(3)] * 3, {"": None}]),
                 st.integers(min_value=-(2**70), max_value=2**70))
SIGNED = ("/api/v1/payments", "/api/v1/kiosk-payments")
# Sign-out would end the session the sweep runs in (its own tests: tests/hardening/test_sessions.py); files
# served from disk take no fields.
SKIPPED = {"auth.logout", "static", "swagger_ui_assets"}
# Written on a refusal by design: a failed sign-in is counted (the lockout) and audited.
WRITTEN_ON_REFUSAL = {"auth.login": {"login_throttles", "audit_log"}}


TEMPLATES = Path(recovery.__file__).parent / "templates"


@cache
def page_fields(module_name: str) -> tuple[str, ...]:
    """The fields a page view's module reads: names it gets from the query string or the form, the fields of the
    schemas it loads them with, and the form fields of the templates it renders."""
    module = sys.modules[module_name]
    source = inspect.getsource(module)
    names = set(re.findall(r'request\.(?:args|form)\.get\("([a-z_]+)"', source)) | {"page", "lang", "next"}
    for value in vars(module).values():
        # Input schemas are named …In (bodies) and …Args (query strings) by the house convention.
        if isinstance(value, type) and issubclass(value, Schema) and value.__name__.endswith(("In", "Args")):
            names |= {field.data_key or name for name, field in value().fields.items()}
    for template in re.findall(r'render_template\(\s*"([^"]+)"', source):
        names |= set(re.findall(r'name="([a-z_]+)"', (TEMPLATES / template).read_text()))
    return tuple(sorted(names - {"csrf_token", "viewport"}))


def api_fields(app: Flask) -> dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]]:
    """(OpenAPI path, method) -> (query parameter names, JSON body property names), from the app's document."""
    with app.test_request_context():
        spec = api.spec.to_dict()
    schemas = spec["components"]["schemas"]

    def properties(schema: dict) -> tuple[str, ...]:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return tuple(schema.get("properties", {}))

    fields = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            query = tuple(p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            fields[(path, method.upper())] = (query, properties(body) if body else ())
    return fields


def routes(app: Flask) -> list[tuple[str, str, str, str]]:
    """(endpoint, method, URL with real path values, OpenAPI path) for every route in the URL map, but those
    in SKIPPED."""
    known = {"code": "C1", "payment_id": "P-0001", "what": "applications", "kind": "csv", "filename": "x"}
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED:
            continue
        url, openapi = rule.rule, rule.rule
        for name, converter in rule._converters.items():
            value = "1" if converter.__class__.__name__ == "BoundedInt" else known.get(name, "C1")
            url = re.sub(rf"<[^<>]*\b{name}>", value, url)
            openapi = re.sub(rf"<[^<>]*\b{name}>", "{" + name + "}", openapi)
        out += [(rule.endpoint, m, url, openapi) for m in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    return sorted(out, key=lambda r: (r[2], r[1]))


WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)


@contextmanager
def committed_writes() -> Iterator[list[str]]:
    """The tables that statements changed rows of (an INSERT, UPDATE or DELETE with a row count) in transactions
    that then committed, as the database driver executed them: a refusal must leave this empty."""
    committed: list[str] = []

    def executed(conn, cursor, statement, _params, _context, _many) -> None:
        if (m := WRITE.match(statement)) and cursor.rowcount != 0:
            conn.info.setdefault("wrote", []).append(m.group(1))

    def commit(conn) -> None:
        committed.extend(conn.info.pop("wrote", []))

    def rollback(conn) -> None:
        conn.info.pop("wrote", None)

    listeners = (("after_cursor_execute", executed), ("commit", commit), ("rollback", rollback))
    for name, listener in listeners:
        event.listen(db.engine, name, listener)
    try:
        yield committed
    finally:
        for name, listener in listeners:
            event.remove(db.engine, name, listener)


@pytest.fixture(params=["zhao", "li"], ids=["supervisor", "officer"])
def signed_in(request, app, recovery, tmp_path, monkeypatch):
    """A district, an agent and a kiosk, and a client signed in as the supervisor (zhao) or an officer (li)."""
    cheap_password_hashing(monkeypatch)
    load_district(recovery, tmp_path)
    secrets = {"/api/v1/payments": ("AG01", agents.create_agent(db.session, "AG01", name="便民超市",
                                                                 deposit_fen=10_000_000).secret),
               "/api/v1/kiosk-payments": ("K01", kiosks.register_kiosk(db.session, "K01", location="营业厅").secret)}
    db.session.commit()
    client = FreshContextClient(app, app.response_class, use_cookies=True)
    assert client.post("/login", data={"username": request.param, "password": PASSWORD}).status_code == 302
    return client, secrets


def _send(client, secrets, method: str, url: str, values: dict):
    """One request with `values` where the route takes its fields: the query string for reads, the form for a
    page's writes, the JSON body for the API's writes (signed as the agent or kiosk on the signed API)."""
    as_text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    if method == "GET":
        return client.get(url, query_string=as_text)
    if not url.startswith("/api/"):
        return client.open(url, method=method, data=as_text)
    body = json.dumps(values).encode()
    if url.startswith(SIGNED):
        prefix = next(p for p in SIGNED if url.startswith(p))
        caller, secret = secrets[prefix]
        headers = signed_headers(caller, secret, method, url, body, f"h-{abs(hash(body)) % 10**12}")
        if prefix == "/api/v1/kiosk-payments":
            headers["X-Kiosk-Id"] = headers.pop("X-Agent-Id")
        return client.open(url, method=method, data=body, headers=headers)
    return client.open(url, method=method, data=body, content_type="application/json")


def test_hostile_values_in_every_field_of_every_route_never_cause_a_server_error_and_refusals_change_nothing(
        app, signed_in, recovery):
    client, secrets = signed_in
    every = routes(app)
    documented = api_fields(app)
    assert len(every) >= 130, len(every)
    wrong: list[str] = []
    taken: set[str] = set()  # tables written by requests that were taken: the write detector sees writes

    @settings(max_examples=3, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def sweep(data) -> None:
        for endpoint, method, url, openapi in every:
            query, body = documented.get((openapi, method), ((), ()))
            if not url.startswith("/api/"):
                names, strategy = page_fields(app.view_functions[endpoint].__module__), TEXT
            elif method == "GET":
                names, strategy = query or ("page",), TEXT
            else:
                names, strategy = body or ("note",), JSON
            # One or two hostile fields, the others left out: a view that stops at the first bad field still
            # meets each of them alone.
            chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True), label=url)
            values = {name: data.draw(strategy, label=name) for name in chosen}
            with committed_writes() as written:
                answer = _send(client, secrets, method, url, values)
            if answer.status_code >= 500:
                wrong.append(f"{method} {url} {sorted(values)}: {answer.status_code}")
            changed = set(written) - WRITTEN_ON_REFUSAL.get(endpoint, set())
            if 400 <= answer.status_code < 500 and changed:
                wrong.append(f"{method} {url} refused with {answer.status_code} but changed {sorted(changed)}")
            elif answer.status_code < 400:
                taken.update(written)

    sweep()
    assert not wrong, "\n".join(wrong[:20])
    assert taken, "no accepted request wrote anything: the write detector is blind"

    # The night after: every job, through `recovery night`, then every page.
    night = recovery("night", "--date", today().isoformat())
    assert night.exit_code == 0, night.output
    pages = [url for _endpoint, method, url, _openapi in every if method == "GET" and not url.startswith("/api/")]
    assert {"/assessment", "/assessment.csv", "/customers", "/reconcile"} <= set(pages)
    for url in pages:
        assert client.get(url).status_code < 500, url
