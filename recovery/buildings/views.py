"""Buildings and property companies, the clearance track: pages, their forms, the CSV report and the JSON API.

Officers and supervisors link residents to buildings and move them to direct billing; supervisors stop a
company's collecting and flag (or lift) demolition and clearance sites. Everyone who works the list reads the
companies' arrears and the clearance track within their grids.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask import Blueprint as PageBlueprint
from flask import abort, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from recovery import sections
from recovery.auth.permissions import Action, may, permits, require
from recovery.auth.service import get_customer
from recovery.auth.views import api_login_required
from recovery.bounds import BoundedDate, date_arg
from recovery.buildings import clearance, service
from recovery.buildings.models import PropertyCompany
from recovery.csvexport import csv_response
from recovery.customers.models import Customer
from recovery.customers.schemas import In, Yuan
from recovery.errors import NotFound
from recovery.extensions import db
from recovery.forms import act_on_customer, carry_out
from recovery.forms import posted as _form
from recovery.timeutil import today

if TYPE_CHECKING:
    from recovery.portfolio.queries import CustomerOverview

pages = PageBlueprint("buildings_pages", __name__)
api_bp = Blueprint("buildings_api", __name__, url_prefix="/api/v1",
                   description="Property-managed buildings: residents billed through a property company, the "
                               "company's arrears with the residents behind them, moving residents to direct "
                               "billing; demolition and clearance sites and their recovery track.")


# ---------------------------------------------------------------- shapes


class ResidentIn(In):
    customer_id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    payer = fields.String(load_default="company", validate=validate.OneOf(service.PAYERS),
                          metadata={"description": "company: billed through the building's property company; "
                                                   "direct: billed directly"})
    linked_on = BoundedDate(metadata={"description": "From when the company pays; default today"})


class ResidentOut(Schema):
    customer_id = fields.String()
    building = fields.String()
    payer = fields.String()
    linked_on = BoundedDate(allow_none=True)


class DirectBillingIn(In):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    on = BoundedDate(metadata={"description": "From when the resident is billed directly; default today"})


class PayerLinkOut(Schema):
    customer_id = fields.String()
    company = fields.String()
    linked_on = BoundedDate()
    ended_on = BoundedDate(allow_none=True)
    end_reason = fields.String(allow_none=True)


class StopCollectingOut(Schema):
    company = fields.String()
    moved = fields.Integer(metadata={"description": "Residents moved to direct billing"})
    stopped_on = BoundedDate()


class AsOfArgs(Schema):
    as_of = BoundedDate(metadata={"description": "Business date; default today"})


class CompanyOut(Schema):
    code = fields.String(attribute="company.code")
    name = fields.String(attribute="company.name")
    stopped_on = BoundedDate(attribute="company.stopped_on", allow_none=True)
    account = fields.String(allow_none=True, metadata={"description": "The company's own customer account"})
    residents = fields.Integer()
    owing = fields.Integer(metadata={"description": "Residents with something overdue"})
    balance = Yuan(attribute="balance_fen")
    overdue = Yuan(attribute="overdue_fen")


class ResidentArrearsOut(Schema):
    customer_id = fields.String(attribute="code")
    name = fields.String()
    grid = fields.String()
    building = fields.String(allow_none=True)
    linked_on = BoundedDate()
    balance = Yuan(attribute="balance_fen")
    overdue = Yuan(attribute="overdue_fen")
    days_overdue = fields.Integer(allow_none=True)


class TotalsOut(Schema):
    residents = fields.Integer()
    owing = fields.Integer()
    balance = Yuan(attribute="balance_fen")
    overdue = Yuan(attribute="overdue_fen")


class CompanyArrearsOut(Schema):
    company = fields.String()
    as_of = BoundedDate()
    totals = fields.Nested(TotalsOut)
    own_account_overdue = Yuan(allow_none=True, metadata={"description": "The company's own account, if any"})
    residents = fields.Nested(ResidentArrearsOut, many=True)


class FlagIn(In):
    kind = fields.String(required=True, validate=validate.OneOf(clearance.KINDS))
    grid = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "A grid, or"})
    building = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "a building"})
    flagged_on = BoundedDate(metadata={"description": "Default today"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class LiftIn(In):
    lifted_on = BoundedDate(metadata={"description": "Penalties accrue again from this day; default today"})


class FlagOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    flagged_on = BoundedDate()
    lifted_on = BoundedDate(allow_none=True)
    reason = fields.String()
    flagged_by = fields.String()


class TrackRowOut(Schema):
    customer_id = fields.String()
    name = fields.String()
    grid = fields.String()
    building = fields.String(allow_none=True)
    kind = fields.String()
    flagged_on = BoundedDate()
    owed_at_flag = Yuan(attribute="owed_at_flag_fen", metadata={"description": "Balance the day before the flag"})
    balance = Yuan(attribute="balance_fen")
    overdue = Yuan(attribute="overdue_fen")
    days_overdue = fields.Integer(allow_none=True)
    paid_since = Yuan(attribute="paid_since_fen")
    penalty = Yuan(attribute="penalty_fen", metadata={"description": "Penalties on the account, frozen by the flag"})


# ---------------------------------------------------------------- the work, shared by API and forms


def _link(building_code: str, data: dict) -> dict:
    require(Action.work_customers)
    building = service.get_building(db.session, building_code)
    customer = get_customer(db.session, current_user, data["customer_id"])
    return service.link_resident(db.session, building, customer, through_company=data["payer"] == "company",
                                 on=data.get("linked_on") or today(), by=current_user.username)


def _direct(customer: Customer, data: dict):
    require(Action.work_customers)
    return service.move_to_direct_billing(db.session, customer, on=data.get("on") or today(), reason=data["reason"],
                                          by=current_user.username)


def _stop(code: str, data: dict) -> dict:
    require(Action.supervise_buildings)
    return service.stop_collecting(db.session, service.get_company(db.session, code), on=data.get("on") or today(),
                                   reason=data["reason"], by=current_user.username)


def _flag(data: dict):
    require(Action.supervise_buildings)
    return clearance.flag(db.session, kind=data["kind"], grid=data.get("grid"), building=data.get("building"),
                          on=data.get("flagged_on") or today(), reason=data["reason"], by=current_user.username)


def _lift(flag_id: int, data: dict):
    require(Action.supervise_buildings)
    return clearance.lift(db.session, flag_id, on=data.get("lifted_on") or today(), by=current_user.username)


def _arrears_doc(report: dict) -> dict:
    own = report["own"]
    return {"company": report["company"].code, "as_of": report["day"], "totals": report["totals"],
            "own_account_overdue": None if own is None else int(own["overdue_fen"]), "residents": report["residents"]}


def _link_doc(link) -> dict:
    return {"customer_id": db.session.get(Customer, link.customer_id).code,
            "company": db.session.get(PropertyCompany, link.company_id).code, "linked_on": link.linked_on,
            "ended_on": link.ended_on, "end_reason": link.end_reason}


# ---------------------------------------------------------------- the JSON API


@api_bp.route("/property-companies")
class Companies(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(AsOfArgs, location="query")
    @api_bp.response(200, CompanyOut(many=True))
    def get(self, args):
        """Property companies with the residents they pay for (in your grids) and their arrears, most overdue
        first."""
        require(Action.work_customers)
        return service.companies(db.session, current_user, args.get("as_of") or today())


@api_bp.route("/property-companies/<code>/arrears")
class CompanyArrears(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(AsOfArgs, location="query")
    @api_bp.response(200, CompanyArrearsOut)
    def get(self, args, code: str):
        """A company's arrears with every resident behind them (in your grids), most overdue first."""
        require(Action.work_customers)
        company = service.get_company(db.session, code)
        return _arrears_doc(service.company_arrears(db.session, current_user, company, args.get("as_of") or today()))


