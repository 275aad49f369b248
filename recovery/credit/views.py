"""Credit pages (a customer's rating, history chart and reasons; the supervisor's overrides and proposals)
and the credit JSON API."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_smorest import Blueprint as ApiBlueprint

from recovery.approvals import service as approvals
from recovery.auth.permissions import Action, may, permits, require
from recovery.auth.service import get_customer
from recovery.auth.views import api_login_required, safe_next
from recovery.bounds import parse_date
from recovery.credit import queries, terms
from recovery.credit.models import CreditRating
from recovery.credit.rating import overrides
from recovery.credit.rating.ratings import history, rate, rating_policy
from recovery.credit.schemas import OverrideIn, OverrideSchema, RatingRowSchema, RatingSchema, TermsIn, TermsSchema
from recovery.credit.security.views import security_summary
from recovery.customers.models import Customer
from recovery.customers.queries import customer_by_code
from recovery.errors import NotFound
from recovery.extensions import db
from recovery.forms import carry_out
from recovery.timeutil import today

bp = Blueprint("credit", __name__)
api_bp = ApiBlueprint("credit_api", __name__, url_prefix="/api/v1/customers",
                      description="Credit ratings with their history and reasons, overrides and settlement terms.")

# Credit work on a customer (recomputing the rating, proposing new terms) is the officers' and supervisors'
# (Action.work_customers); clerks and cashiers read the credit page but do not act on it.


def chart(rows: list[CreditRating], until: dt.date) -> dict | None:
    """Geometry of the rating-history chart (points over time as a step line, grade bands behind it)."""
    if not rows:
        return None
    p = rating_policy()
    width, height, left, right, top, bottom = 640, 220, 44, 12, 12, 28
    start = rows[0].rated_on
    end = max(until, rows[-1].rated_on)
    span = max((end - start).days, 1)
    lo, hi = p.scale_min, p.scale_max

    def x(day: dt.date) -> float:
        return round(left + (width - left - right) * (day - start).days / span, 1)

    def y(points: int) -> float:
        return round(top + (height - top - bottom) * (hi - points) / (hi - lo), 1)

    path = []
    for i, r in enumerate(rows):
        nxt = rows[i + 1].rated_on if i + 1 < len(rows) else end
        path.append(f"{'M' if i == 0 else 'L'}{x(r.rated_on)},{y(r.points)} H{x(nxt)}")
    bands = [{"grade": b.grade, "y": y(b.min_points), "label_y": y(b.min_points) - 3}
             for b in p.bands if lo < b.min_points < hi]
    marks = [{"x": x(r.rated_on), "y": y(r.points), "grade": r.grade, "points": r.points,
              "on": r.rated_on.isoformat()} for r in rows]
    ticks = [{"y": y(v), "value": v} for v in (lo, (lo + hi) // 2, hi)]
    return {"width": width, "height": height, "path": " ".join(path), "bands": bands, "marks": marks,
            "ticks": ticks, "left": left, "right": width - right, "bottom": height - bottom,
            "start": start.isoformat(), "end": end.isoformat()}


def _customer_or_404(code: str) -> Customer:
    try:
        return get_customer(db.session, current_user, code)
    except NotFound:
        abort(404)


# ---------------------------------------------------------------------------------------------- pages


@bp.route("/customers/<code>/credit")
@login_required
def credit_page(code: str):
    """A customer's credit page: grade in force, rating history chart, reasons, terms."""
    customer = _customer_or_404(code)
    info = queries.rating_of(db.session, customer)
    return render_template("credit/customer_credit.html", customer=customer, info=info,
                           chart=chart(info["history"], today()), grades=rating_policy().grades,
                           supervisor=may(current_user, Action.override_credit), today=today(),
                           can_act=may(current_user, Action.work_customers),
                           max_until=today() + dt.timedelta(days=rating_policy().override_max_days),
                           overrides=overrides.overrides_of(db.session, customer.id),
                           parts={"security": security_summary(customer, info)})


def _back(code: str):
    return redirect(url_for("credit.credit_page", code=code))


@bp.route("/customers/<code>/credit/override", methods=["POST"])
@login_required
@permits(Action.override_credit)
def override_form(code: str):
    """A supervisor overrides the customer's grade until a date."""
    _override_from_form(_customer_or_404(code))
    return _back(code)


def _override_from_form(customer: Customer) -> None:
    """The override the posted form asks for, set on `customer`: saved, or refused with why and nothing changed."""
    try:
        until = parse_date(request.form.get("expires_on", ""))
    except ValueError:
        flash(_("Give the last day of the override as a date."), "error")
        return
    carry_out(lambda: overrides.set_override(db.session, customer, grade=request.form.get("grade", ""),
                                             reason=request.form.get("reason", ""), expires_on=until,
                                             set_by=current_user.username, role=current_user.role),
              _("Override saved."), category="ok")


@bp.route("/customers/<code>/credit/recompute", methods=["POST"])
@login_required
@permits(Action.work_customers)
def recompute_form(code: str):
    """Recompute this customer's rating now (officers and supervisors)."""
    customer = _customer_or_404(code)
    rate(db.session, today(), [customer.id])
    flash(_("Rating recomputed."), "ok")
    return _back(code)


