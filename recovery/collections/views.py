"""Collection work over HTTP: the staff JSON API (visits, promises, pay plans, the dunning state,
exemptions, holds, disconnection orders) and the forms of the customer page's collections section.

Officers work their own grids only (every customer is looked up through
recovery.auth.service.get_customer); exemptions and withdrawing an order are a supervisor's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint as PageBlueprint
from flask import flash, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_smorest import Blueprint

from recovery import sections
from recovery.approvals.models import ApprovalRequest
from recovery.auth.permissions import Action, may, require
from recovery.auth.service import get_customer, visible_customers
from recovery.auth.views import api_login_required
from recovery.bounds import parse_date
from recovery.collections import dunning, promises, queries, visits
from recovery.collections.models import (
    DisconnectionOrder,
    DunningState,
    OrderStatus,
    PlanStatus,
    PromiseStatus,
)
from recovery.collections.schemas import (
    CancelReasonIn,
    DunningOut,
    ExecuteIn,
    ExecuteOut,
    ExemptionIn,
    ExemptionOut,
    HoldIn,
    HoldOut,
    OrderArgs,
    OrderOut,
    PayPlanIn,
    PayPlanOut,
    PromiseIn,
    PromiseOut,
    VisitIn,
    VisitOut,
)
from recovery.customers.models import Customer
from recovery.errors import Invalid, NotFound
from recovery.extensions import db
from recovery.forms import act_on_customer
from recovery.forms import posted as _form
from recovery.money import parse_yuan
from recovery.timeutil import today

if TYPE_CHECKING:
    from recovery.portfolio.queries import CustomerOverview

api_bp = Blueprint("collections", __name__, url_prefix="/api/v1",
                   description="Collection work: visits and calls, promises to pay, pay plans, the dunning ladder's "
                               "state, exemptions from disconnection, disputed bills on hold, disconnection orders "
                               "(re-checked against the latest payments when carried out).")
pages = PageBlueprint("collections_pages", __name__)


def _customer(code: str) -> Customer:
    return get_customer(db.session, current_user, code)


# ---------------------------------------------------------------- the services, as the API and the forms call them


def _record_visit(customer: Customer, data: dict):
    return visits.record_visit(db.session, customer, current_user.username, data["kind"], data["outcome"],
                               data.get("note"), data.get("next_step"), data.get("next_on"), data.get("at"))


def _make_promise(customer: Customer, data: dict):
    return promises.make_promise(db.session, customer, amount_fen=parse_yuan(data["amount"]),
                                 promised_on=data["promised_on"], recorded_by=current_user.username,
                                 visit_id=data.get("visit_id"))


def _create_plan(customer: Customer, data: dict):
    return promises.create_plan(
        db.session, customer, installments=[(i["due_on"], parse_yuan(i["amount"])) for i in data["installments"]],
        total_fen=parse_yuan(data["total"]) if data.get("total") else None, created_by=current_user.username,
        note=data.get("note"))


def _set_exemption(customer: Customer, data: dict):
    return dunning.set_exemption(db.session, customer, kind=data["kind"], reason=data["reason"],
                                 valid_from=data.get("valid_from") or today(), valid_until=data.get("valid_until"),
                                 by=current_user.username)


def _plan_doc(customer: Customer, plan_id: int) -> dict:
    for item in promises.plans_of(db.session, customer):
        if item["plan"].id == plan_id:
            return item
    raise NotFound(f"no pay plan #{plan_id} of customer {customer.code}", code="plan_not_found")


def _order_doc(order: DisconnectionOrder, code: str | None = None, waiting: ApprovalRequest | None = None) -> dict:
    code = code or queries.customer_code(db.session, order.customer_id)
    return {"id": order.id, "customer_code": code, "reason": order.reason, "source": order.source,
            "ordered_on": order.ordered_on, "status": order.status, "closed_on": order.closed_on,
            "approval_request_id": waiting.id if waiting else None,
            "requested_by": waiting.requested_by if waiting else None}


def _order_docs(rows: list[tuple[DisconnectionOrder, str]]) -> list[dict]:
    """Documents of orders, each with the execution request waiting for it (one query for all)."""
    waiting = dunning.pending_execution(db.session, [o.id for o, _code in rows])
    return [_order_doc(o, code, waiting.get(o.id)) for o, code in rows]


def _holds(customer: Customer) -> list[dict]:
    rows = queries.holds_with_bill_codes(db.session, customer)
    return [{"id": h.id, "bill_code": code, "reason": h.reason, "placed_on": h.placed_on, "placed_by": h.placed_by,
             "released_on": h.released_on} for h, code in rows]


def dunning_doc(customer: Customer) -> dict:
    """The customer's place on the ladder with the notices, orders, exemptions and holds behind it."""
    state = db.session.get(DunningState, customer.id)
    orders = queries.disconnection_orders(db.session, customer)
    return {
        "customer_id": customer.code,
        "step": state.step if state else None, "since": state.since if state else None,
        "due_on": state.due_on if state else None, "overdue_fen": state.overdue_fen if state else None,
        "exemption": state.exemption if state else None,
        "notices": queries.latest_notices(db.session, customer),
        "orders": _order_docs([(o, customer.code) for o in orders]),
        "exemptions": queries.exemptions_of(db.session, customer),
        "holds": _holds(customer),
    }


