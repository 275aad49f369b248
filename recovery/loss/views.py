"""The loss pages: areas and lines with their loss rates and flags, one area's line-loss chart, the month's suspect
list, inspection tasks (the inspector's own list; a supervisor's every one) with their outcome, and tip-offs.
Inspectors and supervisors work here; a confirmed theft's charges go to /approvals."""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from recovery import sections
from recovery.auth.models import Role
from recovery.auth.permissions import Action, may, permits
from recovery.customers.models import Customer
from recovery.customers.queries import customer_by_code
from recovery.errors import DomainError, Forbidden, NotFound
from recovery.extensions import db
from recovery.loss import inspections as service
from recovery.loss import queries, rates, suspects
from recovery.loss.models import Inspection, InspectionSource
from recovery.loss.policy import loss_policy
from recovery.timeutil import today

bp = Blueprint("loss", __name__, url_prefix="/loss")

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])\Z")
CHART_MONTHS = 24
PAGE = 50

REASON_LABELS = {
    "drop_vs_history": _l("Consumption dropped against the same months a year before"),
    "drop_vs_peers": _l("Dropped more than the area's similar customers"),
    "zero_while_active": _l("No consumption on a live account"),
    "off_season": _l("Consumption does not follow the season"),
    "high_loss_area": _l("In a high-loss area"),
    "loss_rise_at_drop": _l("The area's loss rose as consumption dropped"),
    "past_theft": _l("Theft on record"),
    "past_violation": _l("Violation on record"),
}
FLAG_LABELS = {
    "above_threshold": _l("Above the loss threshold"),
    "above_history": _l("Far above its own usual loss"),
    "negative": _l("More billed than delivered"),
}
OUTCOME_LABELS = {
    "no_finding": _l("No finding"),
    "violation": _l("Violation"),
    "theft_confirmed": _l("Theft confirmed"),
}
STATUS_LABELS = {
    "open": _l("Open"),
    "theft_pending": _l("Theft charges waiting for approval"),
    "done": _l("Done"),
}
SOURCE_LABELS = {"suspect": _l("Suspect list"), "tip": _l("Tip-off"), "manual": _l("Other")}
TIP_CHANNEL_LABELS = {"phone": _l("Phone"), "visit": _l("In person"), "online": _l("Online"), "letter": _l("Letter")}
TIP_STATUS_LABELS = {"open": _l("Being checked"), "confirmed": _l("Confirmed, reward paid"),
                     "unfounded": _l("Unfounded")}


@bp.app_template_filter("loss_label")
def loss_label(code: str | None, kind: str) -> str:
    """A stored loss code in the reader's language."""
    tables = {"reason": REASON_LABELS, "flag": FLAG_LABELS, "outcome": OUTCOME_LABELS, "status": STATUS_LABELS,
              "source": SOURCE_LABELS, "tip_channel": TIP_CHANNEL_LABELS, "tip_status": TIP_STATUS_LABELS}
    if code is None:
        return ""
    return str(tables[kind].get(code, code))


@bp.app_template_filter("percent")
def percent(rate) -> str:
    """A loss rate ("0.1121") as a percentage with two decimals ("11.21%"); none as a dash."""
    if rate is None:
        return "–"
    return f"{float(rate) * 100:.2f}%"


def _period(default: str | None) -> str | None:
    value = request.values.get("period") or default
    if value is not None and not PERIOD.match(value):
        abort(400)
    return value


def _finish(message: str, target: str):
    """Go back with the message naming what was done (the request's unit of work keeps it)."""
    flash(message, "success")
    return redirect(target)


def _refused(error: DomainError, target: str):
    """Go back with the refusal, keeping nothing of the attempt: the answer is a normal redirect, which the
    request's unit of work would otherwise commit."""
    db.session.rollback()
    if isinstance(error, Forbidden) and error.code == "role_not_allowed":
        abort(403)
    flash(error.message, "error")
    return redirect(target)


