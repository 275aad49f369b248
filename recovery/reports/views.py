"""The officers' activity report: the page (/reports/activity), its CSV and the JSON API. Supervisors and
admins see every officer and grid; an officer their own row and their grids."""

from __future__ import annotations

import pandas as pd
from flask import Blueprint, abort, render_template, request
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields, validate

from recovery.auth.permissions import Action, may, permits, require
from recovery.auth.views import api_login_required
from recovery.csvexport import csv_response
from recovery.errors import DomainError
from recovery.extensions import db
from recovery.reports import activity
from recovery.timeutil import today

bp = Blueprint("reports", __name__)
api_bp = ApiBlueprint("reports_api", __name__, url_prefix="/api/v1/reports",
                      description="The officers' activity per month or ISO week, per officer or per grid: visits, "
                                  "calls, SMS and letters sent, promises taken and kept, early warnings followed "
                                  "up, complaints handled.")

LABELS = {
    "visits": _l("Visits"), "calls": _l("Calls"), "sms": _l("SMS sent"), "letters": _l("Letters sent"),
    "promises_taken": _l("Promises taken"), "promises_kept": _l("Promises kept"),
    "warnings_followed": _l("Early warnings followed up"), "complaints_handled": _l("Complaints handled"),
}


def _visible(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """The rows the reader may see: everything for supervisors; an officer their own row and grids."""
    require(Action.read_activity, "the activity report is for officers and supervisors")
    if may(current_user, Action.read_all_results):
        return table
    keys = {current_user.username} if by == "officer" else {g.code for g in current_user.grids}
    return table[table.index.isin(keys)]


def _args(source) -> tuple[activity.Period, str]:
    week = (source.get("week") or "").strip() or None
    month = None if week else (source.get("period") or "").strip() or today().strftime("%Y-%m")
    by = source.get("by") or "officer"
    if by not in activity.BY:
        raise DomainError(f"by is one of {', '.join(activity.BY)}")
    return activity.period(month=month, week=week), by


def rows(table: pd.DataFrame) -> list[dict]:
    """The table as plain dicts: key, name, grids and one count per measure."""
    return [{"key": key, "name": r["name"], "grids": r.get("grids"), **{m: int(r[m]) for m in activity.MEASURES}}
            for key, r in table.iterrows()]


@bp.route("/reports/activity")
@login_required
@permits(Action.read_activity)
def activity_page():
    """The officers' activity over a month or a week, per officer or per grid, with totals."""
    try:
        period, by = _args(request.args)
    except DomainError:
        abort(400)
    table = _visible(activity.report(db.session, period, by), by)
    totals = {m: int(table[m].sum()) for m in activity.MEASURES}
    return render_template("reports/activity.html", period=period, by=by, rows=rows(table), totals=totals,
                           measures=activity.MEASURES, labels=LABELS,
                           week=period.label if "W" in period.label else "",
                           month=period.label if "W" not in period.label else "")


@bp.route("/reports/activity.csv")
@login_required
@permits(Action.read_activity)
def activity_csv():
    """The same report as CSV (spreadsheet formulas neutralised)."""
    try:
        period, by = _args(request.args)
    except DomainError:
        abort(400)
    table = _visible(activity.report(db.session, period, by), by)
    return csv_response(activity.csv_body(table, period, by), activity.header(by),
                        f"activity-{by}-{period.label}.csv")


class ActivityArgs(Schema):
    period = fields.String(validate=validate.Regexp(activity.MONTH.pattern),
                           metadata={"description": "A month, YYYY-MM (default: this month)"})
    week = fields.String(validate=validate.Regexp(activity.WEEK.pattern),
                         metadata={"description": "An ISO week, YYYY-Www (instead of a month)"})
    by = fields.String(load_default="officer", validate=validate.OneOf(activity.BY))


class ActivityRowOut(Schema):
    key = fields.String(metadata={"description": "Username or grid code"})
    name = fields.String()
    grids = fields.String(allow_none=True)
    visits = fields.Integer()
    calls = fields.Integer()
    sms = fields.Integer()
    letters = fields.Integer()
    promises_taken = fields.Integer()
    promises_kept = fields.Integer()
    warnings_followed = fields.Integer()
    complaints_handled = fields.Integer()


@api_bp.route("/activity")
class Activity(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(ActivityArgs, location="query")
    @api_bp.response(200, ActivityRowOut(many=True))
    def get(self, args):
        """The officers' activity per officer or per grid over a month or an ISO week."""
        period, by = _args(args)
        return rows(_visible(activity.report(db.session, period, by), by))
