"""Write-offs and referrals to collection agencies: the staff JSON API, the customer page's section and
its forms. Writing off files a request for a supervisor; referring is a supervisor's own act."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint as PageBlueprint
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from recovery import sections
from recovery.auth.permissions import Action, may, require
from recovery.auth.service import get_customer
from recovery.auth.views import api_login_required
from recovery.bounds import BoundedDate
from recovery.collections.writeoff import service as writeoff
from recovery.collections.writeoff.models import ReferralStatus
from recovery.credit.security.schemas import ApprovalOut
from recovery.customers.models import Customer
from recovery.customers.schemas import YUAN, In, Yuan
from recovery.extensions import db
from recovery.forms import act_on_customer
from recovery.forms import posted as _form
from recovery.money import parse_yuan
from recovery.timeutil import today

if TYPE_CHECKING:
    from recovery.portfolio.queries import CustomerOverview

api_bp = Blueprint("writeoffs", __name__, url_prefix="/api/v1/customers",
                   description="Writing off a customer's uncollectable debt (a request for a supervisor who did not "
                               "file it) and referring debt to a collection agency (supervisors).")
pages = PageBlueprint("writeoff_pages", __name__)


# ---------------------------------------------------------------- shapes


class WriteOffIn(In):
    amount = fields.String(required=True, validate=YUAN, metadata={"description": "Yuan; at most the overdue "
                                                                                  "balance"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    evidence = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                             metadata={"description": "Why the debt cannot be collected: court ruling, "
                                                      "bankruptcy, no assets found, …"})


class WriteOffOut(Schema):
    id = fields.Integer()
    amount = Yuan(attribute="amount_fen")
    recovered = Yuan(attribute="recovered_fen")
    written_off_on = BoundedDate()
    reason = fields.String()
    evidence = fields.String(allow_none=True)
    requested_by = fields.String()
    approved_by = fields.String()
    approval_id = fields.Integer()


class ReferralIn(In):
    agency = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount = fields.String(required=True, validate=YUAN)
    referred_on = BoundedDate(metadata={"description": "Default: today"})
    note = fields.String(validate=validate.Length(max=2000))


class ReferralCloseIn(In):
    status = fields.String(required=True, validate=validate.OneOf([ReferralStatus.returned,
                                                                   ReferralStatus.recovered]))
    recovered = fields.String(validate=YUAN, metadata={"description": "Yuan the agency recovered (status "
                                                                      "recovered)"})
    closed_on = BoundedDate(metadata={"description": "Default: today"})
    note = fields.String(validate=validate.Length(max=2000))


class ReferralOut(Schema):
    id = fields.Integer()
    agency = fields.String()
    amount = Yuan(attribute="amount_fen")
    referred_on = BoundedDate()
    status = fields.String()
    closed_on = BoundedDate(allow_none=True)
    recovered = Yuan(attribute="recovered_fen")
    note = fields.String(allow_none=True)
    referred_by = fields.String()
    closed_by = fields.String(allow_none=True)


# ---------------------------------------------------------------- the work, shared by API and forms


def _customer(code: str) -> Customer:
    return get_customer(db.session, current_user, code)


def _request(customer: Customer, data: dict):
    require(Action.work_customers)
    return writeoff.request_write_off(db.session, customer, amount_fen=parse_yuan(data["amount"]),
                                      reason=data["reason"], evidence=data["evidence"],
                                      requested_by=current_user.username)


def _refer(customer: Customer, data: dict):
    require(Action.refer_debts)
    return writeoff.refer(db.session, customer, agency=data["agency"], amount_fen=parse_yuan(data["amount"]),
                          referred_on=data.get("referred_on"), referred_by=current_user.username,
                          note=data.get("note"))


def _close(customer: Customer, referral_id: int, data: dict):
    require(Action.refer_debts)
    ref = writeoff.get_referral(db.session, referral_id, customer)
    return writeoff.close_referral(db.session, ref, status=data["status"], closed_by=current_user.username,
                                   recovered_fen=parse_yuan(data["recovered"]) if data.get("recovered") else 0,
                                   closed_on=data.get("closed_on"), note=data.get("note"))


# ---------------------------------------------------------------- the JSON API


@api_bp.route("/<code>/write-offs")
class CustomerWriteOffs(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, WriteOffOut(many=True))
    def get(self, code: str):
        """The customer's write-offs, newest first, with what later payments recovered of each."""
        return writeoff.write_offs_of(db.session, _customer(code))

    @api_bp.arguments(WriteOffIn)
    @api_bp.response(202, ApprovalOut)
    def post(self, data, code: str):
        """Ask a supervisor to write off uncollectable overdue debt (at most the overdue balance)."""
        return _request(_customer(code), data)


@api_bp.route("/<code>/referrals")
class CustomerReferrals(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, ReferralOut(many=True))
    def get(self, code: str):
        """The customer's referrals to collection agencies, newest first."""
        return writeoff.referrals_of(db.session, _customer(code))

    @api_bp.arguments(ReferralIn)
    @api_bp.response(201, ReferralOut)
    def post(self, data, code: str):
        """Refer the customer's debt (overdue or written off) to a collection agency (supervisors)."""
        return _refer(_customer(code), data)


@api_bp.route("/<code>/referrals/<int:referral_id>/close")
class ReferralClose(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(ReferralCloseIn)
    @api_bp.response(200, ReferralOut)
    def post(self, data, code: str, referral_id: int):
        """Close a referral: returned uncollected, or recovered (with the amount the agency reports)."""
        return _close(_customer(code), referral_id, data)


# ---------------------------------------------------------------- the customer page's section


@sections.part("customer", "writeoff")
def writeoff_summary(overview: CustomerOverview) -> dict:
    """What `writeoff/_customer.html` shows on the customer page: write-offs, referrals, pending requests,
    the overdue balance (the page's own figure) and which forms the reader may use."""
    customer = overview.customer
    write_offs = writeoff.write_offs_of(db.session, customer)
    return {
        "overdue_fen": overview.position["overdue_fen"],
        # The same sum as writeoff.outstanding_fen, from the rows just read: one query fewer per page view.
        "outstanding_fen": sum(w.amount_fen - w.recovered_fen for w in write_offs),
        "write_offs": write_offs,
        "pending": writeoff.pending_of(db.session, customer),
        "referrals": writeoff.referrals_of(db.session, customer),
        "can_request": may(current_user, Action.work_customers),
        "can_refer": may(current_user, Action.refer_debts),
        "today": today(),
    }


def _act(code: str, work, done: str):
    """Run one form's action in one transaction; a refusal comes back as a message, nothing changed."""
    return act_on_customer(code, work, done, "#writeoff-h")


@pages.post("/customers/<code>/write-offs")
@login_required
def request_write_off(code: str):
    """Form: ask a supervisor to write off uncollectable debt."""
    return _act(code, lambda c: _request(c, _form(WriteOffIn())), _("Sent to a supervisor for approval."))


@pages.post("/customers/<code>/referrals")
@login_required
def refer(code: str):
    """Form: refer the customer's debt to a collection agency."""
    return _act(code, lambda c: _refer(c, _form(ReferralIn())), _("Referred to the collection agency."))


@pages.post("/customers/<code>/referrals/<int:referral_id>/close")
@login_required
def close_referral(code: str, referral_id: int):
    """Form: the agency returned the debt, or recovered it."""
    return _act(code, lambda c: _close(c, referral_id, _form(ReferralCloseIn())), _("Referral closed."))