@bp.route("")
@login_required
@permits(Action.read_loss)
def areas_page():
    """The month's loss of every area and line, flagged ones first."""
    period = _period(rates.latest_period(db.session))
    result = rates.report(db.session, period, loss_policy()) if period else {"areas": [], "lines": []}
    ordered = sorted(result["areas"], key=lambda a: (not a["flagged"], -float(a["loss_rate"] or "-99"), a["area"]))
    return render_template("loss/areas.html", period=period, areas=ordered, lines=result["lines"],
                           policy=loss_policy(), flagged=sum(a["flagged"] for a in ordered))


@bp.route("/areas/<code>")
@login_required
@permits(Action.read_loss)
def area_page(code: str):
    """One area: its loss rate month by month (chart and table) and its customers on the latest suspect list."""
    area = queries.area_by_code(db.session, code)
    if area is None:
        abort(404)
    period = _period(rates.latest_period(db.session))
    history = rates.area_history(db.session, area, period, CHART_MONTHS) if period else []
    screened = suspects.screened_periods(db.session)
    listed = suspects.area_rows(db.session, screened[0], area.id) if screened else []
    return render_template("loss/area.html", area=area, period=period, history=history,
                           customers=queries.customers_in_area(db.session, area),
                           chart=queries.area_chart(area.code, history, loss_policy().threshold, percent),
                           listed=listed, screened=screened[0] if screened else None)


@sections.part("dashboard", "loss")
def loss_dashboard() -> dict | None:
    """The dashboard's line-loss figure for the signed-in user (see queries.dashboard_figure)."""
    if not may(current_user, Action.read_dashboard):  # signed out: no role, no dashboard
        return None
    return queries.dashboard_figure(db.session, current_user, loss_policy(), percent)


@bp.route("/suspects")
@login_required
@permits(Action.read_loss)
def suspects_page():
    """The month's suspect list as last screened, most suspect first, with a way to send an inspector."""
    screened = suspects.screened_periods(db.session)
    period = _period(screened[0] if screened else rates.latest_period(db.session))
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        abort(400)
    total, rows = suspects.stored_page(db.session, period, offset=(page - 1) * PAGE, limit=PAGE) if period \
        else (0, [])
    return render_template("loss/suspects.html", period=period, rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE)), screened=screened,
                           inspectors=service.inspectors(db.session),
                           can_assign=may(current_user, Action.assign_inspections))


@bp.route("/suspects/screen", methods=["POST"])
@login_required
@permits(Action.screen_suspects)
def screen():
    """Screen a month again (its stored list is replaced)."""
    period = _period(None)
    if period is None:
        abort(400)
    ranked = suspects.run(db.session, period, loss_policy())
    return _finish(_("%(month)s screened: %(num)s customers with an area, %(scored)s with evidence.", month=period,
                     num=len(ranked), scored=int((ranked["score_tenths"] > 0).sum())),
                   url_for("loss.suspects_page", period=period))


@bp.route("/inspections")
@login_required
@permits(Action.read_loss)
def inspections_page():
    """Inspection tasks: an inspector's own, a supervisor's every one; the outcome is recorded here."""
    own = current_user.role == Role.inspector
    rows = service.tasks(db.session, assigned_to=current_user.id if own else None)
    return render_template("loss/inspections.html", rows=rows, own=own, inspectors=service.inspectors(db.session),
                           today=today(), can_assign=may(current_user, Action.assign_inspections))


def _customer(code: str) -> Customer:
    found = customer_by_code(db.session, code)
    if found is None:
        raise NotFound(_("No customer %(code)s.", code=code), code="customer_not_found")
    return found


@bp.route("/inspections", methods=["POST"])
@login_required
@permits(Action.read_loss)
def assign():
    """Send an inspector to a customer (from the suspect list, or any customer by code)."""
    back = request.form.get("next") or url_for("loss.inspections_page")
    if not back.startswith("/loss"):
        back = url_for("loss.inspections_page")
    period = _period(None)
    try:
        customer = _customer(request.form.get("customer_id", ""))
        inspector = request.form.get("inspector") or (current_user.username
                                                      if current_user.role == Role.inspector else "")
        task = service.assign(db.session, customer, inspector=inspector, assigned_by=current_user.username,
                              role=current_user.role, day=today(), p=loss_policy(),
                              source=InspectionSource.suspect if period else InspectionSource.manual, period=period,
                              note=request.form.get("note"))
    except DomainError as e:
        return _refused(e, back)
    return _finish(_("Inspection #%(id)s of %(code)s assigned, due %(due)s.", id=task.id, code=customer.code,
                     due=task.due_on.isoformat()), back)


