"""The officer pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from recovery import sections
from recovery.auth.models import Role
from recovery.auth.permissions import Action, permits
from recovery.bounds import FieldRefused
from recovery.credit.rating.ratings import rating_policy
from recovery.csvexport import csv_response
from recovery.customers.queries import grid_codes
from recovery.errors import NotFound
from recovery.extensions import db
from recovery.money import format_yuan
from recovery.portfolio import service
from recovery.portfolio.queries import CustomerOverview
from recovery.portfolio.schemas import PageArgs
from recovery.reports import dashboard as charts
from recovery.timeutil import business_tz, today

bp = Blueprint("web", __name__)
# Every page's <html lang> and language switch read the locale; Flask-Babel does not expose it to Jinja.
bp.add_app_template_global(get_locale, "get_locale")

# Codes stored in the database, shown in the officer's language (extracted by pybabel via _l).
LABELS = {
    "customer_class": {
        "residential": _l("Residential"),
        "commercial": _l("Commercial"),
        "industrial": _l("Industrial"),
        "property_mgmt": _l("Property management"),
        "government": _l("Government"),
        "agricultural": _l("Agricultural"),
    },
    "channel": {
        "bank": _l("Bank"),
        "direct_debit": _l("Direct debit"),
        "agent": _l("Collection agent"),
        "card": _l("Prepaid card"),
        "kiosk": _l("Self-service kiosk"),
        "counter": _l("Service counter"),
        "deposit": _l("Deposit applied"),
        "guarantee": _l("Guarantee called"),
    },
    "payment_state": {
        "provisional": _l("Provisional"),
        "settled": _l("Settled"),
        "reversed": _l("Reversed"),
    },
    "terms": {
        "postpaid": _l("Post-paid"),
        "prepayment": _l("Prepayment"),
        "split": _l("Split settlement"),
    },
    "demerit_kind": {
        "late_payment": _l("Late payment"),
        "missed_bill": _l("Missed bill"),
        "returned_payment": _l("Returned payment"),
        "broken_pay_plan": _l("Broken pay plan"),
        "violation": _l("Violation"),
        "theft": _l("Electricity theft"),
        "disconnection": _l("Disconnection for arrears"),
    },
    "entry_kind": {
        "bill": _l("Bill"),
        "payment": _l("Payment"),
        "penalty": _l("Late-payment penalty"),
        "reversal": _l("Reversal"),
        "adjustment": _l("Adjustment"),
        "write_off": _l("Write-off"),
    },
    # Approval kinds; each domain that files requests adds its kinds here.
    "tender": {
        "cash": _l("Cash"),
        "card": _l("Bank card"),
    },
    "drawer_status": {
        "open": _l("Drawer open"),
        "closed": _l("Drawer closed"),
    },
    "approval_kind": {
        "terms.change": _l("Change of settlement terms"),
        "deposit.apply": _l("Apply a deposit against arrears"),
        "deposit.refund": _l("Refund a deposit"),
        "deposit.release": _l("Release a deposit after good behaviour"),
        "guarantee.call": _l("Call a guarantee"),
        "agent.suspend": _l("Suspend a collection agent"),
        "agent.reinstate": _l("Reinstate a suspended collection agent"),
        "agent.forfeit": _l("Forfeit a collection agent's deposit"),
        "debt.write_off": _l("Write off uncollectable debt"),
        "disconnection.execute": _l("Carry out a disconnection order"),
        "theft.charge": _l("Charge a confirmed theft: back-billing and penalty"),
    },
    "deposit_status": {
        "requested": _l("Requested"),
        "held": _l("Held"),
        "closed": _l("Closed"),
        "cancelled": _l("Cancelled"),
    },
    "deposit_entry": {
        "requested": _l("Requested"),
        "received": _l("Received"),
        "applied": _l("Applied against arrears"),
        "refunded": _l("Refunded"),
        "released": _l("Released"),
        "interest": _l("Interest"),
        "forfeited": _l("Forfeited"),
    },
    "guarantee_kind": {
        "bank_guarantee": _l("Bank guarantee letter"),
        "letter_of_credit": _l("Letter of credit"),
        "surety": _l("Surety"),
        "mortgage": _l("Mortgage"),
        "pledge": _l("Pledge"),
    },
    "guarantee_status": {
        "active": _l("Active"),
        "expiring": _l("Expiring"),
        "expired": _l("Expired"),
        "called": _l("Called"),
        "released": _l("Released"),
    },
    "qualification_outcome": {
        "none": _l("Nothing required"),
        "deposit": _l("Deposit required"),
        "guarantee": _l("Guarantee required"),
        "prepayment": _l("Prepayment required"),
    },
    "qualification_finding": {
        "identity_missing": _l("No identity number on record"),
        "identity_invalid": _l("Identity number fails its check"),
        "capital_missing": _l("No registered capital on record"),
        "capital_below_threshold": _l("Registered capital below the threshold"),
    },
    "referral_status": {
        "referred": _l("With the agency"),
        "returned": _l("Returned uncollected"),
        "recovered": _l("Recovered by the agency"),
    },
    "order_status": {
        "open": _l("Open"),
        "cancelled": _l("Cancelled"),
        "executed": _l("Carried out"),
    },
    "approval_status": {
        "pending": _l("Pending"),
        "approved": _l("Approved"),
        "rejected": _l("Rejected"),
        "cancelled": _l("Withdrawn"),
    },
    "dunning_step": {
        "reminder_sms": _l("Reminder before the due date"),
        "overdue_notice": _l("Overdue notice"),
        "final_notice": _l("Final notice"),
        "disconnection_order": _l("Disconnection order"),
    },
    "contact_kind": {
        "visit": _l("Visit"),
        "call": _l("Call"),
    },
    "visit_outcome": {
        "contacted": _l("Contacted"),
        "promised": _l("Promised to pay"),
        "paid": _l("Paid on the spot"),
        "not_home": _l("Nobody there"),
        "refused": _l("Refused to pay"),
        "disputed": _l("Disputes the bill"),
        "wrong_number": _l("Wrong number"),
    },
    "promise_status": {
        "open": _l("Open"),
        "kept": _l("Kept"),
        "broken": _l("Broken"),
        "cancelled": _l("Withdrawn"),
    },
    "plan_status": {
        "active": _l("Active"),
        "completed": _l("Completed"),
        "broken": _l("Broken"),
        "cancelled": _l("Cancelled"),
    },
    "exemption_kind": {
        "critical_load": _l("Critical load"),
        "good_credit": _l("Good credit (no disconnection for arrears)"),
    },
    "notice_channel": {
        "sms": _l("SMS"),
        "letter": _l("Letter"),
    },
}

ERROR_MESSAGES = {
    400: _l("The request could not be understood. If you were sending a form, reload the page and try again."),
    403: _l("You are not allowed to open this page."),
    404: _l("There is no such page, or it is outside your grids."),
    405: _l("This page cannot be opened that way."),
    500: _l("Something went wrong on our side. Please try again later."),
}


@bp.route("/")
def index():
    """The customer list is the officer's home page."""
    return redirect(url_for("web.customers"))


