"""HTTP for the channels: kiosks post signed payments; signed-in staff redeem cards and work the counter.

The staff endpoints take JSON only (webargs refuses other bodies), so a cross-site HTML form cannot
reach them; that, with the SameSite session cookie, is why they are exempt from the CSRF token.
"""

from __future__ import annotations

import secrets
from functools import wraps

from flask import Blueprint as FlaskBlueprint
from flask import Response, flash, g, jsonify, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_smorest import Blueprint

from recovery.auth.permissions import Action, allowed, permits, require
from recovery.auth.views import api_login_required
from recovery.errors import DomainError, Invalid, NotFound
from recovery.extensions import db
from recovery.money import format_yuan, parse_yuan
from recovery.ops.ratelimit import per_caller
from recovery.payments import posting
from recovery.payments.channels import cards, counter, kiosks
from recovery.payments.channels.schemas import (
    CounterPaymentIn,
    CounterPaymentOut,
    DrawerCloseIn,
    DrawerOpenIn,
    DrawerOut,
    KioskPaymentIn,
    KioskPaymentOut,
    RedeemIn,
    RedeemOut,
)
from recovery.payments.models import KioskIdempotencyKey
from recovery.payments.views import answer_once, signed_by
from recovery.timeutil import today

kiosk_bp = Blueprint("kiosk_payments", __name__, url_prefix="/api/v1/kiosk-payments",
                     description="Self-service kiosks post cash and bank-card payments, signed as agents sign theirs "
                                 "(with X-Kiosk-Id); every payment gets a receipt number.")
staff_bp = Blueprint("channels", __name__, url_prefix="/api/v1",
                     description="Signed-in staff: redeem recharge cards; cashiers open and close their drawer and "
                                 "take counter payments.")

kiosk_signed = signed_by("X-Kiosk-Id", kiosks.authenticate, "kiosk")
kiosk_limited = per_caller("kiosk", "KIOSK_RATE_LIMIT")


def staff_may(action: Action):
    """Signed-in staff whose role may take `action` only (403 for the others)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            require(action, f"this needs a {allowed(action)}")
            return view(*args, **kwargs)

        return api_login_required(wrapper)

    return decorator


@kiosk_bp.route("")
class KioskPayments(MethodView):
    decorators = (kiosk_limited, kiosk_signed)

    @kiosk_bp.arguments(KioskPaymentIn())  # one instance: the hot path builds no schema per request
    @kiosk_bp.response(201, KioskPaymentOut)
    @kiosk_bp.alt_response(401, description="Bad signature or stale timestamp")
    @kiosk_bp.alt_response(403, description="The kiosk is retired")
    @kiosk_bp.alt_response(404, description="Unknown customer")
    @kiosk_bp.alt_response(409, description="Idempotency-Key reused with another body, or still in flight")
    def post(self, data):
        """Post a payment taken at the kiosk; the answer carries its receipt number."""
        kiosk = g.kiosk
        kiosk_id = kiosk.id

        def work(request) -> dict:
            payment, receipt = kiosks.post_kiosk_payment(
                db.session, kiosk, customer_code=data["customer_id"], amount_fen=parse_yuan(data["amount"]),
                channel_ref=data["channel_ref"], paid_at=data["paid_at"], tender=data["tender"], request=request)
            return kiosks.kiosk_answer(db.session, payment, receipt)

        return answer_once(kiosk_id, work, keys=KioskIdempotencyKey)


@kiosk_bp.route("/<payment_id>")
class KioskPayment(MethodView):
    decorators = (kiosk_limited, kiosk_signed)

    @kiosk_bp.response(200, KioskPaymentOut)
    def get(self, payment_id: str):
        """One of the kiosk's own payments, with its receipt number."""
        payment = kiosks.kiosk_payment(db.session, g.kiosk, payment_id)
        return jsonify(kiosks.kiosk_answer(db.session, payment))


@staff_bp.route("/cards/redeem", methods=["POST"])
@staff_may(Action.redeem_cards)
@staff_bp.arguments(RedeemIn)
@staff_bp.response(201, RedeemOut)
def redeem(data):
    """Redeem a recharge card for a customer: their account is credited its face value, once."""
    payment, receipt = cards.redeem(db.session, data["serial"], data["pin"], data["customer_id"],
                                    redeemed_by=current_user.username)
    return cards.redemption_answer(db.session, payment, receipt)


def _drawer_answer(row) -> dict:
    return {"cashier": row.cashier, "business_day": row.business_day, "status": row.status,
            "opening_float": format_yuan(row.opening_float_fen),
            "counted": None if row.counted_fen is None else format_yuan(row.counted_fen),
            "opened_at": row.opened_at, "closed_at": row.closed_at, "payments": row.payments_count}


