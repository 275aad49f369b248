"""The worklist page (today's items as cards, done in one or two clicks), the coverage page for
supervisors, and the worklist JSON API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_smorest import Blueprint as ApiBlueprint

from recovery import sections
from recovery.auth.permissions import Action, may, permits, require
from recovery.auth.service import get_customer
from recovery.auth.views import api_login_required
from recovery.collections.visits import OUTCOMES
from recovery.customers.models import Customer
from recovery.customers.queries import grid_codes
from recovery.extensions import db
from recovery.forms import carry_out
from recovery.timeutil import today
from recovery.worklist import coverage, queries, service
from recovery.worklist import day as workday
from recovery.worklist.schemas import (
    CoverageOut,
    DismissIn,
    DoneIn,
    ManagerIn,
    ManagerOut,
    WorkItemOut,
    WorklistArgs,
    WorklistOut,
)

if TYPE_CHECKING:
    from recovery.portfolio.queries import CustomerOverview

bp = Blueprint("worklist", __name__)
api_bp = ApiBlueprint("worklist_api", __name__, url_prefix="/api/v1",
                      description="Today's worklist ordered by expected recoverable amount, doing an item with "
                                  "its outcome, and account managers with their deputies.")

# Codes stored on work items, in the officer's language. Reasons from other jobs (dunning steps) fall
# back to their code.
REASONS = {
    "promise_due": _l("Promise to pay falls due today"),
    "promise_broken": _l("Promise to pay not kept"),
    "plan_due": _l("Pay-plan installment due"),
    "plan_broken": _l("Pay plan broken"),
    "follow_up": _l("Follow-up you scheduled"),
    "segment_call": _l("Regular call for the customer's segment"),
    "segment_visit": _l("Regular visit for the customer's segment"),
    "early_warning_zero_consumption": _l("Early warning: no consumption on the latest bill"),
    "early_warning_drop": _l("Early warning: consumption dropped sharply"),
    "early_warning_first_late": _l("Early warning: first late payment by a good customer"),
    "big_customer_new": _l("New big customer: first contact within the deadline"),
    "manager_call": _l("Manager's call before the due date"),
}
KINDS = {
    "call": _l("Call"),
    "visit": _l("Visit"),
    "notice": _l("Notice"),
    "promise_followup": _l("Promise follow-up"),
    "plan_followup": _l("Pay-plan follow-up"),
}
OUTCOME_LABELS = {
    "contacted": _l("Contacted"),
    "promised": _l("Promised to pay"),
    "paid": _l("Paid"),
    "not_home": _l("Not at home / no answer"),
    "refused": _l("Refused"),
    "disputed": _l("Disputes the bill"),
    "wrong_number": _l("Wrong number"),
    "superseded": _l("No longer needed"),
}


@bp.app_template_filter("work_reason")
def work_reason(code: str) -> str:
    """A work item's reason in words."""
    return str(REASONS.get(code, code.replace("_", " ")))


@bp.app_template_filter("work_kind")
def work_kind(code: str) -> str:
    return str(KINDS.get(code, code))


@bp.app_template_filter("work_outcome")
def work_outcome(code: str | None) -> str:
    return "" if code is None else str(OUTCOME_LABELS.get(code, code))


def _supervising() -> bool:
    return may(current_user, Action.supervise_worklist)


def _filters() -> dict:
    """Officer and grid filters: supervisors may pick any officer; officers only filter their own grids."""
    officer = (request.args.get("officer") or "").strip() or None
    grid = (request.args.get("grid") or "").strip() or None
    return {"officer": officer if _supervising() else None, "grid": grid}


# ---------------------------------------------------------------------------------------------- pages


CAUSE_LABELS = {
    "vacant": _l("Premises vacant"),
    "moved_out": _l("Customer moved out"),
    "seasonal": _l("Seasonal or paused business"),
    "financial_difficulty": _l("Financial difficulty"),
    "meter_fault": _l("Meter or reading fault"),
    "suspected_theft": _l("Suspected theft of power"),
    "other": _l("Other (see the note)"),
}


