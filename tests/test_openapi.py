"""The OpenAPI document says what the API does: each route is walked and asked, and the document must agree
with its answer (signed or staff, what a staff write says to a body that is not JSON). The browsable page
loads nothing from outside."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from recovery.auth.service import create_user
from recovery.extensions import db
from tests.web.data import cheap_password_hashing

ROUTE_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
PASSWORD = "correct horse battery"


def _operations(app) -> list[tuple[str, str, str]]:
    """(method, OpenAPI path, a URL to call) of every route of the JSON API."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = ROUTE_ARGUMENT.sub(r"{\2}", rule.rule)
        url = ROUTE_ARGUMENT.sub(lambda m: "1" if m.group(1) == "int" else "X1", rule.rule)
        found += [(method, path, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def _ref(spec: dict, item: dict) -> dict:
    """Follow a local $ref."""
    while "$ref" in item:
        node = spec
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


def test_the_document_describes_each_signed_and_staff_operation_as_the_api_answers_it(app, client):
    spec = client.get("/api/openapi.json").json
    validate(spec)  # a well-formed OpenAPI 3.0 document

    schemes = spec["components"]["securitySchemes"]
    [(scheme, declared)] = [(name, s) for name, s in schemes.items() if s.get("name") == "X-Signature"]
    assert (declared["type"], declared["in"]) == ("apiKey", "header")
    for part in ("METHOD", "PATH", "X-Timestamp", "Idempotency-Key", "hex(SHA-256(body))", "300 s"):
        assert part in declared["description"], part

    signed, staff_writes = [], []
    for method, path, url in _operations(app):
        operation = spec["paths"][path][method.lower()]  # every route is documented
        asked = client.open(url, method=method, json={})  # neither signed nor signed in
        if asked.json.get("code") == "missing_signature":
            signed.append(f"{method} {path}")
            caller_header = asked.json["message"].split(",")[0]  # "X-Agent-Id, X-Timestamp and X-Signature ..."
            assert {scheme: []} in operation["security"], path
            headers = {p["name"] for p in operation["parameters"] if p["in"] == "header" and p["required"]}
            wanted = {caller_header, "X-Timestamp", "X-Signature", *(["Idempotency-Key"] if method == "POST" else [])}
            assert wanted <= headers, (method, path, headers)
        elif method in WRITES:
            staff_writes.append(f"{method} {path}")
            answer = client.open(url, method=method, data="customer_id=C1", content_type="text/plain")
            assert (answer.status_code, answer.json["code"]) == (415, "json_required"), (method, path)
            assert "json_required" in _ref(spec, operation["responses"]["415"])["description"], (method, path)
            body = operation["requestBody"]
            assert body["required"] and "application/json" in body["content"], (method, path)

    assert sorted(signed) == ["GET /api/v1/kiosk-payments/{payment_id}", "GET /api/v1/payments/{payment_id}",
                              "POST /api/v1/kiosk-payments", "POST /api/v1/payments"]
    assert len(staff_writes) >= 30
    error = spec["components"]["schemas"]["Error"]["properties"]
    assert (error["status"]["type"], error["code"]["type"], error["message"]["type"]) == ("integer", "string", "string")


def test_the_api_docs_page_loads_its_own_assets_and_no_validator_badge_from_outside(client, monkeypatch):
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "docs", role="officer", password=PASSWORD)
    db.session.commit()
    assert client.post("/login", data={"username": "docs", "password": PASSWORD}).status_code == 302

    page = client.get("/api/docs").get_data(as_text=True)
    assert '"validatorUrl": null' in page  # Swagger UI's default would send the document to validator.swagger.io
    assert not re.search(r"(https?:)?//", page)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(assets) == 3
    for asset in assets:
        assert asset.startswith("/api/docs/assets/"), asset
        assert client.get(asset).status_code == 200, asset
