"""Big customers: the list (with first contacts past their deadline), the customer page's section with the named
contacts and the strategic flag, their forms, and the JSON API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint as PageBlueprint
from flask import abort, render_template
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from recovery import sections
from recovery.auth.permissions import Action, may, permits, require
from recovery.auth.service import get_customer
from recovery.auth.views import api_login_required
from recovery.bigcustomers import service
from recovery.bounds import BoundedDateTime
from recovery.customers.models import Customer
from recovery.customers.schemas import In, Yuan
from recovery.extensions import db
from recovery.forms import act_on_customer
from recovery.forms import posted as _form
from recovery.timeutil import today

if TYPE_CHECKING:
    from recovery.portfolio.queries import CustomerOverview

ROLE_LABELS = {"finance": _l("Finance"), "electrician": _l("Electrician"), "manager": _l("Manager")}
REASON_LABELS = {"bill": _l("Monthly bill"), "strategic": _l("Strategic"), "both": _l("Monthly bill, strategic")}

pages = PageBlueprint("bigcustomer_pages", __name__)
api_bp = Blueprint("bigcustomers_api", __name__, url_prefix="/api/v1",
                   description="Big customers (a monthly bill over the policy's amount, or flagged strategic): the "
                               "list with each first contact's deadline, their named contacts, the strategic flag.")


class ContactIn(In):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    phone = fields.String(required=True, validate=validate.Regexp(r"^[0-9+() -]{3,20}\Z"))


class ContactOut(Schema):
    role = fields.String()
    name = fields.String()
    phone = fields.String()
    updated_by = fields.String()


class StrategicIn(In):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class BigCustomerOut(Schema):
    customer_id = fields.String(attribute="code")
    name = fields.String()
    grid = fields.String()
    reason = fields.String(metadata={"description": "bill | strategic | both"})
    monthly_bill = Yuan(attribute="monthly_bill_fen")
    since = BoundedDateTime(attribute="since_at")
    contact_by = BoundedDateTime(metadata={"description": "The first contact is due by then"})
    contacted_at = BoundedDateTime(allow_none=True)
    contact_late = fields.Boolean(metadata={"description": "Not contacted and past the deadline"})
    manager = fields.String(allow_none=True)
    deputy = fields.String(allow_none=True)
    missing_contacts = fields.Integer(metadata={"description": "Roles without a named contact"})
    overdue = Yuan(attribute="overdue_fen")


def _set(customer: Customer, role: str, data: dict):
    require(Action.work_customers)
    return service.set_contact(db.session, customer, _role(role), name=data["name"], phone=data["phone"],
                               by=current_user.username)


def _strategic(customer: Customer, data: dict):
    require(Action.flag_strategic)
    return service.set_strategic(db.session, customer, reason=data["reason"], by=current_user.username, day=today())


def _unflag(customer: Customer):
    require(Action.flag_strategic)
    service.clear_strategic(db.session, customer, by=current_user.username, day=today())


def _role(role: str) -> str:
    if role not in service.ROLES:
        abort(404)
    return role


# ---------------------------------------------------------------- the JSON API


@api_bp.route("/big-customers")
class BigCustomers(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, BigCustomerOut(many=True))
    def get(self):
        """Big customers in your grids, largest monthly bill first, with their first contact's deadline."""
        require(Action.work_customers)
        return service.listing(db.session, current_user, today())


@api_bp.route("/customers/<code>/contacts/<role>")
class Contact(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(ContactIn)
    @api_bp.response(200, ContactOut)
    def put(self, data, code: str, role: str):
        """Name the customer's contact for a role: finance, electrician or manager."""
        return _set(get_customer(db.session, current_user, code), role, data)


@api_bp.route("/customers/<code>/strategic")
class Strategic(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(StrategicIn)
    @api_bp.response(201, BigCustomerOut)
    def post(self, data, code: str):
        """Flag the customer as strategic (supervisors): a big customer from now, its first contact due."""
        customer = get_customer(db.session, current_user, code)
        _strategic(customer, data)
        return next(r for r in service.listing(db.session, current_user, today()) if r["code"] == customer.code)


# ---------------------------------------------------------------- pages


@pages.route("/big-customers")
@login_required
@permits(Action.work_customers)
def big_customers_page():
    """Big customers with their managers, named contacts and first contacts (late ones marked)."""
    rows = service.listing(db.session, current_user, today())
    return render_template("bigcustomers/list.html", rows=rows, reasons=REASON_LABELS,
                           late=sum(1 for r in rows if r["contact_late"]),
                           threshold_fen=service.big_policy()["monthly_bill_fen"])


def _act(code: str, work, done: str):
    return act_on_customer(code, work, done, "#big-h")


@pages.post("/customers/<code>/contacts/<role>")
@login_required
def contact_form(code: str, role: str):
    """Form: name the contact for a role."""
    return _act(code, lambda c: _set(c, role, _form(ContactIn())), _("Contact saved."))


@pages.post("/customers/<code>/strategic")
@login_required
def strategic_form(code: str):
    """Form: flag the customer as strategic."""
    return _act(code, lambda c: _strategic(c, _form(StrategicIn())), _("Flagged as strategic."))


@pages.post("/customers/<code>/strategic/clear")
@login_required
def clear_strategic_form(code: str):
    """Form: take the strategic flag off."""
    return _act(code, _unflag, _("Strategic flag taken off."))


@sections.part("customer", "big_customer")
def big_customer_for(overview: CustomerOverview) -> dict:
    """What `bigcustomers/_customer.html` shows: big-customer status, contacts, the strategic flag, the forms."""
    customer = overview.customer
    return {**service.status_of(db.session, customer), "role_labels": ROLE_LABELS, "reasons": REASON_LABELS,
            "can_edit": may(current_user, Action.work_customers), "can_flag": may(current_user, Action.flag_strategic)}
