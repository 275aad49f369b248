"""Access control over every route the application has: found in its URL map, so a new page or endpoint is
covered the day it is added. Nobody gets in unsigned; an officer never reaches another grid's customer,
whatever the route; each staff page opens for the roles that work there and for no one else."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, IntegerConverter

from recovery.audit.models import AuditEntry
from recovery.auth.permissions import PERMISSIONS, Action
from recovery.auth.service import create_user
from recovery.extensions import db
from tests.web.data import PASSWORD, load_district

# Reachable without signing in: the sign-in page itself, the language switch, health and metrics (local
# addresses), the API's description (partner agents build their clients from it), static files.
PUBLIC = {"auth.login", "auth.set_language", "web.index", "static", "ops_health.healthz", "ops_health.readyz",
          "ops_metrics.metrics", "api-docs.openapi_json"}
# The browsable API page is a page for staff: it sends the unsigned to the sign-in page like any other.
API_DOCS_PAGES = {"api-docs.openapi_swagger_ui", "swagger_ui_assets"}
# Partner agents and kiosks sign each request instead of signing in.
SIGNED = {"agent_payments.AgentPayments", "agent_payments.AgentPayment", "kiosk_payments.KioskPayments",
          "kiosk_payments.KioskPayment"}

ROLES = ("officer", "clerk", "supervisor", "admin", "cashier", "inspector")
INSPECTING = {"inspector", "supervisor", "admin"}
SUPERVISORS = {"supervisor", "admin"}
# Pages without parameters and the roles they open for (any other signed-in role gets 403).
PAGES = {
    "/customers": set(ROLES),
    "/dashboard": {"officer", "supervisor", "admin"},
    "/worklist": {"officer", "supervisor", "admin"},
    "/worklist/coverage": SUPERVISORS,
    "/assessment": {"officer", "supervisor", "admin"},
    "/approvals": SUPERVISORS,
    "/security/approvals": SUPERVISORS,
    "/credit/supervisor": SUPERVISORS,
    "/reconcile": {"clerk", "supervisor", "admin"},
    "/reconcile/breaks": {"clerk", "supervisor", "admin"},
    "/reconcile/suspense": {"clerk", "supervisor", "admin"},
    "/reconcile/payments": {"clerk", "supervisor", "admin"},
    "/direct-debit": {"clerk", "supervisor", "admin"},
    "/counter": {"cashier"},
    "/disputes": {"officer", "supervisor", "admin", "cashier"},
    "/reports/activity": {"officer", "supervisor", "admin"},
    "/loss": INSPECTING,
    "/loss/suspects": INSPECTING,
    "/loss/inspections": INSPECTING,
    "/loss/tips": INSPECTING,
}
# The action of recovery.auth.permissions that guards each page of PAGES but the customer list (any role).
PAGE_ACTIONS = {
    "/dashboard": Action.read_dashboard,
    "/worklist": Action.work_customers,
    "/worklist/coverage": Action.supervise_worklist,
    "/assessment": Action.read_assessment,
    "/approvals": Action.decide_approvals,
    "/security/approvals": Action.decide_approvals,
    "/credit/supervisor": Action.override_credit,
    "/reconcile": Action.reconcile,
    "/reconcile/breaks": Action.reconcile,
    "/reconcile/suspense": Action.reconcile,
    "/reconcile/payments": Action.reconcile,
    "/direct-debit": Action.run_direct_debit,
    "/counter": Action.work_counter,
    "/disputes": Action.register_disputes,
    "/reports/activity": Action.read_activity,
    "/loss": Action.read_loss,
    "/loss/suspects": Action.read_loss,
    "/loss/inspections": Action.read_loss,
    "/loss/tips": Action.read_loss,
}


def _url(rule, code: str = "C1") -> str:
    """The rule's URL with its parameters filled in (a customer code, ids, a file name)."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if name == "code" and rule.rule.startswith(("/customers", "/api/v1/customers")):
            values[name] = code
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0] if hasattr(converter, "items") else "refunds"
        else:
            values[name] = "x1"
    url = rule.rule
    for name, value in values.items():
        url = re.sub(rf"<(?:[^:<>]+:)?{name}(?:\([^)]*\))?>", str(value), url)
    return url


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


