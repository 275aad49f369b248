"""Who may change what: every state-changing route (POST, PUT, PATCH, DELETE) of the URL map, role by role.

A new write route fails the test until WRITES says which roles may use it. Any other signed-in role is refused
with 403 (a JSON message on the API) by the role check itself: the request carries a valid CSRF token and a
well-formed body, so nothing but the role stands in its way, and not one row is written anywhere. The roles
in a route's row get past the role check (their answer may still be 404 for a made-up id, or a refusal
flashed by the domain).

The roles of each row are written here by hand, independently of the product; each row also names the action
of recovery.auth.permissions that guards its route. The walk lets through the roles the product's table gives
that action, and a test holds those equal to the row's hand-written roles: a change of the table that this file
does not also make fails here."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, literal, select, union_all

from recovery.auth.permissions import PERMISSIONS, Action
from recovery.extensions import db
from tests.hardening.test_access import (  # noqa: F401  (district: the fixture)
    INSPECTING,
    PUBLIC,
    ROLES,
    SIGNED,
    SUPERVISORS,
    _routes,
    _sign_in,
    _url,
    district,
)
from tests.web.data import cheap_password_hashing

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ANYONE = set(ROLES)
# Officers work their grids' customers (visits, promises, pay plans, security, asking for write-offs and
# disconnections); supervisors and admins do all of that and decide. Clerks reconcile, run direct debit and
# record money received on deposits; cashiers work their own counter drawer.
WORKERS = {"officer", "supervisor", "admin"}
FINANCE = {"clerk", "supervisor", "admin"}
RECEIVERS = WORKERS | {"clerk"}
REDEEMERS = {"cashier", "clerk", "supervisor", "admin"}
CASHIER = {"cashier"}

# Bodies that pass each route's form or schema, so that the role check is what answers.
DECISION = {"decision": "reject", "note": "not now"}
REASON = {"reason": "agreed with the customer"}
VISIT = {"kind": "call", "outcome": "contacted"}
PROMISE = {"amount": "100.00", "promised_on": "2099-01-15"}
PLAN_FORM = {"total": "100.00", "installments": "2099-01-15 100.00"}
PLAN = {"total": "100.00", "installments": [{"due_on": "2099-01-15", "amount": "100.00"}]}
HOLD = {"bill_id": "B1-02", "reason": "the customer disputes the reading"}
EXEMPTION = {"reason": "hospital"}
OVERRIDE = {"grade": "A", "reason": "pays through its parent company", "expires_on": "2099-01-01"}
TERMS = {"terms": "prepayment", "reason": "meter tampering last year"}
DEPOSIT = {"amount": "600.00", "reason": "grade C"}
RECEIPT = {"amount": "600.00", "reference": "R-1"}
GUARANTEE = {"kind": "bank_guarantee", "guarantor": "中国银行", "reference": "BG-1", "amount": "1000.00",
             "valid_from": "2026-01-01", "valid_until": "2099-12-31"}
WRITE_OFF = {"amount": "100.00", "reason": "bankrupt", "evidence": "court ruling (2026) 001"}
REFERRAL = {"agency": "华信催收", "amount": "100.00"}
DRAWER_OPEN = {"opening_float": "200.00"}
DRAWER_CLOSE = {"counted": "200.00"}
COUNTER_PAYMENT = {"customer_id": "C1", "amount": "10.00", "tender": "cash"}
DISPUTE = {"kind": "outage", "channel": "counter", "description": "no power for a day"}
ANSWER = {"outcome": "rejected", "reason": "planned work, announced"}
REGISTRARS = WORKERS | {"cashier"}  # a complaint made at the service hall's counter
FLAG = {"kind": "demolition", "grid": "G1", "reason": "旧城改造"}
CONTACT = {"name": "王会计", "phone": "0571-88886666"}

# Every write route the signed-in staff have, the roles that may use it, the action that guards it (None: any
# signed-in role), and a body it accepts.
WRITES: dict[str, tuple[set[str], Action | None, dict]] = {
    "POST /logout": (ANYONE, None, {}),
    # approvals: supervisors decide (never their own request)
    "POST /approvals/<int:request_id>/decide": (SUPERVISORS, Action.decide_approvals, DECISION),
    "POST /security/approvals/<int:request_id>": (SUPERVISORS, Action.decide_approvals, DECISION),
    "POST /credit/proposals/<int:request_id>": (SUPERVISORS, Action.decide_approvals, DECISION),
    # the counter: the cashier's own drawer
    "POST /counter/open": (CASHIER, Action.work_counter, DRAWER_OPEN),
    "POST /counter/pay": (CASHIER, Action.work_counter, COUNTER_PAYMENT),
    "POST /counter/close": (CASHIER, Action.work_counter, DRAWER_CLOSE),
    "POST /api/v1/counter/drawer": (CASHIER, Action.work_counter, DRAWER_OPEN),
    "POST /api/v1/counter/drawer/close": (CASHIER, Action.work_counter, DRAWER_CLOSE),
    "POST /api/v1/counter/payments": (CASHIER, Action.work_counter, COUNTER_PAYMENT),
    "POST /api/v1/cards/redeem": (REDEEMERS, Action.redeem_cards,
                                  {"serial": "RC-1", "pin": "1234567890123456", "customer_id": "C1"}),
    # direct debit and reconciliation: finance
    "POST /direct-debit/batches": (FINANCE, Action.run_direct_debit, {"date": "2026-11-20"}),
    "POST /direct-debit/<code>/send": (FINANCE, Action.run_direct_debit, {}),
    "POST /direct-debit/results": (FINANCE, Action.run_direct_debit, {"format": "csv"}),
    "POST /reconcile/breaks/<int:break_id>/assign": (FINANCE, Action.reconcile, {"to": "clerk"}),
    "POST /reconcile/breaks/<int:break_id>/accept": (FINANCE, Action.reconcile, REASON),
    "POST /reconcile/breaks/<int:break_id>/link": (FINANCE, Action.reconcile,
                                                   {"payment": "P-0001", "note": "same credit"}),
    "POST /reconcile/breaks/<int:break_id>/adjust": (FINANCE, Action.reconcile, {"note": "bank fee"}),
    "POST /reconcile/suspense/<int:item_id>/assign": (FINANCE, Action.reconcile, {"customer": "C1"}),
    # credit: officers rate and propose terms; supervisors override grades
    "POST /customers/<code>/credit/recompute": (WORKERS, Action.work_customers, {}),
    "POST /customers/<code>/credit/terms": (WORKERS, Action.work_customers, TERMS),
    "POST /customers/<code>/credit/override": (SUPERVISORS, Action.override_credit, OVERRIDE),
    "POST /credit/overrides": (SUPERVISORS, Action.override_credit, {**OVERRIDE, "customer_id": "C1"}),
    "POST /credit/overrides/<int:override_id>/revoke": (SUPERVISORS, Action.override_credit, REASON),
    "POST /api/v1/customers/<code>/rating/recompute": (WORKERS, Action.work_customers, {}),
    "POST /api/v1/customers/<code>/terms": (WORKERS, Action.work_customers, TERMS),
    "POST /api/v1/customers/<code>/rating-overrides": (SUPERVISORS, Action.override_credit, OVERRIDE),
    # security: officers ask for deposits and guarantees (paying out is approved); clerks record receipts too
    "POST /customers/<code>/security/deposits": (WORKERS, Action.work_customers, DEPOSIT),
    "POST /customers/<code>/security/deposits/<int:deposit_id>/receipts": (RECEIVERS, Action.receive_deposits, RECEIPT),
    "POST /customers/<code>/security/deposits/<int:deposit_id>/<any(applications, refunds):what>": (
        WORKERS, Action.work_customers, REASON),
    "POST /customers/<code>/security/guarantees": (WORKERS, Action.work_customers, GUARANTEE),
    "POST /customers/<code>/security/guarantees/<int:guarantee_id>/calls": (WORKERS, Action.work_customers, REASON),
    "POST /customers/<code>/security/guarantees/<int:guarantee_id>/release": (WORKERS, Action.work_customers, REASON),
    "POST /customers/<code>/security/qualification": (WORKERS, Action.work_customers, {}),
    "POST /api/v1/customers/<code>/deposits": (WORKERS, Action.work_customers, DEPOSIT),
    "POST /api/v1/customers/<code>/deposits/<int:deposit_id>/receipts": (RECEIVERS, Action.receive_deposits, RECEIPT),
    "POST /api/v1/customers/<code>/deposits/<int:deposit_id>/applications": (WORKERS, Action.work_customers, REASON),
    "POST /api/v1/customers/<code>/deposits/<int:deposit_id>/refunds": (WORKERS, Action.work_customers, REASON),
    "POST /api/v1/customers/<code>/guarantees": (WORKERS, Action.work_customers, GUARANTEE),
    "POST /api/v1/customers/<code>/guarantees/<int:guarantee_id>/calls": (WORKERS, Action.work_customers, REASON),
    "POST /api/v1/customers/<code>/guarantees/<int:guarantee_id>/release": (WORKERS, Action.work_customers, REASON),
    "POST /api/v1/customers/<code>/qualification": (WORKERS, Action.work_customers, {}),
    # collections: officers record the work and ask for disconnection; supervisors exempt and withdraw
    "POST /customers/<code>/collections/visits": (WORKERS, Action.work_customers, VISIT),
    "POST /customers/<code>/collections/promises": (WORKERS, Action.work_customers, PROMISE),
    "POST /customers/<code>/collections/promises/<int:promise_id>/cancel": (WORKERS, Action.work_customers, {}),
    "POST /customers/<code>/collections/pay-plans": (WORKERS, Action.work_customers, PLAN_FORM),
    "POST /customers/<code>/collections/pay-plans/<int:plan_id>/cancel": (WORKERS, Action.work_customers, REASON),
    "POST /customers/<code>/collections/holds": (WORKERS, Action.work_customers, HOLD),
    "POST /customers/<code>/collections/holds/<int:hold_id>/release": (WORKERS, Action.work_customers, {}),
    "POST /customers/<code>/collections/orders/<int:order_id>/execute": (WORKERS, Action.work_customers,
                                                                         {"note": "no answer"}),
    "POST /customers/<code>/collections/exemptions": (SUPERVISORS, Action.decide_dunning, EXEMPTION),
    "POST /customers/<code>/collections/exemptions/<int:exemption_id>/revoke": (SUPERVISORS, Action.decide_dunning, {}),
    "POST /api/v1/customers/<code>/visits": (WORKERS, Action.work_customers, VISIT),
    "POST /api/v1/customers/<code>/promises": (WORKERS, Action.work_customers, PROMISE),
    "POST /api/v1/customers/<code>/promises/<int:promise_id>/cancel": (WORKERS, Action.work_customers, {}),
    "POST /api/v1/customers/<code>/pay-plans": (WORKERS, Action.work_customers, PLAN),
    "POST /api/v1/customers/<code>/pay-plans/<int:plan_id>/cancel": (WORKERS, Action.work_customers, REASON),
    "POST /api/v1/customers/<code>/holds": (WORKERS, Action.work_customers, HOLD),
    "POST /api/v1/customers/<code>/holds/<int:hold_id>/release": (WORKERS, Action.work_customers, {}),
    "POST /api/v1/disconnection-orders/<int:order_id>/execute": (WORKERS, Action.work_customers, {"note": "no answer"}),
    "POST /api/v1/disconnection-orders/<int:order_id>/withdraw": (SUPERVISORS, Action.decide_dunning, REASON),
    "POST /api/v1/customers/<code>/exemptions": (SUPERVISORS, Action.decide_dunning, EXEMPTION),
    "POST /api/v1/customers/<code>/exemptions/<int:exemption_id>/revoke": (SUPERVISORS, Action.decide_dunning, {}),
    # write-offs are asked for by officers and approved by a supervisor; referring is a supervisor's own act
    "POST /customers/<code>/write-offs": (WORKERS, Action.work_customers, WRITE_OFF),
    "POST /customers/<code>/referrals": (SUPERVISORS, Action.refer_debts, REFERRAL),
    "POST /customers/<code>/referrals/<int:referral_id>/close": (SUPERVISORS, Action.refer_debts,
                                                                 {"status": "returned"}),
    "POST /api/v1/customers/<code>/write-offs": (WORKERS, Action.work_customers, WRITE_OFF),
    "POST /api/v1/customers/<code>/referrals": (SUPERVISORS, Action.refer_debts, REFERRAL),
    "POST /api/v1/customers/<code>/referrals/<int:referral_id>/close": (SUPERVISORS, Action.refer_debts,
                                                                        {"status": "returned"}),
    # the worklist: officers do their items; supervisors reassign customers
    "POST /worklist/items/<int:item_id>/done": (WORKERS, Action.work_customers, {"outcome": "contacted"}),
    "POST /worklist/items/<int:item_id>/dismiss": (WORKERS, Action.work_customers, {}),
    "POST /worklist/customers/<code>/done": (WORKERS, Action.work_customers, {"outcome": "contacted"}),
    "POST /worklist/customers/<code>/dismiss": (WORKERS, Action.work_customers, {}),
    "POST /worklist/coverage/reassign": (SUPERVISORS, Action.supervise_worklist, {"customer": "C1", "manager": "li"}),
    "POST /api/v1/work-items/<int:item_id>/done": (WORKERS, Action.work_customers, {"outcome": "contacted"}),
    "POST /api/v1/work-items/<int:item_id>/dismiss": (WORKERS, Action.work_customers, {}),
    "PUT /api/v1/customers/<code>/account-manager": (SUPERVISORS, Action.supervise_worklist, {"manager": "li"}),
    # disputes: registered by whoever hears them, answered by their owner or a supervisor
    "POST /customers/<code>/disputes": (REGISTRARS, Action.register_disputes, DISPUTE),
    "POST /api/v1/customers/<code>/disputes": (REGISTRARS, Action.register_disputes, DISPUTE),
    "POST /disputes/<int:dispute_id>/resolve": (WORKERS, Action.answer_disputes, ANSWER),
    "POST /api/v1/disputes/<int:dispute_id>/resolve": (WORKERS, Action.answer_disputes, ANSWER),
    "POST /disputes/<int:dispute_id>/reassign": (SUPERVISORS, Action.supervise_disputes, {"owner": "li"}),
    "POST /api/v1/disputes/<int:dispute_id>/reassign": (SUPERVISORS, Action.supervise_disputes, {"owner": "li"}),
    # line loss: inspectors and supervisors screen, send inspectors, record what they found and tip-offs
    "POST /loss/suspects/screen": (INSPECTING, Action.screen_suspects, {"period": "2026-01"}),
    "POST /loss/inspections": (INSPECTING, Action.read_loss, {"customer_id": "C1", "inspector": "inspector"}),
    "POST /loss/inspections/<int:inspection_id>/outcome": (INSPECTING, Action.read_loss, {"outcome": "no_finding"}),
    "POST /loss/inspections/<int:inspection_id>/charge": (INSPECTING, Action.read_loss,
                                                          {"stolen_kwh": "10", "tariff": "0.5"}),
    "POST /loss/tips": (INSPECTING, Action.read_loss,
                        {"customer_id": "C1", "channel": "phone", "note": "a cable round the meter"}),
    # buildings: officers link residents and move them to direct billing; supervisors stop a company's
    # collecting and flag demolition and clearance sites
    "POST /buildings/<code>/residents": (WORKERS, Action.work_customers, {"customer_id": "C1", "payer": "direct"}),
    "POST /buildings/companies/<code>/stop": (SUPERVISORS, Action.supervise_buildings, REASON),
    "POST /clearance/flags": (SUPERVISORS, Action.supervise_buildings, FLAG),
    "POST /clearance/flags/<int:flag_id>/lift": (SUPERVISORS, Action.supervise_buildings, {}),
    "POST /customers/<code>/direct-billing": (WORKERS, Action.work_customers, REASON),
    "POST /api/v1/buildings/<code>/residents": (WORKERS, Action.work_customers,
                                                {"customer_id": "C1", "payer": "direct"}),
    "POST /api/v1/property-companies/<code>/stop-collecting": (SUPERVISORS, Action.supervise_buildings, REASON),
    "POST /api/v1/clearance-flags": (SUPERVISORS, Action.supervise_buildings, FLAG),
    "POST /api/v1/clearance-flags/<int:flag_id>/lift": (SUPERVISORS, Action.supervise_buildings, {}),
    "POST /api/v1/customers/<code>/direct-billing": (WORKERS, Action.work_customers, REASON),
    # big customers: officers name the contacts; supervisors flag strategic customers
    "POST /customers/<code>/contacts/<role>": (WORKERS, Action.work_customers, CONTACT),
    "POST /customers/<code>/strategic": (SUPERVISORS, Action.flag_strategic, REASON),
    "POST /customers/<code>/strategic/clear": (SUPERVISORS, Action.flag_strategic, {}),
    "PUT /api/v1/customers/<code>/contacts/<role>": (WORKERS, Action.work_customers, CONTACT),
    "POST /api/v1/customers/<code>/strategic": (SUPERVISORS, Action.flag_strategic, REASON),
    # agents' terms: supervisors set a deposit
    "PUT /api/v1/agents/<code>/deposit": (SUPERVISORS, Action.set_terms, {"deposit": "30000.00", "reference": "HZ-1"}),
}


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


def _writes(app):
    """The staff's write routes, each with its method; signing out comes last, as it ends the session."""
    found = [(rule, method) for rule, method in _routes(app)
             if method in WRITE_METHODS and rule.endpoint not in PUBLIC | SIGNED]
    return sorted(found, key=lambda route: route[0].endpoint == "auth.logout")


