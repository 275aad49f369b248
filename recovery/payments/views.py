"""The partner-agent API: HMAC-signed, idempotent payment posting (contracts.md)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import wraps

from flask import Response, g, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from recovery.errors import Invalid
from recovery.extensions import db
from recovery.money import parse_yuan
from recovery.ops.ratelimit import per_caller
from recovery.payments import idempotency, posting
from recovery.payments.channels import agents
from recovery.payments.models import IdempotencyKey
from recovery.payments.schemas import AgentPaymentIn, AgentPaymentOut

api_bp = Blueprint("agent_payments", __name__, url_prefix="/api/v1/payments",
                   description="Partner agents post payments and read their own. Every request is signed.")

KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_SIGNED_BODY = 8 * 1024  # a payment is well under 2 KB


def signed_by(id_header: str, authenticate: Callable[..., object], attribute: str):
    """A decorator verifying the caller's signature (contracts.md's scheme) before anything else.

    The body is refused unread when it is larger than a signed request needs, and is parsed only once
    its signature holds. `authenticate(session, presented=…, timestamp=…, signature=…, method=…, path=…,
    key=…, body=…)` returns the caller, who is then in `g.<attribute>`; agents and kiosks share this path.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            # Refused unread past what a signed request needs (413), by its Content-Length or, streamed, as read.
            if (request.content_length or 0) > MAX_SIGNED_BODY:
                raise RequestEntityTooLarge(f"a signed request's body is at most {MAX_SIGNED_BODY} bytes")
            request.max_content_length = MAX_SIGNED_BODY
            body = request.get_data(cache=True)
            key = request.headers.get("Idempotency-Key", "") if request.method == "POST" else ""
            setattr(g, attribute, authenticate(
                db.session, presented=request.headers.get(id_header), timestamp=request.headers.get("X-Timestamp"),
                signature=request.headers.get("X-Signature"), method=request.method, path=request.path, key=key,
                body=body,
            ))
            if request.method == "POST" and not KEY.fullmatch(key):
                raise Invalid("Idempotency-Key is required: 1-64 characters of A-Z a-z 0-9 _ -",
                              code="bad_idempotency_key")
            g.idempotency_key = key
            g.body_hash = hashlib.sha256(body).hexdigest()
            return view(*args, **kwargs)

        wrapper.signed_request = True  # the input guard leaves such a body alone until the signature holds
        return wrapper

    return decorator


def _agent(session, *, presented, **kw):
    return agents.authenticate(session, agent_code=presented, **kw)


signed = signed_by("X-Agent-Id", _agent, "agent")
limited = per_caller("agent", "AGENT_RATE_LIMIT")  # inside the signature check: see recovery/ops/ratelimit.py


def answer_once(owner_id: int, work: Callable[[idempotency.Request], dict], *,
                keys: type = IdempotencyKey) -> Response:
    """Do `work` (which returns the answer) at most once for the request's Idempotency-Key: the key is
    claimed in the posting's own transaction (`work` passes the request to the posting, which claims it in
    its first statement) and its answer stored in it, so a retry with the same key and body replays the
    answer, and a request that fails leaves the key free."""
    request = idempotency.Request(keys, owner_id, g.idempotency_key, g.body_hash)
    try:
        answer = work(request)
    except idempotency.NotClaimed:
        # Answered already, in flight, or reused with another body: settled by the claim's own rules, in a fresh
        # transaction that keeps nothing of the attempt.
        db.session.rollback()
        replay = idempotency.claim(db.session, request)
        if replay is not None:
            db.session.rollback()  # a replay keeps nothing of this request
            response = jsonify(replay.body)
            response.status_code = replay.status
            return response
        answer = work(request)  # an abandoned claim taken over
    if not request.completed:
        idempotency.complete(db.session, request, 201, answer)
    # The documented exception to the unit of work (recovery/unitofwork.py): this function restarts the
    # transaction itself when the claim does not go in, so it also ends it, committing the claim, the posting
    # and the stored answer together before the answer leaves it.
    db.session.commit()
    response = jsonify(answer)
    response.status_code = 201
    return response


@api_bp.route("")
class AgentPayments(MethodView):
    decorators = (limited, signed)

    @api_bp.arguments(AgentPaymentIn())  # one instance: the hot path builds no schema per request
    @api_bp.response(201, AgentPaymentOut)
    @api_bp.alt_response(401, description="Bad signature or stale timestamp")
    @api_bp.alt_response(403, description="Over the agent's limit, or the agent is suspended")
    @api_bp.alt_response(404, description="Unknown customer")
    @api_bp.alt_response(409, description="Idempotency-Key reused with another body, or still in flight")
    def post(self, data):
        """Post a payment collected by the agent."""
        agent = g.agent
        agent_id = agent.id

        def work(request: idempotency.Request) -> dict:
            payment = posting.post_agent_payment(
                db.session, agent, customer_code=data["customer_id"], amount_fen=parse_yuan(data["amount"]),
                channel_ref=data["channel_ref"], paid_at=data["paid_at"], request=request)
            return posting.payment_answer(db.session, payment)

        return answer_once(agent_id, work)


@api_bp.route("/<payment_id>")
class AgentPayment(MethodView):
    decorators = (limited, signed)

    @api_bp.response(200, AgentPaymentOut)
    def get(self, payment_id: str):
        """One of the agent's own payments."""
        payment = posting.agent_payment(db.session, g.agent, payment_id)
        return jsonify(posting.payment_answer(db.session, payment))
