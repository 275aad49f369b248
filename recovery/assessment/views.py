"""The assessment page (/assessment), its CSV export and the JSON API. Supervisors and admins see every
officer, grid and agent; an officer sees their own row and their grids; other roles nothing."""

from __future__ import annotations

import math

import pandas as pd
from flask import Blueprint, abort, render_template, request
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields, validate

from recovery.assessment import measures, service
from recovery.auth.models import Role
from recovery.auth.permissions import Action, may, permits
from recovery.auth.views import api_login_required
from recovery.csvexport import csv_response
from recovery.errors import Forbidden
from recovery.extensions import db
from recovery.timeutil import MONTH, today

bp = Blueprint("assessment", __name__)
api_bp = ApiBlueprint("assessment_api", __name__, url_prefix="/api/v1/assessment",
                      description="Monthly assessment (考核) scores of officers, grids, partner agents and card "
                                  "distributors, with each measure, its points, the score out of 100 and the pay "
                                  "factor.")

MEASURES = {"officers": measures.OFFICER_MEASURES, "grids": measures.OFFICER_MEASURES,
            "agents": measures.AGENT_MEASURES, "distributors": measures.DISTRIBUTOR_MEASURES}
# Agents and distributors are scored in two parts, volume and service quality ([assessment] parts).
PARTS = {"agents": ("volume", "service"), "distributors": ("volume", "service")}
PART_LABELS = {"volume": _l("Volume part"), "service": _l("Service part")}
MEASURE_LABELS = {
    "recovery": _l("Recovery rate (%)"),
    "old_receivables": _l("Receivables over a month (share of billing, %)"),
    "promises": _l("Promises kept (%)"),
    "visits": _l("Customers in arrears visited (%)"),
    "timeliness": _l("Remitted on time (%)"),
    "volume": _l("Payments per month"),
    "breaks": _l("Breaks per 100 payments"),
    "completeness": _l("Confirmed by statement (%)"),
    "complaints": _l("Complaints per 100 payments"),
}
# Where a distributor's measure means something else than the agent's of the same name.
DISTRIBUTOR_LABELS = {"volume": _l("Cards bought per month"), "timeliness": _l("Paid for on time (%)"),
                      "breaks": _l("Breaks per month"), "complaints": _l("Complaints per 100 cards")}
KIND_MEASURE_LABELS = {kind: {m: (DISTRIBUTOR_LABELS if kind == "distributors" else {}).get(m, MEASURE_LABELS[m])
                              for m in names} for kind, names in MEASURES.items()}
KIND_LABELS = {"officers": _l("Officers"), "grids": _l("Grids"), "agents": _l("Partner agents"),
               "distributors": _l("Card distributors")}
ROW_LABELS = {"officers": _l("Officer"), "grids": _l("Grid"), "agents": _l("Partner agent"),
              "distributors": _l("Card distributor")}
# Officers' complaints (recovery.disputes.complaints): counts and the points they took off the score.
COMPLAINTS = ("complaints_upheld", "complaints_late", "complaint_points")


def _kinds_for_user() -> tuple[str, ...]:
    if may(current_user, Action.read_all_results):
        return service.KINDS
    if current_user.role == Role.officer:
        return ("officers", "grids")
    return ()


def _visible(kind: str, table: pd.DataFrame) -> pd.DataFrame:
    """The rows the reader may see: everything for supervisors; an officer their own row and grids."""
    if kind not in _kinds_for_user():
        raise Forbidden("the assessment is for supervisors, and for officers their own", code="role_not_allowed")
    if may(current_user, Action.read_all_results):
        return table
    keys = {current_user.username} if kind == "officers" else {g.code for g in current_user.grids}
    return table[table.index.isin(keys)]


def _default_month() -> str:
    return today().strftime("%Y-%m")


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


def rows(kind: str, table: pd.DataFrame) -> list[dict]:
    """The table as plain dicts: key, name, grids, measures {name: {value, points}}, score, pay_factor."""
    out = []
    for key, r in table.iterrows():
        out.append({"key": key, "name": _clean(r.get("name")) or key, "grids": _clean(r.get("grids")),
                    "measures": {m: {"value": _clean(r[m]), "points": _clean(r[f"{m}_points"])}
                                 for m in MEASURES[kind]},
                    "target": _clean(r.get("recovery_target")),
                    **({c: _clean(r.get(c)) for c in COMPLAINTS} if kind == "officers" else {}),
                    "parts": {p: _clean(r.get(f"{p}_part")) for p in PARTS.get(kind, ())},
                    "score": _clean(r["score"]), "pay_factor": _clean(r["pay_factor"])})
    return out


