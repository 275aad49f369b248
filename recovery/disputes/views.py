"""Disputes over HTTP: the staff JSON API, the /disputes page, the customer page's section and the worklist's
panel. Officers see the disputes of their grids and those they own; supervisors see every one and what is
overdue. A dispute is answered by its owner or a supervisor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint as PageBlueprint
from flask import abort, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_smorest import Blueprint

from recovery import sections
from recovery.auth.permissions import Action, may, permits, require
from recovery.auth.service import get_customer
from recovery.auth.views import api_login_required, safe_next
from recovery.customers.models import Customer
from recovery.customers.queries import grid_codes
from recovery.disputes import queries, service
from recovery.disputes.models import DisputeChannel, DisputeKind, DisputeStatus, Remedy
from recovery.disputes.schemas import DisputeArgs, DisputeIn, DisputeOut, ReassignIn, ResolveIn
from recovery.extensions import db
from recovery.forms import act_on_customer, carry_out
from recovery.forms import posted as _form
from recovery.money import parse_yuan
from recovery.timeutil import now
from recovery.worklist.service import officers

if TYPE_CHECKING:
    from recovery.portfolio.queries import CustomerOverview

api_bp = Blueprint("disputes_api", __name__, url_prefix="/api/v1",
                   description="Customers' complaints and bill disputes: registered with a channel, an owner and a "
                               "deadline (48 hours by default), holding dunning on the disputed bills while open, "
                               "answered upheld (a corrected bill or a credit through the ledger) or rejected.")
pages = PageBlueprint("disputes", __name__)

LABELS = {
    "kind": {"outage": _l("Outage"), "meter_reading": _l("Meter reading"), "wrong_amount": _l("Wrong amount"),
             "service": _l("Service")},
    "channel": {"counter": _l("Service hall counter"), "phone": _l("Phone (95598)"), "online": _l("Online"),
                "letter": _l("Letter"), "visit": _l("On a visit")},
    "status": {"open": _l("Open"), "upheld": _l("Upheld"), "rejected": _l("Rejected")},
    "remedy": {"corrected_bill": _l("Bill corrected"), "credit": _l("Credit on the bill"),
               "none": _l("No money (e.g. an apology)")},
}


@pages.app_template_filter("dispute_label")
def dispute_label(code: str | None, group: str) -> str:
    """A dispute's stored code (kind, channel, status, remedy) in the reader's language."""
    if code is None:
        return ""
    return str(LABELS[group].get(code, code))


def _supervising() -> bool:
    return may(current_user, Action.supervise_disputes)


def _customer(code: str) -> Customer:
    return get_customer(db.session, current_user, code)


# ---------------------------------------------------------------------------------------------- the work


def _register(customer: Customer, data: dict):
    require(Action.register_disputes)
    return service.register(db.session, customer, kind=data["kind"], channel=data["channel"],
                            description=data["description"], bill_codes=data.get("bills", []),
                            owner=data.get("owner"), against=data.get("against"),
                            against_agent=data.get("against_agent"),
                            against_distributor=data.get("against_distributor"),
                            registered_by=current_user.username, at=data.get("raised_at"))


def _resolve(dispute_id: int, data: dict):
    require(Action.answer_disputes)
    dispute = service.get(db.session, dispute_id, current_user)
    return service.resolve(db.session, dispute, outcome=data["outcome"], reason=data["reason"],
                           by=current_user.username, any_owner=_supervising(), remedy=data.get("remedy"),
                           bill_code=data.get("bill_id"),
                           amount_fen=parse_yuan(data["amount"]) if data.get("amount") else None,
                           kwh=data.get("kwh"), against=data.get("against"))


def _reassign(dispute_id: int, data: dict):
    require(Action.supervise_disputes, "only a supervisor gives a dispute to another owner")
    dispute = service.get(db.session, dispute_id, current_user)
    return service.reassign(db.session, dispute, owner=data["owner"], by=current_user.username)


def _filters(args: dict) -> dict:
    owner = args.get("owner")
    return {"status": args.get("status") or "open", "owner": current_user.username if owner == "me" else owner,
            "grid": args.get("grid")}


# ---------------------------------------------------------------------------------------------- the JSON API


@api_bp.route("/disputes")
class Disputes(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(DisputeArgs, location="query")
    @api_bp.response(200, DisputeOut(many=True))
    def get(self, args):
        """Disputes the user may see: open ones by deadline (default), overdue, resolved or all."""
        return service.listing(db.session, current_user, **_filters(args))


@api_bp.route("/disputes/<int:dispute_id>")
class OneDispute(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, DisputeOut)
    def get(self, dispute_id: int):
        """One dispute, with its bills and what was corrected."""
        return service.document(db.session, service.get(db.session, dispute_id, current_user))


@api_bp.route("/disputes/<int:dispute_id>/resolve")
class DisputeResolve(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(ResolveIn)
    @api_bp.response(200, DisputeOut)
    def post(self, data, dispute_id: int):
        """Answer a dispute (its owner or a supervisor): upheld with a remedy, or rejected, with the reason. The
        disputed bills count on the dunning ladder again from today."""
        return service.document(db.session, _resolve(dispute_id, data))


@api_bp.route("/disputes/<int:dispute_id>/reassign")
class DisputeReassign(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(ReassignIn)
    @api_bp.response(200, DisputeOut)
    def post(self, data, dispute_id: int):
        """Give an open dispute to another owner (supervisors)."""
        return service.document(db.session, _reassign(dispute_id, data))


@api_bp.route("/customers/<code>/disputes")
class CustomerDisputes(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, DisputeOut(many=True))
    def get(self, code: str):
        """The customer's disputes, open and resolved, latest first."""
        return service.listing(db.session, current_user, status="all", customer=_customer(code))

    @api_bp.arguments(DisputeIn)
    @api_bp.response(201, DisputeOut)
    def post(self, data, code: str):
        """Register a complaint or bill dispute: its bills are held from dunning until it is answered, by the
        deadline the policy sets from when it was raised."""
        return service.document(db.session, _register(_customer(code), data))


