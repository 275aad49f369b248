"""Deposits, guarantees and required versus held security: the staff JSON API and the officer pages
(with supervisors' decisions on deposit applications, refunds, releases and guarantee calls)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint as PageBlueprint
from flask import abort, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_smorest import Blueprint

from recovery import sections
from recovery.approvals import service as approvals
from recovery.approvals.models import ApprovalRequest
from recovery.auth.permissions import Action, may, permits, require
from recovery.auth.service import get_customer
from recovery.auth.views import api_login_required
from recovery.credit import queries
from recovery.credit.security import deposits, guarantees, qualification
from recovery.credit.security.review import customer_security
from recovery.credit.security.schemas import (
    ApprovalOut,
    DepositOut,
    DepositRequestIn,
    GuaranteeIn,
    GuaranteeOut,
    PayOutIn,
    QualificationOut,
    ReasonIn,
    ReceiptIn,
    SecurityOut,
)
from recovery.customers.models import Customer
from recovery.errors import NotFound
from recovery.extensions import db
from recovery.forms import carry_out
from recovery.forms import posted as _form
from recovery.money import parse_yuan
from recovery.timeutil import today

if TYPE_CHECKING:
    from recovery.portfolio.queries import CustomerOverview

SECURITY_KINDS = ("deposit.apply", "deposit.refund", "deposit.release", "guarantee.call")

api_bp = Blueprint("security", __name__, url_prefix="/api/v1/customers",
                   description="A customer's deposits, guarantees, qualification review and required versus held "
                               "security. Paying security out or calling a guarantee files a request for a supervisor.")
pages = PageBlueprint("security_pages", __name__)


def _customer(code: str) -> Customer:
    return get_customer(db.session, current_user, code)


def _amount(data: dict[str, Any]) -> int | None:
    return parse_yuan(data["amount"]) if data.get("amount") else None


def _deposit_doc(item: dict) -> dict:
    d = item["deposit"]
    return {**{c: getattr(d, c) for c in ("id", "status", "requested_fen", "held_fen", "requested_on", "received_on",
                                           "reason")}, "entries": item["entries"]}


def security_doc(customer: Customer, rating: dict | None = None) -> dict:
    """Required versus held security of a customer, with its code (the API's and the pages' shape)."""
    return {"customer_id": customer.code, **customer_security(db.session, customer, today(), rating)}


# ---------------------------------------------------------------- the JSON API


@api_bp.route("/<code>/security")
class CustomerSecurity(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, SecurityOut)
    def get(self, code: str):
        """Required versus held security: the recommended deposit, cash and guarantees held, the shortfall."""
        return security_doc(_customer(code))


@api_bp.route("/<code>/deposits")
class CustomerDeposits(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, DepositOut(many=True))
    def get(self, code: str):
        """The customer's deposits with their entries, newest first."""
        return [_deposit_doc(i) for i in deposits.deposits_of(db.session, _customer(code))]

    @api_bp.arguments(DepositRequestIn)
    @api_bp.response(201, DepositOut)
    def post(self, data, code: str):
        """Ask the customer for a deposit (default: the top-up to the recommended deposit)."""
        require(Action.work_customers)
        customer = _customer(code)
        d = deposits.request_deposit(db.session, customer, requested_by=current_user.username, reason=data["reason"],
                                     amount_fen=_amount(data))
        return _one_deposit(customer, d.id)


def _one_deposit(customer: Customer, deposit_id: int) -> dict:
    for item in deposits.deposits_of(db.session, customer):
        if item["deposit"].id == deposit_id:
            return _deposit_doc(item)
    raise NotFound(f"no deposit #{deposit_id} of customer {customer.code}")