def _list_args() -> dict:
    """The list's filters, sort and page from the query string (empty fields left out); 400 if malformed."""
    schema = PageArgs()
    known = {f.data_key or name for name, f in schema.fields.items()}
    try:
        return schema.load({k: v for k, v in request.args.items() if k in known and v != ""})
    except ValidationError as e:
        field = next(iter(e.normalized_messages()), "query")
        raise FieldRefused(field, "; ".join(map(str, e.normalized_messages().get(field, [])))) from None


@bp.route("/customers")
@login_required
def customers():
    """The officer's risk list: customers of their grids, most overdue first, filtered and sorted."""
    args = _list_args()
    as_of = today()
    page = service.customer_page(db.session, current_user, as_of, **args)
    return render_template("customers.html", page=page, args=args, as_of=as_of, own_grids=_own_grids(),
                           grid_choices=_grid_choices(), grades=rating_policy().grades, pd_choices=PD_CHOICES,
                           age_choices=list(service.AGE_BUCKETS), class_choices=list(LABELS["customer_class"]),
                           filtered=any(args.get(k) is not None for k in service.FILTERS),
                           csv_args={k: v for k, v in request.args.items() if k not in ("page", "page_size", "lang")})


# The probability thresholds offered on the page (the API takes any probability).
PD_CHOICES = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
CSV_HEADER = ["customer_id", "name", "customer_class", "grid", "balance", "overdue", "days_overdue",
              "oldest_due_on", "pd", "expected_loss", "risk_rating", "credit_grade", "phone"]


