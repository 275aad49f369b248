"""Agents' terms on a page and in the API: each agent's deposit against the minimum, and the month's commissions
(page, CSV, JSON). Supervisors and clerks read them; supervisors set a deposit."""

from __future__ import annotations

from flask import Blueprint as PageBlueprint
from flask import abort, render_template, request
from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from recovery.auth.permissions import Action, permits, require
from recovery.auth.views import api_login_required
from recovery.csvexport import csv_response
from recovery.customers.schemas import YUAN, In, Yuan
from recovery.extensions import db
from recovery.money import parse_yuan
from recovery.payments import queries, terms
from recovery.timeutil import MONTH, today

pages = PageBlueprint("terms_pages", __name__)
api_bp = Blueprint("agent_terms_api", __name__, url_prefix="/api/v1/agents",
                   description="Partner agents' terms: deposits (at least the policy's minimum) and the commission "
                               "the utility pays on what each agent collects, per month.")


class CommissionArgs(Schema):
    month = fields.String(required=True, validate=validate.Regexp(MONTH.pattern), metadata={"description": "YYYY-MM"})


class CommissionOut(Schema):
    agent = fields.String()
    name = fields.String()
    month = fields.String()
    payments = fields.Integer()
    collected = Yuan(attribute="collected_fen")
    rate = fields.String(metadata={"description": "The decimal rate applied"})
    commission = Yuan(attribute="commission_fen", metadata={"description": "collected x rate, rounded half up to "
                                                                           "the fen, per agent and month"})


class DepositIn(In):
    deposit = fields.String(required=True, validate=YUAN, metadata={"description": "The agent's deposit now, yuan"})
    reference = fields.String(required=True, validate=validate.Length(min=1, max=64))


class AgentOut(Schema):
    code = fields.String()
    name = fields.String()
    deposit = Yuan(attribute="deposit_fen")
    limit = Yuan(attribute="limit_fen")
    unremitted = Yuan(attribute="unremitted_fen")
    status = fields.String()


def _records(frame) -> list[dict]:
    return [dict(r) for r in frame.to_dict("records")]


@api_bp.route("/commission")
class Commission(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(CommissionArgs, location="query")
    @api_bp.response(200, CommissionOut(many=True))
    def get(self, args):
        """Every agent's commission for the month: as closed, else computed from the payments now."""
        require(Action.read_terms)
        return _records(terms.commissions(db.session, args["month"]))


@api_bp.route("/<code>/deposit")
class Deposit(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(DepositIn)
    @api_bp.response(200, AgentOut)
    def put(self, data, code: str):
        """Set the agent's deposit (supervisors); below the policy's minimum is refused with 422
        (deposit_below_minimum)."""
        require(Action.set_terms)
        agent = terms.set_deposit(db.session, code, parse_yuan(data["deposit"]), reference=data["reference"],
                                  by=current_user.username)
        return agent


def _month() -> str:
    month = request.args.get("month") or today().strftime("%Y-%m")
    if not MONTH.match(month):
        abort(400)
    return month


@pages.route("/agents")
@login_required
@permits(Action.read_terms)
def agents_page():
    """Agents' deposits against the minimum, and the month's commissions."""
    month = _month()
    rules = terms.agents_policy()
    agents = queries.agents(db.session)
    rows = _records(terms.commissions(db.session, month))
    return render_template("channels/agents.html", month=month, agents=agents, rows=rows, rules=rules,
                           closed=terms.closed_at(db.session, month),
                           total={"collected_fen": sum(r["collected_fen"] for r in rows),
                                  "commission_fen": sum(r["commission_fen"] for r in rows)})


@pages.route("/agents/commission.csv")
@login_required
@permits(Action.read_terms)
def commission_csv():
    """The month's commissions as CSV."""
    month = _month()
    rows = terms.commission_csv_rows(_records(terms.commissions(db.session, month)))
    return csv_response(rows, terms.COMMISSION_HEADER, f"agent-commission-{month}.csv")