def csv_rows(kind: str, table: pd.DataFrame) -> tuple[list[str], list[list]]:
    """Header and rows of the CSV export."""
    officers = kind == "officers"
    grids = kind in ("officers", "distributors")  # an officer's grids, a distributor's areas
    parts = PARTS.get(kind, ())
    header = ["key", "name", *(["grids"] if grids else []),
              *[c for m in MEASURES[kind] for c in (m, f"{m}_points")], *(COMPLAINTS if officers else []),
              *[f"{p}_part" for p in parts], "score", "pay_factor"]
    body = []
    for r in rows(kind, table):
        line = [r["key"], r["name"], *([r["grids"]] if grids else [])]
        for m in MEASURES[kind]:
            line += [r["measures"][m]["value"], r["measures"][m]["points"]]
        body.append([*line, *([r[c] for c in COMPLAINTS] if officers else []), *[r["parts"][p] for p in parts],
                     r["score"], r["pay_factor"]])
    return header, body


# ---------------------------------------------------------------- pages


@bp.route("/assessment")
@login_required
@permits(Action.read_assessment)
def page():
    """The month's assessment tables (with the year to date on request)."""
    kinds = _kinds_for_user()
    month = request.args.get("month") or _default_month()
    if not MONTH.match(month):
        abort(400)
    year_view = request.args.get("view") == "year"
    tables = {}
    for kind in kinds:
        if year_view:
            t = _visible(kind, service.yearly(db.session, kind, month))
            tables[kind] = [{"key": k, **{c: _clean(v) for c, v in r.items()}} for k, r in t.iterrows()]
        else:
            tables[kind] = rows(kind, _visible(kind, service.monthly(db.session, kind, month)))
    return render_template("assessment/page.html", month=month, tables=tables, year_view=year_view,
                           closed=service.closed(db.session, month),
                           measures=MEASURES, measure_labels=KIND_MEASURE_LABELS, kind_labels=KIND_LABELS,
                           row_labels=ROW_LABELS, parts=PARTS, part_labels=PART_LABELS)


@bp.route("/assessment.csv")
@login_required
def export():
    """The month's table of one kind as CSV (spreadsheet formulas neutralised)."""
    month = request.args.get("month") or _default_month()
    kind = request.args.get("kind", "officers")
    if kind not in service.KINDS or not MONTH.match(month):
        abort(400)
    if kind not in _kinds_for_user():
        abort(403)
    header, body = csv_rows(kind, _visible(kind, service.monthly(db.session, kind, month)))
    return csv_response(body, header, f"assessment-{kind}-{month}.csv")


# ---------------------------------------------------------------- the JSON API


class AssessmentArgs(Schema):
    month = fields.String(required=True, validate=validate.Regexp(MONTH.pattern),
                          metadata={"description": "YYYY-MM"})
    kind = fields.String(load_default="officers", validate=validate.OneOf(service.KINDS))


class PointsOut(Schema):
    value = fields.Float(allow_none=True)
    points = fields.Float(allow_none=True)


class AssessmentRowOut(Schema):
    key = fields.String(metadata={"description": "Username, grid code, agent or distributor code"})
    name = fields.String()
    grids = fields.String(allow_none=True, metadata={"description": "An officer's grids, a distributor's areas"})
    measures = fields.Dict(keys=fields.String(), values=fields.Nested(PointsOut))
    target = fields.Float(allow_none=True, metadata={"description": "Recovery-rate target (percent)"})
    complaints_upheld = fields.Integer(allow_none=True, metadata={"description": "Officers: complaints upheld "
                                                                                "against them in the month"})
    complaints_late = fields.Integer(allow_none=True, metadata={"description": "Officers: complaints they owned "
                                                                              "answered after the deadline"})
    complaint_points = fields.Float(allow_none=True, metadata={"description": "Officers: points the complaints "
                                                                             "took off the score (0 or less)"})
    parts = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True),
                        metadata={"description": "Agents and distributors: the points of the volume and the service "
                                                 "part"})
    score = fields.Float(allow_none=True, metadata={"description": "Out of 100"})
    pay_factor = fields.Float(allow_none=True)


@api_bp.route("")
class Assessment(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(AssessmentArgs, location="query")
    @api_bp.response(200, AssessmentRowOut(many=True))
    def get(self, args):
        """One month's scores of officers, grids, agents or card distributors (an officer: their own row and
        grids)."""
        kind = args["kind"]
        return rows(kind, _visible(kind, service.monthly(db.session, kind, args["month"])))