@bp.route("/customers.csv")
@login_required
def customers_csv():
    """The risk list as a CSV file: every customer matching the same filters, in the same order."""
    args = _list_args()
    args.pop("page", None), args.pop("page_size", None)
    as_of = today()

    def rows():
        for c in service.customer_rows(db.session, current_user, as_of, **args):
            # Amounts as Decimal: numbers, so a credit balance keeps its minus sign unescaped.
            yield [c["code"], c["name"], c["customer_class"], c["grid"], _yuan(c["balance_fen"]),
                   _yuan(c["overdue_fen"]), c["days_overdue"],
                   c["oldest_due_on"].isoformat() if c["oldest_due_on"] else None,
                   None if c["pd"] is None else Decimal(f"{c['pd']:.4f}"), _yuan(c["expected_loss_fen"]),
                   c["rating"], c["grade"], c["phone"]]

    return csv_response(rows(), CSV_HEADER, f"customers-{as_of.isoformat()}.csv")


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(format_yuan(fen))


def _own_grids() -> list[str] | None:
    """The officer's grid codes; None for staff who see every grid."""
    if current_user.role != Role.officer:
        return None
    return sorted(g.code for g in current_user.grids)


def _grid_choices() -> list[str]:
    """Grids offered in the filter: worth a select only when the user sees more than one."""
    own = _own_grids()
    codes = own if own is not None else grid_codes(db.session)
    return codes if len(codes) > 1 else []


@bp.route("/customers/<code>")
@login_required
def customer(code: str):
    """One customer on one page: position, risk, credit, security, bills, penalties, payments, orders, ledger."""
    try:
        found = service.get_customer(db.session, current_user, code)
    except NotFound:
        # The same answer whether the customer does not exist or belongs to another grid.
        abort(404)
    o = CustomerOverview.read(db.session, found, today())
    return render_template(
        "customer.html", parts=o.parts, customer=o.customer, as_of=o.as_of, position=o.position,
        score=o.score, credit=o.credit, credit_changes=o.credit_changes, bills=o.bills, penalties=o.penalties,
        payments=o.payments, orders=o.orders, ledger=o.ledger)


@bp.route("/dashboard")
@login_required
@permits(Action.read_dashboard)
def dashboard():
    """Charts of the user's grids (a supervisor's: every grid): ageing, risk, recovery trend, breaks."""
    as_of = today()
    # This morning's figures per grid when the night kept them, or the last night's over many customers.
    night = charts.night_figures(db.session, current_user, as_of)
    return render_template(
        "dashboard.html", as_of=as_of, own_grids=_own_grids(), age_label=charts.age_label,
        ageing=charts.ageing_figure(db.session, current_user, as_of, night),
        risk=charts.risk_figure(db.session, current_user, night),
        trend=charts.trend_figure(db.session, current_user, as_of, night),
        breaks=charts.breaks_figure(db.session, current_user, as_of, lambda c: label_filter(c, "channel")),
        parts=sections.gather("dashboard"),
    )


@bp.app_template_filter("yuan")
def yuan_filter(fen: int | None) -> str:
    """Integer fen shown as yuan with thousands separators: 123456 -> '1,234.56'."""
    return "" if fen is None else format_yuan(fen, grouped=True)


@bp.app_template_filter("business_time")
def business_time_filter(instant: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) instant as the wall-clock time of the business time zone."""
    if instant is None:
        return ""
    return instant.astimezone(business_tz()).strftime(fmt)


@bp.app_template_filter("label")
def label_filter(code: str | None, kind: str) -> str:
    """A stored code (customer class, channel, …) in the reader's language; unknown codes as they are."""
    if code is None:
        return ""
    return str(LABELS[kind].get(code, code))


@bp.app_template_global()
def url_without_lang() -> str:
    """This page's URL without `?lang=`, so that a language switch is not overridden by it."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    if request.endpoint is None:  # an unknown URL (404): there is nothing to rebuild
        return request.path
    return url_for(request.endpoint, **{**args, **(request.view_args or {})})


@bp.app_errorhandler(400)
@bp.app_errorhandler(403)
@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
@bp.app_errorhandler(500)
def error_page(err: HTTPException):
    """An error page for people; API callers keep the JSON error that recovery.errors gives them."""
    # A handler for a status code outranks recovery.errors' HTTPException handler, so ask that one
    # first: it answers JSON to API callers and hands anything else back unchanged.
    api_handler = current_app.error_handler_spec[None][None].get(HTTPException)
    answer = api_handler(err) if api_handler else err
    if answer is not err:
        return answer
    message = ERROR_MESSAGES.get(err.code or 500, err.description)
    detail = None
    if isinstance(err, FieldRefused):  # which field of the address or the form, and what it must be
        detail = _("The field %(field)s was refused: %(reason)s", field=err.field, reason=err.reason)
    return render_template("error.html", error=err, message=message, detail=detail), err.code