@bp.route("/customers/<code>/credit/terms", methods=["POST"])
@login_required
@permits(Action.work_customers)
def terms_form(code: str):
    """Propose a change of settlement terms (officers and supervisors; another supervisor approves it)."""
    customer = _customer_or_404(code)
    carry_out(lambda: terms.propose_terms(db.session, customer.id, request.form.get("terms", ""),
                                          request.form.get("reason", ""), current_user.username),
              _("Proposal filed; a supervisor will decide it."), category="ok")
    return _back(code)


@bp.route("/credit/supervisor")
@login_required
@permits(Action.override_credit)
def supervisor_page():
    """Supervisor's page: overrides in force, and term changes waiting for a decision."""
    proposals = queries.terms_proposals(db.session)
    return render_template("credit/supervisor.html", active=overrides.active(db.session), proposals=proposals,
                           grades=rating_policy().grades, today=today(),
                           max_until=today() + dt.timedelta(days=rating_policy().override_max_days))


@bp.route("/credit/overrides", methods=["POST"])
@login_required
@permits(Action.override_credit)
def override_any():
    """The supervisor page's override form: any customer by code."""
    code = request.form.get("customer_id", "").strip()
    customer = customer_by_code(db.session, code)
    if customer is None:
        flash(_("No customer %(code)s.", code=code), "error")
    else:
        _override_from_form(customer)
    return redirect(url_for("credit.supervisor_page"))


@bp.route("/credit/overrides/<int:override_id>/revoke", methods=["POST"])
@login_required
@permits(Action.override_credit)
def revoke_form(override_id: int):
    """End an override early."""
    carry_out(lambda: overrides.revoke_override(db.session, override_id, reason=request.form.get("reason", ""),
                                                revoked_by=current_user.username, role=current_user.role),
              _("Override revoked."), category="ok")
    return redirect(safe_next(request.form.get("back"), url_for("credit.supervisor_page")))


@bp.route("/credit/proposals/<int:request_id>", methods=["POST"])
@login_required
@permits(Action.decide_approvals)
def decide_form(request_id: int):
    """Approve or reject a proposed change of terms."""
    carry_out(lambda: approvals.decide(db.session, request_id, approve=request.form.get("decision") == "approve",
                             decided_by=current_user.username, role=current_user.role,
                             note=request.form.get("note") or None),
              _("Decision recorded."), category="ok")
    return redirect(safe_next(request.form.get("back"), url_for("credit.supervisor_page")))


# ---------------------------------------------------------------------------------------------- API


def _customer(code: str) -> Customer:
    return get_customer(db.session, current_user, code)


@api_bp.route("/<code>/rating")
class Rating(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, RatingSchema)
    def get(self, code: str):
        """The customer's grade in force, with the latest computed rating and its reasons."""
        return queries.rating_of(db.session, _customer(code))


@api_bp.route("/<code>/rating-history")
class RatingHistory(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, RatingRowSchema(many=True))
    def get(self, code: str):
        """Every change of the customer's computed rating, oldest first, with the reasons that moved it."""
        return history(db.session, _customer(code).id)


@api_bp.route("/<code>/rating/recompute")
class RatingRecompute(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, RatingSchema)
    @api_bp.alt_response(403, description="Only officers and supervisors recompute a rating")
    def post(self, code: str):
        """Recompute the customer's rating today (on demand; officers and supervisors) and return it."""
        require(Action.work_customers)
        customer = _customer(code)
        rate(db.session, today(), [customer.id])
        return queries.rating_of(db.session, customer)


@api_bp.route("/<code>/rating-overrides")
class RatingOverrides(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, OverrideSchema(many=True))
    def get(self, code: str):
        """Every override of the customer, newest first."""
        return overrides.overrides_of(db.session, _customer(code).id)

    @api_bp.arguments(OverrideIn)
    @api_bp.response(201, OverrideSchema)
    @api_bp.alt_response(403, description="Only a supervisor may override a rating")
    def post(self, data, code: str):
        """Override the customer's grade until a date (supervisors), with a reason; audited."""
        require(Action.override_credit, "only a supervisor may override a credit rating")
        return overrides.set_override(db.session, _customer(code), grade=data["grade"], reason=data["reason"],
                                      expires_on=data["expires_on"], set_by=current_user.username,
                                      role=current_user.role)


@api_bp.route("/<code>/terms")
class CustomerTerms(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, TermsSchema)
    def get(self, code: str):
        """The customer's settlement terms and any proposal waiting for a supervisor."""
        return _terms_doc(_customer(code))

    @api_bp.arguments(TermsIn)
    @api_bp.response(201, TermsSchema)
    @api_bp.alt_response(403, description="Only officers and supervisors propose terms")
    @api_bp.alt_response(409, description="A proposal for this customer is already waiting")
    def post(self, data, code: str):
        """Propose a change of the customer's terms (officers, supervisors); a supervisor's approval applies it."""
        require(Action.work_customers)
        customer = _customer(code)
        terms.propose_terms(db.session, customer.id, data["terms"], data["reason"], current_user.username)
        return _terms_doc(customer)


def _terms_doc(customer: Customer) -> dict:
    row = queries.settlement_terms_of(db.session, customer)
    waiting = queries.pending_terms(db.session, customer.code)
    return {"customer_id": customer.code, "terms": row.terms if row else "postpaid",
            "basis": row.basis if row else None, "since": row.since if row else None,
            "pending": None if waiting is None else {"request_id": waiting.id, "terms": waiting.payload.get("terms"),
                                                     "reason": waiting.reason, "requested_by": waiting.requested_by}}