@api_bp.route("/property-companies/<code>/stop-collecting")
class StopCollecting(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(DirectBillingIn)
    @api_bp.response(200, StopCollectingOut)
    def post(self, data, code: str):
        """The company stops collecting: every resident it pays for is billed directly from the day (supervisors)."""
        return _stop(code, data)


@api_bp.route("/buildings/<code>/residents")
class Residents(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(ResidentIn)
    @api_bp.response(201, ResidentOut)
    def post(self, data, code: str):
        """Put a customer in the building, billed through its property company (default) or directly."""
        return _link(code, data)


@api_bp.route("/customers/<code>/direct-billing")
class DirectBilling(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(DirectBillingIn)
    @api_bp.response(200, PayerLinkOut)
    def post(self, data, code: str):
        """Move a resident billed through a property company to direct billing from the day."""
        return _link_doc(_direct(get_customer(db.session, current_user, code), data))


@api_bp.route("/clearance-flags")
class Flags(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(FlagIn)
    @api_bp.response(201, FlagOut)
    def post(self, data):
        """Flag a grid or a building as a demolition or clearance site (supervisors): no penalties from the day,
        its arrears on the clearance track."""
        return _flag(data)


@api_bp.route("/clearance-flags/<int:flag_id>/lift")
class FlagLift(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(LiftIn)
    @api_bp.response(200, FlagOut)
    def post(self, data, flag_id: int):
        """Lift a flag (supervisors): penalties accrue again from the day."""
        return _lift(flag_id, data)


@api_bp.route("/clearance-track")
class Track(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(AsOfArgs, location="query")
    @api_bp.response(200, TrackRowOut(many=True))
    def get(self, args):
        """The clearance track: arrears of customers on demolition and clearance sites (in your grids)."""
        require(Action.work_customers)
        return clearance.track(db.session, current_user, args.get("as_of") or today())


# ---------------------------------------------------------------- pages


def _as_of() -> dt.date:
    return date_arg(request.args, "as_of") or today()


@pages.route("/buildings")
@login_required
@permits(Action.work_customers)
def buildings_page():
    """Property companies with their residents' arrears, buildings, and the clearance flags."""
    day = _as_of()
    return render_template("buildings/index.html", as_of=day,
                           companies=service.companies(db.session, current_user, day),
                           buildings=service.buildings(db.session, current_user, day),
                           flags=clearance.flags(db.session), kinds=clearance.KINDS,
                           supervising=may(current_user, Action.supervise_buildings))


@pages.route("/buildings/companies/<code>")
@login_required
@permits(Action.work_customers)
def company_page(code: str):
    """One company's arrears with the residents behind them."""
    try:
        company = service.get_company(db.session, code)
    except NotFound:
        abort(404)
    day = _as_of()
    return render_template("buildings/company.html", report=service.company_arrears(db.session, current_user,
                                                                                     company, day),
                           supervising=may(current_user, Action.supervise_buildings))


def _back(endpoint: str, **values):
    return redirect(url_for(endpoint, **values))


def _form_action(work, done: str, endpoint: str, **values):
    """Run a page form's action in one transaction (forms.carry_out), then back to `endpoint`."""
    carry_out(work, done)
    return _back(endpoint, **values)


@pages.post("/buildings/<code>/residents")
@login_required
def link_form(code: str):
    """Form: put a customer in the building (billed through the company, or directly)."""
    return _form_action(lambda: _link(code, _form(ResidentIn())), _("Resident linked."),
                        "buildings_pages.buildings_page")


@pages.post("/buildings/companies/<code>/stop")
@login_required
def stop_form(code: str):
    """Form: the company stops collecting; its residents are billed directly."""
    return _form_action(lambda: _stop(code, _form(DirectBillingIn())), _("Residents moved to direct billing."),
                        "buildings_pages.company_page", code=code)


@pages.post("/clearance/flags")
@login_required
def flag_form():
    """Form: flag a grid or a building as a demolition or clearance site."""
    return _form_action(lambda: _flag(_form(FlagIn())), _("Site flagged."), "buildings_pages.buildings_page")


@pages.post("/clearance/flags/<int:flag_id>/lift")
@login_required
def lift_form(flag_id: int):
    """Form: lift a flag."""
    return _form_action(lambda: _lift(flag_id, _form(LiftIn())), _("Flag lifted."), "buildings_pages.buildings_page")


@pages.post("/customers/<code>/direct-billing")
@login_required
def direct_billing_form(code: str):
    """Form (customer page): move the resident to direct billing."""
    return act_on_customer(code, lambda c: _direct(c, _form(DirectBillingIn())), _("Now billed directly."),
                           "#building-h")


@pages.route("/clearance")
@login_required
@permits(Action.work_customers)
def track_page():
    """The clearance track: arrears left on demolition and clearance sites."""
    day = _as_of()
    rows = clearance.track(db.session, current_user, day)
    totals = {k: sum(r[k] for r in rows) for k in ("owed_at_flag_fen", "balance_fen", "paid_since_fen")}
    return render_template("buildings/track.html", as_of=day, rows=rows, totals=totals)


@pages.route("/clearance.csv")
@login_required
@permits(Action.work_customers)
def track_csv():
    """The clearance track as CSV (spreadsheet formulas neutralised)."""
    day = _as_of()
    rows = clearance.track_csv_rows(clearance.track(db.session, current_user, day))
    return csv_response(rows, clearance.TRACK_HEADER, f"clearance-track-{day.isoformat()}.csv")


# ---------------------------------------------------------------- the customer page's section


@sections.part("customer", "building")
def building_summary(overview: CustomerOverview) -> dict:
    """What `buildings/_customer.html` shows: the building, who pays for the customer, and the form."""
    customer = overview.customer
    return {**service.payer_of(db.session, customer), "can_move": may(current_user, Action.work_customers),
            "on_track": clearance.on_track(db.session, customer.id, today())}