@api_bp.route("/<code>/deposits/<int:deposit_id>/receipts")
class DepositReceipts(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(ReceiptIn)
    @api_bp.response(201, DepositOut)
    def post(self, data, code: str, deposit_id: int):
        """Record money received on a deposit (a liability: the bill balance does not change)."""
        require(Action.receive_deposits)
        customer = _customer(code)
        deposits.receive(db.session, customer, amount_fen=parse_yuan(data["amount"]), reference=data["reference"],
                         received_by=current_user.username, received_on=data.get("received_on"),
                         deposit_id=deposit_id)
        return _one_deposit(customer, deposit_id)


def _deposit_request(kind: str):
    propose = deposits.propose_application if kind == "apply" else deposits.propose_refund

    @api_bp.arguments(PayOutIn)
    @api_bp.response(202, ApprovalOut)
    def post(self, data, code: str, deposit_id: int):
        require(Action.work_customers)
        d = deposits.get_deposit(db.session, deposit_id, _customer(code))
        return propose(db.session, d, requested_by=current_user.username, reason=data["reason"],
                       amount_fen=_amount(data))

    post.__doc__ = {"apply": "Ask a supervisor to apply the deposit against the customer's arrears.",
                    "refund": "Ask a supervisor to refund the deposit to the customer."}[kind]
    return post


@api_bp.route("/<code>/deposits/<int:deposit_id>/applications")
class DepositApplications(MethodView):
    decorators = (api_login_required,)
    post = _deposit_request("apply")


@api_bp.route("/<code>/deposits/<int:deposit_id>/refunds")
class DepositRefunds(MethodView):
    decorators = (api_login_required,)
    post = _deposit_request("refund")


@api_bp.route("/<code>/guarantees")
class CustomerGuarantees(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, GuaranteeOut(many=True))
    def get(self, code: str):
        """The customer's guarantees, latest end of validity first."""
        return guarantees.guarantees_of(db.session, _customer(code))

    @api_bp.arguments(GuaranteeIn)
    @api_bp.response(201, GuaranteeOut)
    def post(self, data, code: str):
        """Register a guarantee: bank guarantee letter, letter of credit, surety, mortgage or pledge."""
        require(Action.work_customers)
        return guarantees.register(db.session, _customer(code), kind=data["kind"], guarantor=data["guarantor"],
                                   reference=data["reference"], amount_fen=parse_yuan(data["amount"]),
                                   valid_from=data["valid_from"], valid_until=data["valid_until"],
                                   created_by=current_user.username, note=data.get("note"))


@api_bp.route("/<code>/guarantees/<int:guarantee_id>/calls")
class GuaranteeCalls(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(PayOutIn)
    @api_bp.response(202, ApprovalOut)
    def post(self, data, code: str, guarantee_id: int):
        """Ask a supervisor to call the guarantee against the customer's arrears."""
        require(Action.work_customers)
        g = guarantees.get_guarantee(db.session, guarantee_id, _customer(code))
        return guarantees.propose_call(db.session, g, requested_by=current_user.username, reason=data["reason"],
                                       amount_fen=_amount(data))


@api_bp.route("/<code>/guarantees/<int:guarantee_id>/release")
class GuaranteeRelease(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(ReasonIn)
    @api_bp.response(200, GuaranteeOut)
    def post(self, data, code: str, guarantee_id: int):
        """Hand the guarantee back: it no longer counts as security."""
        require(Action.work_customers)
        g = guarantees.get_guarantee(db.session, guarantee_id, _customer(code))
        guarantees.release(db.session, g, released_by=current_user.username, reason=data["reason"])
        return g


@api_bp.route("/<code>/qualification")
class CustomerQualification(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, QualificationOut)
    @api_bp.alt_response(404, description="Never reviewed")
    def get(self, code: str):
        """The customer's latest qualification review."""
        review = qualification.latest_review(db.session, _customer(code))
        if review is None:
            raise NotFound(f"customer {code} has not been reviewed", code="not_reviewed")
        return review

    @api_bp.response(201, QualificationOut)
    def post(self, code: str):
        """Review the customer's qualification now: identity check digits and registered capital."""
        require(Action.work_customers)
        return qualification.review_customer(db.session, _customer(code), reviewed_by=current_user.username)


# ---------------------------------------------------------------- officer pages


def security_summary(customer: Customer, rating: dict | None = None) -> dict:
    """What the `credit/_security.html` partial shows: required versus held security and open work
    (`rating`: the customer's credit standing when the page has read it already)."""
    return {**security_doc(customer, rating), "tasks": guarantees.open_tasks(db.session, customer),
            "pending": _pending_for(customer)}


@sections.part("customer", "security")
def security_part(overview: CustomerOverview) -> dict:
    """The customer page's security part, with the credit standing the page read."""
    return security_summary(overview.customer, overview.credit)


def _pending_for(customer: Customer) -> list[ApprovalRequest]:
    """Pending security requests about this customer's deposits and guarantees."""
    return queries.pending_security_requests(db.session, customer, SECURITY_KINDS)


def _page_customer(code: str) -> Customer:
    try:
        return _customer(code)
    except NotFound:
        abort(404)  # the same answer whether the customer does not exist or belongs to another grid


@pages.route("/customers/<code>/security")
@login_required
def customer_page(code: str):
    """A customer's security: required versus held, deposits, guarantees, qualification, and the forms."""
    customer = _page_customer(code)
    return render_template(
        "security/customer.html", customer=customer, today=today(), parts={"security": security_summary(customer)},
        deposits=deposits.deposits_of(db.session, customer),
        guarantees=guarantees.guarantees_of(db.session, customer),
        review=qualification.latest_review(db.session, customer),
        can_act=may(current_user, Action.work_customers), can_receive=may(current_user, Action.receive_deposits),
    )


def _act(code: str, action: Action, work, done: str):
    """Run one form's action in one transaction (forms.carry_out): a role that may not use the form is refused
    with 403 (as with the pages it may not open); any other refusal comes back as a message, nothing changed."""
    customer = _page_customer(code)
    require(action)
    carry_out(lambda: work(customer), done)
    return redirect(url_for("security_pages.customer_page", code=customer.code))


@pages.post("/customers/<code>/security/deposits")
@login_required
def request_deposit(code: str):
    """Form: ask the customer for a deposit."""
    def work(c):
        data = _form(DepositRequestIn())
        deposits.request_deposit(db.session, c, requested_by=current_user.username, reason=data["reason"],
                                 amount_fen=_amount(data))
    return _act(code, Action.work_customers, work, _("Deposit requested."))


@pages.post("/customers/<code>/security/deposits/<int:deposit_id>/receipts")
@login_required
def receive_deposit(code: str, deposit_id: int):
    """Form: record money received on a deposit."""
    def work(c):
        data = _form(ReceiptIn())
        deposits.receive(db.session, c, amount_fen=parse_yuan(data["amount"]), reference=data["reference"],
                         received_by=current_user.username, received_on=data.get("received_on"),
                         deposit_id=deposit_id)
    return _act(code, Action.receive_deposits, work, _("Deposit received."))


@pages.post("/customers/<code>/security/deposits/<int:deposit_id>/<any(applications, refunds):what>")
@login_required
def pay_out_deposit(code: str, deposit_id: int, what: str):
    """Form: ask a supervisor to apply a deposit against arrears, or to refund it."""
    propose = deposits.propose_application if what == "applications" else deposits.propose_refund

    def work(c):
        data = _form(PayOutIn())
        propose(db.session, deposits.get_deposit(db.session, deposit_id, c), requested_by=current_user.username,
                reason=data["reason"], amount_fen=_amount(data))
    return _act(code, Action.work_customers, work, _("Sent to a supervisor for approval."))


@pages.post("/customers/<code>/security/guarantees")
@login_required
def register_guarantee(code: str):
    """Form: register a guarantee."""
    def work(c):
        data = _form(GuaranteeIn())
        guarantees.register(db.session, c, kind=data["kind"], guarantor=data["guarantor"],
                            reference=data["reference"], amount_fen=parse_yuan(data["amount"]),
                            valid_from=data["valid_from"], valid_until=data["valid_until"],
                            created_by=current_user.username, note=data.get("note"))
    return _act(code, Action.work_customers, work, _("Guarantee registered."))


@pages.post("/customers/<code>/security/guarantees/<int:guarantee_id>/calls")
@login_required
def call_guarantee(code: str, guarantee_id: int):
    """Form: ask a supervisor to call a guarantee."""
    def work(c):
        data = _form(PayOutIn())
        guarantees.propose_call(db.session, guarantees.get_guarantee(db.session, guarantee_id, c),
                                requested_by=current_user.username, reason=data["reason"], amount_fen=_amount(data))
    return _act(code, Action.work_customers, work, _("Sent to a supervisor for approval."))


@pages.post("/customers/<code>/security/guarantees/<int:guarantee_id>/release")
@login_required
def release_guarantee(code: str, guarantee_id: int):
    """Form: hand a guarantee back."""
    def work(c):
        data = _form(ReasonIn())
        guarantees.release(db.session, guarantees.get_guarantee(db.session, guarantee_id, c),
                           released_by=current_user.username, reason=data["reason"])
    return _act(code, Action.work_customers, work, _("Guarantee released."))


@pages.post("/customers/<code>/security/qualification")
@login_required
def review_qualification(code: str):
    """Form: run the qualification review now."""
    def work(c):
        qualification.review_customer(db.session, c, reviewed_by=current_user.username)
    return _act(code, Action.work_customers, work, _("Qualification reviewed."))


@pages.route("/security/approvals")
@login_required
@permits(Action.decide_approvals)
def approvals_page():
    """Supervisors: pending deposit applications, refunds, releases and guarantee calls."""
    waiting = [r for r in approvals.pending(db.session) if r.kind in SECURITY_KINDS]
    dep, gua, owners = queries.security_subjects(db.session, waiting)
    rows = []
    for r in waiting:
        subject = (dep if r.subject_type == "deposit" else gua).get(r.subject_id)
        owner = owners.get(subject.customer_id) if subject else None
        rows.append({"request": r, "subject": subject, "customer": owner})
    return render_template("security/approvals.html", rows=rows)


@pages.post("/security/approvals/<int:request_id>")
@login_required
@permits(Action.decide_approvals)
def decide_page(request_id: int):
    """Supervisors: approve (and carry out) or reject a security request."""
    approve = request.form.get("decision") == "approve"

    def work() -> None:
        if approvals.get(db.session, request_id).kind not in SECURITY_KINDS:
            abort(404)
        approvals.decide(db.session, request_id, approve=approve, decided_by=current_user.username,
                         role=current_user.role, note=request.form.get("note") or None)
    carry_out(work, _("Approved and carried out.") if approve else _("Rejected."))
    return redirect(url_for("security_pages.approvals_page"))
