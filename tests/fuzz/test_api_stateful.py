"""The API driven statefully: schemathesis chains calls by the links it infers from the OpenAPI document (an
exemption's id into its revocation, a visit's into a promise, a guarantee's into its release), each request sent
as the right caller, with the stateless fuzzing's oracle: never a server error, every 4xx the contract's JSON
error. A chain only continues past a call that succeeded, so the operations reached only through a link are
few in a short run (an exemption's revocation, in the run pinned by derandomize)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import FreshContextClient
from tests.fuzz.api import check_response, seed, sign_in, signed_call
from tests.web.data import cheap_password_hashing

SIGNED = ("/api/v1/payments", "/api/v1/kiosk-payments")


def test_chained_api_calls_never_get_a_server_error_and_every_4xx_says_why(app, recovery, tmp_path, monkeypatch):
    cheap_password_hashing(monkeypatch)
    secrets = seed(recovery, tmp_path)
    staff = FreshContextClient(app, app.response_class, use_cookies=True)
    cashier = FreshContextClient(app, app.response_class, use_cookies=True)
    sign_in(staff, "root")
    sign_in(cashier, "till")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    calls = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case) -> None:
            # The customer every chain works on: a random code would end each chain in a 404.
            if case.path_parameters and "code" in case.path_parameters:
                case.path_parameters["code"] = "C1"
            # A reference is unique per customer (a guarantee's): hypothesis replays a chain it has run before,
            # and the replayed creation must succeed as the first did, or the chain it fed ends differently.
            if isinstance(case.body, dict) and isinstance(case.body.get("reference"), str):
                case.body["reference"] = f"{case.body['reference'][:40]}-{len(calls)}"

        def call(self, case, **kwargs):
            calls.append(f"{case.method} {case.path}")
            if case.path.startswith(SIGNED):
                return signed_call(case, secrets, kiosk=case.path.startswith("/api/v1/kiosk-payments"))
            return case.call(session=cashier if case.path.startswith("/api/v1/counter") else staff)

        def validate_response(self, response, case, **kwargs) -> None:
            check_response(case, response)

    Workflow.run(settings=settings(max_examples=15, stateful_step_count=6, deadline=None, database=None,
                                   derandomize=True, suppress_health_check=list(HealthCheck)))
    assert len(calls) >= 30 and len(set(calls)) >= 8, sorted(set(calls))