def _key(rule, method: str) -> str:
    return f"{method} {rule.rule}"


def _allowed(key: str) -> set[str]:
    """The roles the product lets through the route: its action's row of the permission table."""
    roles, action, _body = WRITES[key]
    return roles if action is None else {str(role) for role in PERMISSIONS[action]}


def _signed_in_with_csrf(app, client, role: str) -> str:
    """Sign in as `role` with CSRF protection on, as in production, and return the session's token."""
    _sign_in(client, {"officer": "li", "supervisor": "zhao"}.get(role, role))
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/logout").status_code == 400  # no token: refused by the CSRF check, still signed in
    page = client.get("/customers")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def _ask(client, rule, method: str, body: dict, token: str):
    """The route asked as the page's form (with the token field) or as the API's JSON (with the header)."""
    headers = {"X-CSRFToken": token}
    if rule.rule.startswith("/api/"):
        return client.open(_url(rule), method=method, json=body, headers=headers)
    return client.open(_url(rule), method=method, data={**body, "csrf_token": token}, headers=headers)


def _rows() -> dict[str, int]:
    """How many rows each table holds, in one query."""
    db.session.rollback()  # a fresh snapshot: see what the requests committed
    counts = union_all(*(select(literal(t.name).label("name"), func.count().label("rows")).select_from(t)
                         for t in db.metadata.sorted_tables))
    return dict(db.session.execute(counts).all())