def _whole_kwh() -> int | None:
    text = (request.form.get("stolen_kwh") or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{1,9}", text):
        raise DomainError(_("Give the stolen energy in whole kWh."), code="bad_kwh")
    return int(text)


def _task(inspection_id: int) -> Inspection:
    try:
        return service.get(db.session, inspection_id)
    except NotFound:
        abort(404)


@bp.route("/inspections/<int:inspection_id>/outcome", methods=["POST"])
@login_required
@permits(Action.read_loss)
def record(inspection_id: int):
    """Record what an inspection found."""
    task = _task(inspection_id)
    back = url_for("loss.inspections_page")
    try:
        day = dt.date.fromisoformat(request.form.get("inspected_on") or today().isoformat())
    except ValueError:
        return _refused(DomainError(_("Give the inspection date as YYYY-MM-DD.")), back)
    try:
        done = service.record_outcome(
            db.session, task, outcome=request.form.get("outcome", ""), inspected_on=day,
            finding=request.form.get("finding"), recorded_by=current_user.username, role=current_user.role,
            day=today(), p=loss_policy(), stolen_kwh=_whole_kwh(), tariff=request.form.get("tariff"))
    except DomainError as e:
        return _refused(e, back)
    if "request_id" in done:
        message = _("Theft recorded: back-billing %(back)s yuan and penalty %(penalty)s yuan wait for a supervisor "
                    "(request #%(id)s).", back=done["backbill"], penalty=done["penalty"], id=done["request_id"])
    else:
        message = _("Inspection #%(id)s recorded.", id=task.id)
    return _finish(message, back)


@bp.route("/inspections/<int:inspection_id>/charge", methods=["POST"])
@login_required
@permits(Action.read_loss)
def refile(inspection_id: int):
    """File a confirmed theft's charges again, corrected, after a supervisor rejected them."""
    task = _task(inspection_id)
    back = url_for("loss.inspections_page")
    try:
        done = service.refile_charge(db.session, task, stolen_kwh=_whole_kwh(), tariff=request.form.get("tariff"),
                                     by=current_user.username, role=current_user.role, p=loss_policy())
    except DomainError as e:
        return _refused(e, back)
    return _finish(_("Theft charges filed again (request #%(id)s).", id=done["request_id"]), back)


@bp.route("/tips")
@login_required
@permits(Action.read_loss)
def tips_page():
    """Tip-offs: record one (an inspector is sent), and the latest with their outcome and reward."""
    return render_template("loss/tips.html", rows=service.tips(db.session), inspectors=service.inspectors(db.session),
                           today=today(), channels=service.TIP_CHANNELS, reward_fen=loss_policy().tip_reward_fen,
                           can_assign=may(current_user, Action.assign_inspections))


@bp.route("/tips", methods=["POST"])
@login_required
@permits(Action.read_loss)
def record_tip():
    """Record a tip-off and send an inspector."""
    back = url_for("loss.tips_page")
    try:
        received = dt.date.fromisoformat(request.form.get("received_on") or today().isoformat())
    except ValueError:
        return _refused(DomainError(_("Give the date as YYYY-MM-DD.")), back)
    try:
        tip = service.record_tip(
            db.session, _customer(request.form.get("customer_id", "")), channel=request.form.get("channel", ""),
            received_on=received, note=request.form.get("note", ""), tipster=request.form.get("tipster"),
            recorded_by=current_user.username, role=current_user.role,
            inspector=request.form.get("inspector") or (current_user.username
                                                        if current_user.role == Role.inspector else ""),
            day=today(), p=loss_policy())
    except DomainError as e:
        return _refused(e, back)
    return _finish(_("Tip-off #%(id)s recorded and an inspector sent.", id=tip.id), back)
