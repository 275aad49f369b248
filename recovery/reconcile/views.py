"""The clerks' reconciliation pages: the day's dashboard by channel, the breaks with filters and one-click
resolutions, the suspense worklist, and the daily payment report (page and CSV)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from recovery.auth.permissions import Action, require
from recovery.auth.views import safe_next
from recovery.bounds import INT64_MAX, date_arg, int_arg
from recovery.extensions import db
from recovery.forms import carry_out
from recovery.payments.models import Channel
from recovery.reconcile import breaks as service
from recovery.reconcile.models import BreakKind, BreakStatus
from recovery.reconcile.report import dashboard as dashboard_figures
from recovery.reconcile.report import day_report, payment_report, payment_report_csv
from recovery.timeutil import today

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")
PAGE = 100

KIND_LABELS = {
    "missing_in_ledger": _l("Missing in the ledger"),
    "missing_in_statement": _l("Missing in the statement"),
    "amount_mismatch": _l("Amount differs"),
    "duplicate": _l("Duplicate"),
    "timing": _l("Timing (cut-off)"),
}
STATUS_LABELS = {"open": _l("Open"), "assigned": _l("Assigned"), "resolved": _l("Resolved")}
RESOLUTION_LABELS = {
    "linked": _l("Linked to a payment"),
    "adjusted": _l("Ledger corrected"),
    "accepted": _l("Accepted"),
    "cleared": _l("Cleared by the next day"),
    "posted": _l("Posted to a customer"),
}
STATE_LABELS = {"balanced": _l("Balanced"), "breaks": _l("Breaks"), "no_statement": _l("No statement yet")}


@bp.before_request
@login_required
def _staff_only():
    """Reconciliation is the clerks' (and supervisors') work; officers do not see it."""
    require(Action.reconcile)


@bp.app_context_processor
def _labels() -> dict:
    return {"recon_kind_labels": KIND_LABELS, "recon_status_labels": STATUS_LABELS,
            "recon_resolution_labels": RESOLUTION_LABELS, "recon_state_labels": STATE_LABELS}


def _day() -> dt.date:
    """The day asked for (query string, else form) within the computable range; default the day the nightly
    run reconciled. 400 naming `date` otherwise."""
    source = request.args if request.args.get("date") else request.form
    return date_arg(source, "date", today() - dt.timedelta(days=1))


@bp.route("")
def dashboard():
    """The day at a glance: per channel and channel account, matched, both totals and the breaks left."""
    day = _day()
    return render_template("reconcile/dashboard.html", day=day, channels=dashboard_figures(db.session, day),
                           report=day_report(db.session, day), prev_day=day - dt.timedelta(days=1),
                           next_day=day + dt.timedelta(days=1))


@bp.route("/breaks")
def break_list():
    """The breaks, filtered by day, channel, account, kind and status, with their resolutions."""
    args = request.args
    day = None
    if args.get("date"):
        day = _day()
    kind, status, channel = args.get("kind") or None, args.get("status") or None, args.get("channel") or None
    if (kind and kind not in KIND_LABELS) or (status and status not in STATUS_LABELS) or \
            (channel and channel not in {c.value for c in Channel}):
        abort(400)
    f = service.BreakFilter(day=day, channel=channel, channel_account=args.get("account") or None, kind=kind,
                            status=status, assigned_to=args.get("assigned_to") or None)
    page = int_arg(args, "page", 1, minimum=1, maximum=INT64_MAX // PAGE)
    rows, total = service.list_breaks(db.session, f, limit=PAGE, offset=(page - 1) * PAGE)
    return render_template("reconcile/breaks.html", rows=rows, total=total, page=page, page_size=PAGE, f=f,
                           kinds=list(BreakKind), statuses=list(BreakStatus), channels=[c.value for c in Channel],
                           adjustable=service.ADJUSTABLE)


def _back():
    # Only our own pages: never an open redirect, nor a line break in the Location header.
    target = safe_next(request.form.get("next"), url_for("reconcile.break_list"))
    if not target.startswith("/reconcile"):
        target = url_for("reconcile.break_list")
    return redirect(target)


def _act(break_id: int, action, done_message: str):
    carry_out(action, done_message, category="info",
              refused=lambda reason: _("Break #%(id)s: %(reason)s", id=break_id, reason=reason))
    return _back()


@bp.route("/breaks/<int:break_id>/assign", methods=["POST"])
def assign(break_id: int):
    """Take a break (or give it to a named clerk)."""
    to = request.form.get("to") or current_user.username
    return _act(break_id, lambda: service.assign(db.session, break_id, to=to, by=current_user.username),
                _("Break #%(id)s assigned to %(who)s.", id=break_id, who=to))


@bp.route("/breaks/<int:break_id>/accept", methods=["POST"])
def accept(break_id: int):
    """Accept a break as it is, with a reason."""
    return _act(break_id, lambda: service.resolve_accept(db.session, break_id, by=current_user.username,
                                                         reason=request.form.get("reason", "")),
                _("Break #%(id)s accepted.", id=break_id))


@bp.route("/breaks/<int:break_id>/link", methods=["POST"])
def link(break_id: int):
    """Resolve a break by linking it to an existing payment."""
    return _act(break_id, lambda: service.resolve_link(db.session, break_id, request.form.get("payment", ""),
                                                       by=current_user.username, note=request.form.get("note")),
                _("Break #%(id)s linked to payment %(payment)s.", id=break_id, payment=request.form.get("payment")))


@bp.route("/breaks/<int:break_id>/adjust", methods=["POST"])
def adjust(break_id: int):
    """Resolve a break by posting the correcting ledger entry it calls for."""
    return _act(break_id, lambda: service.resolve_adjust(db.session, break_id, by=current_user.username,
                                                         note=request.form.get("note", "")),
                _("Break #%(id)s: correcting ledger entry posted.", id=break_id))


@bp.route("/suspense")
def suspense():
    """Unassigned bank credits (单边账) waiting for a clerk to name their customer."""
    status = request.args.get("status", "open")
    if status not in ("open", "assigned"):
        abort(400)
    return render_template("reconcile/suspense.html", items=service.list_suspense(db.session, status=status),
                           status=status)


@bp.route("/suspense/<int:item_id>/assign", methods=["POST"])
def assign_suspense(item_id: int):
    """Assign a suspense credit to a customer: the payment is posted and allocated."""
    code = request.form.get("customer", "").strip()
    carry_out(lambda: service.assign_suspense(db.session, item_id, code, by=current_user.username),
              lambda payment: _("Suspense item #%(id)s posted to %(customer)s as payment %(payment)s.", id=item_id,
                                customer=code, payment=payment.code), category="info",
              refused=lambda reason: _("Suspense item #%(id)s: %(reason)s", id=item_id, reason=reason))
    return redirect(url_for("reconcile.suspense"))


@bp.route("/payments")
def payments_report():
    """The daily payment report (缴费日报表): collected, settled and outstanding per channel account."""
    day = _day()
    rows = payment_report(db.session, day)
    totals = {k: sum(r[k] for r in rows) for k in ("collected_count", "collected_fen", "settled_count", "settled_fen",
                                                    "outstanding_count", "outstanding_fen")}
    return render_template("reconcile/payments.html", day=day, rows=rows, totals=totals,
                           prev_day=day - dt.timedelta(days=1), next_day=day + dt.timedelta(days=1))


@bp.route("/payments.csv")
def payments_csv():
    """The daily payment report as a CSV download."""
    day = _day()
    return Response(payment_report_csv(payment_report(db.session, day)), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=payments-{day.isoformat()}.csv"})