@bp.route("/worklist")
@login_required
@permits(Action.work_customers)
def worklist_page():
    """Today's list sized to the officer's day: one row per customer, highest expected recoverable amount first
    (carried rows aged up), today's progress, what was done; supervisors also see each officer's load and the
    follow-up of early warnings."""
    day = today()
    filters = _filters()
    plan = workday.day_list(db.session, current_user, day, **filters)
    lists = service.worklist(db.session, current_user, day, done_only=True, **filters)
    grids = ([g.code for g in current_user.grids] if not current_user.sees_all_grids
             else grid_codes(db.session))
    return render_template("worklist/list.html", day=day, plan=plan, lists=lists, filters=filters, grids=grids,
                           officers=service.officers(db.session) if _supervising() else [],
                           outcomes=[(o, OUTCOME_LABELS[o]) for o in OUTCOMES if o in OUTCOME_LABELS],
                           causes=list(CAUSE_LABELS.items()),
                           team=workday.team(db.session, current_user, day) if _supervising() else None,
                           supervising=_supervising(), parts=sections.gather("worklist"))


def _back():
    args = {k: v for k, v in (("officer", request.form.get("officer")), ("grid", request.form.get("grid"))) if v}
    return redirect(url_for("worklist.worklist_page", **args))


def _act(work, done: str):
    """One form's action in one transaction (forms.carry_out); a refusal comes back as a message, nothing
    changed; an item or customer not on the user's list is a 404."""
    carry_out(work, done, missing_is_404=True)
    return _back()


@bp.post("/worklist/items/<int:item_id>/done")
@login_required
@permits(Action.work_customers)
def done_form(item_id: int):
    """Form: the item is done, with this outcome."""

    def work():
        data = DoneIn().load({k: v for k, v in request.form.items() if k in ("outcome", "note") and v.strip()})
        service.complete(db.session, current_user, item_id, outcome=data["outcome"], note=data.get("note"))
    return _act(work, _("Done: the outcome is recorded."))


@bp.post("/worklist/customers/<code>/done")
@login_required
@permits(Action.work_customers)
def customer_done_form(code: str):
    """Form: the customer's row is done with this outcome (every open reason closes; one call or visit logged;
    an early warning's cause recorded)."""

    def work():
        data = DoneIn().load({k: v for k, v in request.form.items() if k in ("outcome", "note") and v.strip()})
        cause = (request.form.get("cause") or "").strip() or None
        workday.complete_customer(db.session, current_user, code, today(), outcome=data["outcome"],
                                  note=data.get("note"), cause=cause)
    return _act(work, _("Done: the outcome is recorded."))


@bp.post("/worklist/customers/<code>/dismiss")
@login_required
@permits(Action.work_customers)
def customer_dismiss_form(code: str):
    """Form: set the customer's row aside."""

    def work():
        workday.dismiss_customer(db.session, current_user, code, today(), note=request.form.get("note"))
    return _act(work, _("Dismissed."))


@bp.app_template_filter("work_cause")
def work_cause(code: str | None) -> str:
    return "" if code is None else str(CAUSE_LABELS.get(code, code))


@bp.post("/worklist/items/<int:item_id>/dismiss")
@login_required
@permits(Action.work_customers)
def dismiss_form(item_id: int):
    """Form: set the item aside."""

    def work():
        service.dismiss(db.session, current_user, item_id, note=request.form.get("note"))
    return _act(work, _("Dismissed."))


@bp.route("/worklist/coverage")
@login_required
@permits(Action.supervise_worklist)
def coverage_page():
    """Supervisors: orphans, load per manager, and the reassignment form."""
    return render_template("worklist/coverage.html", report=coverage.report(db.session),
                           officers=service.officers(db.session))