@pytest.fixture
def district(recovery, tmp_path):
    load_district(recovery, tmp_path)
    for role in ("clerk", "admin", "cashier", "inspector"):
        create_user(db.session, role, role=role, password=PASSWORD)
    db.session.commit()


def _sign_in(client, username: str) -> None:
    answer = client.post("/login", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)


def test_nothing_but_the_public_routes_opens_without_signing_in(app, client, district):
    opened = []
    for rule, method in _routes(app):
        if rule.endpoint in PUBLIC:
            continue
        answer = client.open(_url(rule), method=method, json={} if method != "GET" else None)
        if rule.rule.startswith("/api/") and rule.endpoint not in API_DOCS_PAGES:
            ok = answer.status_code == 401 and answer.is_json and answer.get_json().get("message")
        else:
            ok = answer.status_code == 302 and "/login" in answer.headers["Location"]
        if not ok:
            opened.append((method, rule.rule, answer.status_code))
    assert opened == [], '\n'.join(map(str, opened))


def test_an_officer_reaches_no_route_of_another_grids_customer(app, client, district):
    """li works grid G1; C4 is a customer of G2. Every customer route answers as if C4 did not exist, and
    nothing is written (no audit entry)."""
    _sign_in(client, "li")
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    reached = []
    for rule, method in _routes(app):
        if "<code>" not in rule.rule or not rule.rule.startswith(("/customers", "/api/v1/customers")):
            continue
        api = rule.rule.startswith("/api/")
        body = {} if method == "GET" else {"json": {}} if api else {"data": {"csrf_token": "x"}}
        answer = client.open(_url(rule, "C4"), method=method, **body)
        if answer.status_code not in (403, 404, 422):  # 422: the body was refused before anything was looked up
            reached.append((method, rule.rule, answer.status_code))
    assert reached == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert client.get("/customers/C1").status_code == 200  # the officer's own customer opens


@pytest.mark.parametrize("role", ROLES)
def test_each_staff_page_opens_for_its_roles_only(app, client, district, role):
    username = {"officer": "li", "supervisor": "zhao"}.get(role, role)
    _sign_in(client, username)
    wrong = {}
    for path, allowed in PAGES.items():
        status = client.get(path).status_code
        expected = 200 if role in allowed else 403
        if status != expected:
            wrong[path] = (status, expected)
    assert wrong == {}


def test_the_permission_table_gives_each_page_the_roles_written_here():
    """PAGES is written by hand; the product's table must open each page to exactly those roles."""
    assert sorted(PAGES.keys() - PAGE_ACTIONS.keys()) == ["/customers"]
    differ = {path: (sorted(PAGES[path]), sorted(PERMISSIONS[action])) for path, action in PAGE_ACTIONS.items()
              if set(PERMISSIONS[action]) != PAGES[path]}
    assert differ == {}, "the table's roles (right) differ from the hand-written ones (left)"


def test_a_staff_api_write_without_a_json_body_is_refused_before_anything_runs(app, client, district):
    """The staff APIs take no CSRF token because no other site's page can send JSON with the user's cookie; a
    form or plain-text post (which any page can send) is refused with 415, and nothing is written."""
    _sign_in(client, "zhao")
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    for body in ({"data": {"reason": "x"}}, {"data": "{}", "content_type": "text/plain"}, {}):
        answer = client.post("/api/v1/customers/C1/rating/recompute", **body)
        assert answer.status_code == 415 and answer.get_json()["code"] == "json_required", answer.get_data()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert client.post("/api/v1/customers/C1/rating/recompute", json={}).status_code == 200