@staff_bp.route("/counter/drawer", methods=["POST"])
@staff_may(Action.work_counter)
@staff_bp.arguments(DrawerOpenIn)
@staff_bp.response(201, DrawerOut)
def open_drawer(data):
    """Open the signed-in cashier's drawer for today with its float."""
    row = counter.open_drawer(db.session, current_user.username, opening_float_fen=parse_yuan(data["opening_float"]),
                              opened_by=current_user.username)
    return _drawer_answer(row)


@staff_bp.route("/counter/drawer", methods=["GET"])
@staff_may(Action.work_counter)
@staff_bp.response(200, DrawerOut)
def get_drawer():
    """The signed-in cashier's drawer for today."""
    return _drawer_answer(counter.drawer(db.session, current_user.username))


@staff_bp.route("/counter/drawer/close", methods=["POST"])
@staff_may(Action.work_counter)
@staff_bp.arguments(DrawerCloseIn)
@staff_bp.response(200, DrawerOut)
def close_drawer(data):
    """Close the signed-in cashier's drawer with the cash counted in it."""
    row = counter.close_drawer(db.session, current_user.username, counted_fen=parse_yuan(data["counted"]),
                               closed_by=current_user.username)
    return _drawer_answer(row)


@staff_bp.route("/counter/payments", methods=["POST"])
@staff_may(Action.work_counter)
@staff_bp.arguments(CounterPaymentIn)
@staff_bp.response(201, CounterPaymentOut)
def counter_payment(data):
    """Take a payment at the counter into the signed-in cashier's open drawer."""
    payment, receipt = counter.post_counter_payment(
        db.session, current_user.username, customer_code=data["customer_id"], amount_fen=parse_yuan(data["amount"]),
        tender=data["tender"], channel_ref=data.get("channel_ref"))
    return {**posting.payment_answer(db.session, payment), "cashier": payment.channel_account,
            "receipt_no": receipt.receipt_no, "tender": receipt.tender}


# ---------------------------------------------------------------- the cashier's counter page

pages_bp = FlaskBlueprint("channel_pages", __name__)


@pages_bp.app_template_global()
def form_token() -> str:
    """A one-off reference for a payment form: resubmitting the same form cannot post a second payment."""
    return "F" + secrets.token_hex(10).upper()


@pages_bp.route("/counter")
@login_required
@permits(Action.work_counter)
def counter_page():
    """The cashier's day: open the drawer, take payments, close it."""
    day = today()
    try:
        row = counter.drawer(db.session, current_user.username, day)
    except NotFound:
        row = None
    figures = None
    if row is not None:
        frame = counter.drawers_day(db.session, day)
        figures = frame.loc[frame["cashier"] == current_user.username].to_dict("records")[0]
    return render_template("channels/counter.html", day=day, drawer=row, figures=figures,
                           receipts=counter.receipts_of(db.session, current_user.username, day))


def _form_yuan(name: str) -> int:
    try:
        return parse_yuan(request.form.get(name, ""))
    except Invalid:
        raise Invalid(_("Enter an amount in yuan with at most two decimals, e.g. 120.50.")) from None


def _counter_action(action) -> Response:
    """Run a counter form's action and go back to the counter with the message it gives, or with the refusal
    and nothing of it kept (the message names what was done, such as the receipt number)."""
    try:
        message = action()
    except DomainError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        flash(message, "info")
    return redirect(url_for("channel_pages.counter_page"))


@pages_bp.route("/counter/open", methods=["POST"])
@login_required
@permits(Action.work_counter)
def counter_open():
    """Open today's drawer with its float."""

    def act() -> str:
        counter.open_drawer(db.session, current_user.username, opening_float_fen=_form_yuan("opening_float"),
                            opened_by=current_user.username)
        return _("The drawer is open.")

    return _counter_action(act)


@pages_bp.route("/counter/pay", methods=["POST"])
@login_required
@permits(Action.work_counter)
def counter_pay():
    """Take one payment into the open drawer."""

    def act() -> str:
        _payment, receipt = counter.post_counter_payment(
            db.session, current_user.username, customer_code=request.form.get("customer_id", "").strip(),
            amount_fen=_form_yuan("amount"), tender=request.form.get("tender", ""),
            channel_ref=request.form.get("form_token") or None)
        return _("Payment taken: receipt %(no)s.", no=receipt.receipt_no)

    return _counter_action(act)


@pages_bp.route("/counter/close", methods=["POST"])
@login_required
@permits(Action.work_counter)
def counter_close():
    """Close today's drawer with the cash counted."""

    def act() -> str:
        counter.close_drawer(db.session, current_user.username, counted_fen=_form_yuan("counted"),
                             closed_by=current_user.username)
        return _("The drawer is closed.")

    return _counter_action(act)