@bp.post("/worklist/coverage/reassign")
@login_required
@permits(Action.supervise_worklist)
def reassign_form():
    """Form: a supervisor names a customer's manager and deputy."""

    def work() -> dict:
        data = ManagerIn().load({"manager": request.form.get("manager", "").strip(),
                                 "deputy": request.form.get("deputy", "").strip() or None})
        customer = get_customer(db.session, current_user, request.form.get("customer", "").strip())
        coverage.reassign(db.session, customer, manager=data["manager"], deputy=data["deputy"],
                          by=current_user.username, day=today())
        return {"code": customer.code, "manager": data["manager"]}
    carry_out(work, lambda named: _("Customer %(code)s: manager %(manager)s.", **named))
    return redirect(url_for("worklist.coverage_page"))


# ---------------------------------------------------------------------------------------------- the JSON API


def _api_worker() -> None:
    require(Action.work_customers, f"a {current_user.role} has no worklist")


def _api_supervisor() -> None:
    require(Action.supervise_worklist, "only a supervisor may do this")


@api_bp.route("/worklist")
class Worklist(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(WorklistArgs, location="query")
    @api_bp.response(200, WorklistOut)
    def get(self, args):
        """The day's open items (highest expected recoverable amount first) and the items done that day."""
        _api_worker()
        day = args.get("date") or today()
        lists = service.worklist(db.session, current_user, day,
                                 officer=args.get("officer") if _supervising() else None, grid=args.get("grid"))
        return {"date": day, **lists}


def _closed_doc(item) -> dict:
    c = db.session.get(Customer, item.customer_id)
    return service.item_doc(item, c.code, c.name, c.grid.code)


@api_bp.route("/work-items/<int:item_id>/done")
class WorkItemDone(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(DoneIn)
    @api_bp.response(200, WorkItemOut)
    def post(self, data, item_id: int):
        """Do the item with an outcome; a call or visit is also logged in the visits."""
        item = service.complete(db.session, current_user, item_id, outcome=data["outcome"], note=data.get("note"))
        return _closed_doc(item)


@api_bp.route("/work-items/<int:item_id>/dismiss")
class WorkItemDismiss(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(DismissIn)
    @api_bp.response(200, WorkItemOut)
    def post(self, data, item_id: int):
        """Set the item aside without an outcome."""
        item = service.dismiss(db.session, current_user, item_id, note=data.get("note"))
        return _closed_doc(item)


@api_bp.route("/customers/<code>/account-manager")
class CustomerManager(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, ManagerOut)
    def get(self, code: str):
        """The customer's account manager, deputy, and who gets the work now."""
        customer = get_customer(db.session, current_user, code)
        return {"customer_id": customer.code, **(coverage.manager_of(db.session, customer) or {})}

    @api_bp.arguments(ManagerIn)
    @api_bp.response(200, ManagerOut)
    def put(self, data, code: str):
        """Supervisors: name the customer's manager and deputy (open work follows the manager); audited."""
        _api_supervisor()
        customer = get_customer(db.session, current_user, code)
        coverage.reassign(db.session, customer, manager=data["manager"], deputy=data.get("deputy"),
                          by=current_user.username, day=today())
        return {"customer_id": customer.code, **coverage.manager_of(db.session, customer)}


@api_bp.route("/coverage")
class Coverage(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, CoverageOut)
    def get(self):
        """Supervisors: customers nobody covers, customers without a deputy, load per manager."""
        _api_supervisor()
        return coverage.report(db.session)


# ---------------------------------------------------------------------------------------------- customer page


SEGMENT_LABELS = {
    "high_value": _l("High value"), "potential": _l("Potential"), "medium": _l("Medium"), "low": _l("Low"),
}
RISK_LABELS = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low"), "unscored": _l("Not scored")}


@sections.part("customer", "worklist")
def worklist_for(overview: CustomerOverview) -> dict:
    """What the `worklist/_customer.html` partial shows: segments, manager and deputy, open work items."""
    customer = overview.customer
    from recovery.worklist.segments import segment_of

    seg = segment_of(db.session, customer)
    open_items = queries.open_items_due(db.session, customer, today())
    return {"segment": seg, "value": str(SEGMENT_LABELS.get(seg.value_segment, "")) if seg else None,
            "risk": str(RISK_LABELS.get(seg.risk_segment, "")) if seg else None,
            "manager": coverage.manager_of(db.session, customer), "open": open_items}