def test_every_write_route_says_which_roles_may_use_it(app):
    routes = {_key(rule, method) for rule, method in _writes(app)}
    assert sorted(routes - WRITES.keys()) == [], "classify these write routes in WRITES"
    assert sorted(WRITES.keys() - routes) == [], "these rows of WRITES name no route"


def test_the_permission_table_gives_each_write_route_the_roles_written_here():
    differ = {key: (sorted(roles), sorted(_allowed(key))) for key, (roles, _action, _body) in WRITES.items()
              if _allowed(key) != roles}
    assert differ == {}, "the table's roles (right) differ from the hand-written ones (left)"


@pytest.mark.usefixtures("district")
@pytest.mark.parametrize("role", ROLES)
def test_a_write_route_refuses_a_role_not_in_its_row_with_403_and_writes_nothing(app, client, role):
    token = _signed_in_with_csrf(app, client, role)
    wrong = []
    for rule, method in _writes(app):
        allowed, body = _allowed(_key(rule, method)), WRITES[_key(rule, method)][2]
        if role in allowed:
            continue
        before = _rows()
        answer = _ask(client, rule, method, body, token)
        refused = answer.status_code == 403
        if rule.rule.startswith("/api/"):
            refused = refused and answer.is_json and bool(answer.get_json().get("message"))
        written = {name: n - before[name] for name, n in _rows().items() if n != before[name]}
        if not refused or written:
            wrong.append((_key(rule, method), answer.status_code, written))
    assert wrong == [], "\n".join(map(str, wrong))


@pytest.mark.usefixtures("district")
@pytest.mark.parametrize("role", ROLES)
def test_a_write_route_lets_the_roles_in_its_row_past_the_role_check(app, client, role):
    token = _signed_in_with_csrf(app, client, role)
    refused = []
    for rule, method in _writes(app):
        allowed, body = _allowed(_key(rule, method)), WRITES[_key(rule, method)][2]
        if role not in allowed:
            continue
        answer = _ask(client, rule, method, body, token)
        # 400 would be the CSRF check; a redirect to the sign-in page, a lost session (but for signing out).
        signed_out = "/login" in answer.headers.get("Location", "") and rule.endpoint != "auth.logout"
        if answer.status_code in (400, 401, 403) or signed_out:
            refused.append((_key(rule, method), answer.status_code, answer.get_data(as_text=True)[:200]))
    assert refused == [], "\n".join(map(str, refused))
