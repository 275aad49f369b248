"""The partner-agent API: HMAC-signed, idempotent payment posting (contracts.md)."""

from __future__ import annotations

import hashlib
import re
from functools import wraps

from flask import g, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint

from recovery.errors import Invalid
from recovery.extensions import db
from recovery.money import parse_yuan
from recovery.payments import agents, idempotency, posting
from recovery.payments.schemas import AgentPaymentIn, AgentPaymentOut

api_bp = Blueprint("agent_payments", __name__, url_prefix="/api/v1/payments",
                   description="Partner agents post payments and read their own. Every request is signed.")

KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def signed(view):
    """Verify the agent's signature before anything else; the agent is then in `g.agent`."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        body = request.get_data(cache=True)
        key = request.headers.get("Idempotency-Key", "") if request.method == "POST" else ""
        g.agent = agents.authenticate(
            db.session, agent_code=request.headers.get("X-Agent-Id"), timestamp=request.headers.get("X-Timestamp"),
            signature=request.headers.get("X-Signature"), method=request.method, path=request.path, key=key,
            body=body,
        )
        if request.method == "POST" and not KEY.match(key):
            raise Invalid("Idempotency-Key is required: 1-64 characters of A-Z a-z 0-9 _ -", code="bad_idempotency_key")
        g.idempotency_key = key
        g.body_hash = hashlib.sha256(body).hexdigest()
        return view(*args, **kwargs)

    return wrapper


@api_bp.route("")
class AgentPayments(MethodView):
    decorators = (signed,)

    @api_bp.arguments(AgentPaymentIn)
    @api_bp.response(201, AgentPaymentOut)
    @api_bp.alt_response(401, description="Bad signature or stale timestamp")
    @api_bp.alt_response(403, description="Over the agent's limit, or the agent is suspended")
    @api_bp.alt_response(404, description="Unknown customer")
    @api_bp.alt_response(409, description="Idempotency-Key reused with another body, or still in flight")
    def post(self, data):
        """Post a payment collected by the agent."""
        agent, key = g.agent, g.idempotency_key
        agent_id = agent.id
        # End authentication's read transaction before claiming the key on a connection of its own:
        # a request then holds one connection at a time, and a burst cannot exhaust the pool waiting
        # for a second. (agent_id is read first: touching the expired agent would reconnect.)
        db.session.commit()
        replay = idempotency.claim(agent_id, key, g.body_hash)
        if replay is not None:
            response = jsonify(replay.body)
            response.status_code = replay.status
            return response
        try:
            payment = posting.post_agent_payment(
                db.session, agent, customer_code=data["customer_id"], amount_fen=parse_yuan(data["amount"]),
                channel_ref=data["channel_ref"], paid_at=data["paid_at"])
            answer = posting.payment_answer(db.session, payment)
            idempotency.complete(db.session, agent_id, key, 201, answer)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            idempotency.release(agent_id, key)
            raise
        response = jsonify(answer)
        response.status_code = 201
        return response


@api_bp.route("/<payment_id>")
class AgentPayment(MethodView):
    decorators = (signed,)

    @api_bp.response(200, AgentPaymentOut)
    def get(self, payment_id: str):
        """One of the agent's own payments."""
        payment = posting.agent_payment(db.session, g.agent, payment_id)
        return jsonify(posting.payment_answer(db.session, payment))