# ---------------------------------------------------------------- the JSON API


@api_bp.route("/customers/<code>/visits")
class CustomerVisits(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, VisitOut(many=True))
    def get(self, code: str):
        """The customer's visits and calls, newest first."""
        return visits.visits_of(db.session, _customer(code))

    @api_bp.arguments(VisitIn)
    @api_bp.response(201, VisitOut)
    def post(self, data, code: str):
        """Log a visit or call: outcome, note, next step and when."""
        require(Action.work_customers)
        return _record_visit(_customer(code), data)


@api_bp.route("/customers/<code>/promises")
class CustomerPromises(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, PromiseOut(many=True))
    def get(self, code: str):
        """The customer's promises to pay, latest first."""
        return promises.promises_of(db.session, _customer(code))

    @api_bp.arguments(PromiseIn)
    @api_bp.response(201, PromiseOut)
    def post(self, data, code: str):
        """Record a promise to pay an amount by a date (checked nightly: kept or broken)."""
        require(Action.work_customers)
        return _make_promise(_customer(code), data)


@api_bp.route("/customers/<code>/promises/<int:promise_id>/cancel")
class PromiseCancel(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, PromiseOut)
    def post(self, code: str, promise_id: int):
        """Withdraw an open promise."""
        require(Action.work_customers)
        return promises.cancel_promise(db.session, _customer(code), promise_id, by=current_user.username)


@api_bp.route("/customers/<code>/pay-plans")
class CustomerPayPlans(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, PayPlanOut(many=True))
    def get(self, code: str):
        """The customer's pay plans with their installments and what was paid since each was made."""
        return promises.plans_of(db.session, _customer(code))

    @api_bp.arguments(PayPlanIn)
    @api_bp.response(201, PayPlanOut)
    def post(self, data, code: str):
        """Agree a pay plan: dated installments adding up to the total (checked nightly: completed or broken)."""
        require(Action.work_customers)
        customer = _customer(code)
        plan = _create_plan(customer, data)
        return _plan_doc(customer, plan.id)


