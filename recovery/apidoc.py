"""What the OpenAPI document says about callers, added in one place as flask-smorest documents each view.

The views' decorators describe their own arguments and answers. What the blueprints' guards do
around every view is said here, once, by an apispec plugin that completes each operation:
- signed operations (partner agents, kiosks; contracts.md): the HMAC signature as a security
  requirement, and the headers every request carries (Idempotency-Key on POST);
- staff writes (auth.views.json_writes_only): the 415 `json_required` answer to a body that is not
  JSON, and, where a view reads no fields, the empty JSON object it must still be sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from apispec import APISpec, BasePlugin

SIGNATURE = "signature"
WRITES = frozenset({"post", "put", "patch", "delete"})
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

SIGNATURE_SCHEME = {
    "type": "apiKey",
    "in": "header",
    "name": "X-Signature",
    "description": (
        "Lowercase hex HMAC-SHA256, keyed with the caller's API secret, over\n\n"
        "`METHOD + \"\\n\" + PATH + \"\\n\" + X-Timestamp + \"\\n\" + Idempotency-Key + \"\\n\" + "
        "hex(SHA-256(body))`\n\n"
        "PATH is the request path without the query string. For GET the key line is empty and the body is "
        "empty. X-Timestamp is Unix seconds and is refused when more than 300 s from the server's clock. The "
        "caller names itself in X-Agent-Id (partner agents) or X-Kiosk-Id (kiosks). A missing or wrong "
        "signature, or a stale timestamp, answers 401."
    ),
}


def _header(name: str, description: str, pattern: str) -> dict[str, Any]:
    return {"in": "header", "name": name, "required": True, "description": description,
            "schema": {"type": "string", "pattern": pattern}}


def signed_headers(id_header: str, method: str) -> list[dict[str, Any]]:
    """The header parameters of one signed operation."""
    headers = [
        _header(id_header, "The caller's code, as registered.", r"^[A-Za-z0-9_-]{1,32}$"),
        _header("X-Timestamp", "Unix seconds; at most 300 s from the server's clock.", r"^[0-9]{1,12}$"),
        _header("X-Signature", "The request's signature (see the `signature` security scheme).", r"^[0-9a-f]{64}$"),
    ]
    if method == "post":
        headers.append(_header(
            "Idempotency-Key", "Chosen by the caller for each new request, in its own key space: the same key "
            "with the same body answers the first answer again and posts nothing new; with another body, or "
            "while the first is still in flight, 409.", r"^[A-Za-z0-9_-]{1,64}$"))
    return headers


class CallerDoc(BasePlugin):
    """Completes the operations of the signed and the staff blueprints (tell it which with `describe`
    before the blueprints are registered)."""

    def __init__(self) -> None:
        self._signed: dict[str, str] = {}
        self._staff: frozenset[str] = frozenset()

    def describe(self, *, signed: Mapping[str, str], staff: Iterable[str]) -> None:
        """signed: blueprint name -> the header naming the caller (X-Agent-Id, X-Kiosk-Id); staff: blueprint names."""
        self._signed = dict(signed)
        self._staff = frozenset(staff)

    def init_spec(self, spec: APISpec) -> None:
        """Declare the signature scheme and the 415 answer once, for the operations to refer to."""
        spec.components.security_scheme(SIGNATURE, SIGNATURE_SCHEME)
        spec.components.response("JSON_REQUIRED", {
            "description": "The body is not JSON (code `json_required`): send it with Content-Type: "
                           "application/json, even when it is empty: {}",
            "content": ERROR})
        spec.components.schema("NoFields", component={
            "type": "object", "properties": {},
            "description": "Nothing to send but an empty JSON object: {}"})

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        """Add what the blueprint's guards require to each of the path's operations."""
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint in self._signed:
            for method, operation in operations.items():
                operation.setdefault("security", []).append({SIGNATURE: []})
                operation.setdefault("parameters", []).extend(signed_headers(self._signed[blueprint], method))
                operation.setdefault("responses", {}).setdefault(
                    "401", {"description": "Missing or bad signature, or a stale timestamp", "content": ERROR})
        elif blueprint in self._staff:
            for method, operation in operations.items():
                if method not in WRITES:
                    continue
                operation.setdefault("responses", {})["415"] = "JSON_REQUIRED"
                operation.setdefault("requestBody", {
                    "required": True, "content": {"application/json": {"schema": "NoFields"}}})