# ---------------------------------------------------------------------------------------------- pages


@pages.route("/disputes")
@login_required
@permits(Action.register_disputes)
def list_page():
    """Disputes: open ones by deadline (overdue first), or resolved; officers their grids' and their own."""
    filters = _filters({k: (request.args.get(k) or "").strip() or None for k in ("status", "owner", "grid")})
    if filters["status"] not in service.LISTS:
        abort(400)
    rows = service.listing(db.session, current_user, **filters)
    grids = ([g.code for g in current_user.grids] if not current_user.sees_all_grids
             else grid_codes(db.session))
    return render_template("disputes/list.html", rows=rows, filters=filters, grids=grids,
                           owners=officers(db.session) if _supervising() else [],
                           counts=service.counts(db.session, current_user), supervising=_supervising(),
                           remedies=[r.value for r in Remedy], me=current_user.username)


def _back(default: str):
    return redirect(safe_next(request.form.get("next"), default))


def _page_act(work, done: str):
    """One form's action in one transaction (forms.carry_out), then back to where the form came from."""
    carry_out(work, done, missing_is_404=True)
    return _back(url_for("disputes.list_page"))


@pages.post("/disputes/<int:dispute_id>/resolve")
@login_required
def resolve_form(dispute_id: int):
    """Form: answer a dispute."""
    return _page_act(lambda: _resolve(dispute_id, _form(ResolveIn())), _("The dispute is answered."))


@pages.post("/disputes/<int:dispute_id>/reassign")
@login_required
def reassign_form(dispute_id: int):
    """Form: give a dispute to another owner (supervisors)."""
    return _page_act(lambda: _reassign(dispute_id, _form(ReassignIn())), _("The dispute has a new owner."))


@pages.post("/customers/<code>/disputes")
@login_required
def register_form(code: str):
    """Form: register a complaint or bill dispute from the customer page."""
    def work(customer: Customer):
        fields = {k: v for k, v in request.form.items() if k not in ("csrf_token", "bills") and v.strip()}
        _register(customer, DisputeIn().load({**fields, "bills": request.form.getlist("bills")}))
    return act_on_customer(code, work, _("Dispute registered: its bills are held from dunning."), "#disputes-h")


# ---------------------------------------------------------------------------------------------- partials


@sections.part("customer", "disputes")
def disputes_for(overview: CustomerOverview) -> dict:
    """What `disputes/_customer.html` shows: the customer's disputes, the bills one may dispute, the forms."""
    customer = overview.customer
    bills = queries.disputable_bills(db.session, customer)
    return {"rows": service.listing(db.session, current_user, status="all", customer=customer, limit=50),
            "bills": bills, "kinds": [k.value for k in DisputeKind], "channels": [c.value for c in DisputeChannel],
            "remedies": [r.value for r in Remedy], "can_register": may(current_user, Action.register_disputes),
            "supervising": _supervising(), "me": current_user.username, "open": DisputeStatus.open.value}


@sections.part("worklist", "disputes")
def disputes_on_worklist() -> dict:
    """The worklist's panel: the disputes the user owns that are open (by deadline); for supervisors also
    every overdue one."""
    at = now()
    mine = service.listing(db.session, current_user, status="open", owner=current_user.username, at=at, limit=100)
    late = service.listing(db.session, current_user, status="overdue", at=at, limit=100) if _supervising() else []
    return {"mine": mine, "overdue": late, "supervising": _supervising()}