@api_bp.route("/customers/<code>/pay-plans/<int:plan_id>/cancel")
class PayPlanCancel(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(CancelReasonIn)
    @api_bp.response(200, PayPlanOut)
    def post(self, data, code: str, plan_id: int):
        """End an active pay plan by agreement (no rating effect)."""
        require(Action.work_customers)
        customer = _customer(code)
        promises.cancel_plan(db.session, customer, plan_id, by=current_user.username, reason=data["reason"])
        return _plan_doc(customer, plan_id)


@api_bp.route("/customers/<code>/dunning")
class CustomerDunning(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, DunningOut)
    def get(self, code: str):
        """The customer's dunning step, notices, disconnection orders, exemptions and holds."""
        return dunning_doc(_customer(code))


@api_bp.route("/customers/<code>/exemptions")
class CustomerExemptions(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(ExemptionIn)
    @api_bp.response(201, ExemptionOut)
    def post(self, data, code: str):
        """Exempt the customer from disconnection (a critical load: hospital, water works); supervisors only."""
        require(Action.decide_dunning)
        return _set_exemption(_customer(code), data)


@api_bp.route("/customers/<code>/exemptions/<int:exemption_id>/revoke")
class ExemptionRevoke(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, ExemptionOut)
    def post(self, code: str, exemption_id: int):
        """End an exemption from today; supervisors only."""
        require(Action.decide_dunning)
        return dunning.revoke_exemption(db.session, _customer(code), exemption_id, by=current_user.username)


@api_bp.route("/customers/<code>/holds")
class CustomerHolds(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(HoldIn)
    @api_bp.response(201, HoldOut)
    def post(self, data, code: str):
        """Put a disputed bill on hold: the dunning ladder leaves it out until it is released."""
        require(Action.work_customers)
        customer = _customer(code)
        hold = dunning.place_hold(db.session, customer, data["bill_id"], reason=data["reason"],
                                  by=current_user.username)
        return next(h for h in _holds(customer) if h["id"] == hold.id)


@api_bp.route("/customers/<code>/holds/<int:hold_id>/release")
class HoldRelease(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, HoldOut)
    def post(self, code: str, hold_id: int):
        """Release a hold: from today the bill counts on the ladder again."""
        require(Action.work_customers)
        customer = _customer(code)
        dunning.release_hold(db.session, customer, hold_id, by=current_user.username)
        return next(h for h in _holds(customer) if h["id"] == hold_id)


@api_bp.route("/disconnection-orders")
class DisconnectionOrders(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(OrderArgs, location="query")
    @api_bp.response(200, OrderOut(many=True))
    def get(self, args):
        """Disconnection orders of the user's grids (default: the open ones), oldest first."""
        return _order_docs(queries.orders_with_codes(db.session, current_user, args["status"]))


@api_bp.route("/disconnection-orders/<int:order_id>/execute")
class OrderExecute(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(ExecuteIn)
    @api_bp.response(200, ExecuteOut)
    def post(self, data, order_id: int):
        """Ask for an open order to be carried out: a supervisor other than the requester approves it on the
        approvals page, and only then is supply cut (four eyes). The latest payments (provisional ones included)
        are checked first: a customer who has paid, or is exempt, is not cut off and the order is cancelled
        instead, with nothing to approve; they are checked again when the request is approved."""
        require(Action.work_customers)
        order = dunning.get_order(db.session, order_id, visible_customers(current_user))
        result = dunning.request_execution(db.session, order, by=current_user.username, note=data.get("note"))
        return {**result, "order": _order_docs([(result["order"], None)])[0]}


@api_bp.route("/disconnection-orders/<int:order_id>/withdraw")
class OrderWithdraw(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(CancelReasonIn)
    @api_bp.response(200, OrderOut)
    def post(self, data, order_id: int):
        """Withdraw an open order (supervisors), with the reason."""
        require(Action.decide_dunning)
        order = dunning.get_order(db.session, order_id, visible_customers(current_user))
        dunning.withdraw_order(db.session, order, by=current_user.username, reason=data["reason"])
        return _order_doc(order)


# ---------------------------------------------------------------- the customer page's section and its forms


@sections.part("customer", "collections")
def collections_for(overview: CustomerOverview) -> dict:
    """What `collections/_customer.html` shows: the ladder, visits, promises, plans, notices, orders,
    exemptions and holds of the customer, and which forms the user may use."""
    customer = overview.customer
    open_bills = queries.open_bill_codes(db.session, customer)
    return {**dunning_doc(customer), "visits": visits.visits_of(db.session, customer, limit=20),
            "promises": promises.promises_of(db.session, customer), "plans": promises.plans_of(db.session, customer),
            "bills": open_bills, "outcomes": visits.OUTCOMES, "today": today(),
            "can_act": may(current_user, Action.work_customers), "can_decide": may(current_user, Action.decide_dunning),
            "open": {"promise": PromiseStatus.open.value, "plan": PlanStatus.active.value,
                     "order": OrderStatus.open.value}}


def _installments(text: str) -> list[dict]:
    """Form lines 'YYYY-MM-DD amount' (one installment per line) as the API's installments."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace(",", " ").split()
        if len(parts) != 2:
            raise Invalid(_("Installment line %(n)s: write the due date and the amount, e.g. 2026-12-15 300.00", n=n))
        try:
            parse_date(parts[0])
        except ValueError:
            raise Invalid(_("Installment line %(n)s: %(value)s is not a date (YYYY-MM-DD)", n=n,
                            value=parts[0])) from None
        out.append({"due_on": parts[0], "amount": parts[1]})
    return out


def _act(code: str, action: Action, work, done: str):
    """Run one form's action in one transaction and go back to the customer page with a message."""
    def allowed_work(customer: Customer) -> None:
        require(action)
        work(customer)

    return act_on_customer(code, allowed_work, done, "#collection-work")


@pages.post("/customers/<code>/collections/visits")
@login_required
def record_visit(code: str):
    """Form: log a visit or call."""
    return _act(code, Action.work_customers, lambda c: _record_visit(c, _form(VisitIn())), _("Visit recorded."))


@pages.post("/customers/<code>/collections/promises")
@login_required
def make_promise(code: str):
    """Form: record a promise to pay."""
    return _act(code, Action.work_customers, lambda c: _make_promise(c, _form(PromiseIn())), _("Promise recorded."))


@pages.post("/customers/<code>/collections/promises/<int:promise_id>/cancel")
@login_required
def cancel_promise(code: str, promise_id: int):
    """Form: withdraw an open promise."""
    return _act(code, Action.work_customers,
                lambda c: promises.cancel_promise(db.session, c, promise_id, by=current_user.username),
                _("Promise withdrawn."))


@pages.post("/customers/<code>/collections/pay-plans")
@login_required
def create_plan(code: str):
    """Form: agree a pay plan (one installment per line)."""
    def work(c):
        fields = {k: v for k, v in request.form.items() if k in ("total", "note") and v.strip()}
        data = PayPlanIn().load({**fields, "installments": _installments(request.form.get("installments", ""))})
        _create_plan(c, data)
    return _act(code, Action.work_customers, work, _("Pay plan agreed."))


@pages.post("/customers/<code>/collections/pay-plans/<int:plan_id>/cancel")
@login_required
def cancel_plan(code: str, plan_id: int):
    """Form: end a pay plan by agreement."""
    return _act(code, Action.work_customers,
                lambda c: promises.cancel_plan(db.session, c, plan_id, by=current_user.username,
                                               reason=_form(CancelReasonIn())["reason"]),
                _("Pay plan cancelled."))


@pages.post("/customers/<code>/collections/holds")
@login_required
def place_hold(code: str):
    """Form: put a disputed bill on hold."""
    def work(c):
        data = _form(HoldIn())
        dunning.place_hold(db.session, c, data["bill_id"], reason=data["reason"], by=current_user.username)
    return _act(code, Action.work_customers, work, _("Bill put on hold."))


@pages.post("/customers/<code>/collections/holds/<int:hold_id>/release")
@login_required
def release_hold(code: str, hold_id: int):
    """Form: release a hold."""
    return _act(code, Action.work_customers,
                lambda c: dunning.release_hold(db.session, c, hold_id, by=current_user.username), _("Hold released."))


@pages.post("/customers/<code>/collections/exemptions")
@login_required
def set_exemption(code: str):
    """Form: exempt a critical load from disconnection (supervisors)."""
    return _act(code, Action.decide_dunning, lambda c: _set_exemption(c, _form(ExemptionIn())),
                _("Exemption recorded."))


@pages.post("/customers/<code>/collections/exemptions/<int:exemption_id>/revoke")
@login_required
def revoke_exemption(code: str, exemption_id: int):
    """Form: end an exemption (supervisors)."""
    return _act(code, Action.decide_dunning,
                lambda c: dunning.revoke_exemption(db.session, c, exemption_id, by=current_user.username),
                _("Exemption revoked."))


@pages.post("/customers/<code>/collections/orders/<int:order_id>/execute")
@login_required
def execute_order(code: str, order_id: int):
    """Form: ask a supervisor to approve carrying out a disconnection order (re-checked against the latest
    payments first: a payer's order is cancelled instead)."""
    outcome: dict = {}

    def work(c):
        order = dunning.get_order(db.session, order_id, queries.just_customer(c))
        note = _form(ExecuteIn()).get("note")
        outcome.update(dunning.request_execution(db.session, order, by=current_user.username, note=note))

    response = _act(code, Action.work_customers, work, _("Disconnection order handled."))
    if outcome.get("outcome") == "cancelled":
        flash(_("The customer has paid or is exempt: the order was cancelled, not carried out."), "info")
    elif outcome.get("outcome") == "awaiting_approval":
        flash(_("Request #%(id)s is waiting for a supervisor's approval; supply is cut only once it is approved.",
                id=outcome["request_id"]), "info")
    return response
