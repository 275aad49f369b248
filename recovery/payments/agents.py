"""Partner agents: registration, API secrets, signatures, remittances and the takings limit."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from recovery import crypto
from recovery.audit import service as audit
from recovery.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from recovery.payments.models import Agent, AgentSecret, AgentStatus, Remittance
from recovery.timeutil import now

CLOCK_WINDOW = 300  # seconds: the contract's tolerance between the agent's clock and ours
ROTATION_GRACE = dt.timedelta(days=7)
CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class NewSecret:
    agent: Agent
    secret: str


def limit_for(deposit_fen: int) -> int:
    """The collection limit a deposit buys (configuration: RECOVERY_AGENT_LIMIT_RATIO)."""
    return int(deposit_fen * current_app.config["AGENT_LIMIT_RATIO"])


def _new_secret(session: Session, agent: Agent) -> str:
    secret = secrets.token_urlsafe(32)
    session.add(AgentSecret(agent_id=agent.id, secret_encrypted=crypto.encrypt(secret)))
    return secret


def create_agent(session: Session, code: str, *, name: str, deposit_fen: int) -> NewSecret:
    """Register an agent; its secret is returned once and stored only encrypted."""
    if not CODE.match(code):
        raise Invalid("an agent code is 1-32 letters, digits, '_' or '-'")
    if deposit_fen < 0:
        raise Invalid("a deposit cannot be negative")
    if session.scalar(select(Agent.id).where(Agent.code == code)):
        raise Conflict(f"agent {code} already exists")
    agent = Agent(code=code, name=name, deposit_fen=deposit_fen, limit_fen=limit_for(deposit_fen), unremitted_fen=0,
                  status=AgentStatus.active)
    session.add(agent)
    session.flush()  # the secret row needs agent.id
    secret = _new_secret(session, agent)
    audit.record(session, "agent.create", "agent", code, deposit_fen=deposit_fen, limit_fen=agent.limit_fen)
    return NewSecret(agent, secret)


def rotate_secret(session: Session, code: str) -> NewSecret:
    """A new secret; the current ones stay valid for a grace period so the agent can switch over."""
    agent = get_agent(session, code)
    stamp = now()
    session.execute(update(AgentSecret).where(AgentSecret.agent_id == agent.id, AgentSecret.expires_at.is_(None))
                    .values(expires_at=stamp + ROTATION_GRACE))
    secret = _new_secret(session, agent)
    audit.record(session, "agent.rotate_secret", "agent", code,
                 previous_valid_until=(stamp + ROTATION_GRACE).isoformat())
    return NewSecret(agent, secret)


def get_agent(session: Session, code: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.code == code))
    if agent is None:
        raise NotFound(f"no agent {code}", code="agent_not_found")
    return agent


def record_remittance(session: Session, code: str, amount_fen: int, *, remitted_on: dt.date, reference: str,
                      recorded_by: str) -> Remittance:
    """Money handed over by the agent; lowers its unremitted takings (never below zero)."""
    agent = get_agent(session, code)
    if amount_fen <= 0:
        raise Invalid("a remittance must be greater than 0")
    if session.scalar(select(Remittance.id).where(Remittance.agent_id == agent.id, Remittance.reference == reference)):
        raise Conflict(f"remittance {reference} of agent {code} is already recorded")
    done = session.execute(
        update(Agent).where(Agent.id == agent.id, Agent.unremitted_fen >= amount_fen)
        .values(unremitted_fen=Agent.unremitted_fen - amount_fen)
    ).rowcount
    if not done:
        raise Invalid(f"agent {code} has less unremitted takings than {amount_fen / 100:.2f}", code="over_remittance")
    remittance = Remittance(agent_id=agent.id, amount_fen=amount_fen, remitted_on=remitted_on, reference=reference,
                            recorded_by=recorded_by)
    session.add(remittance)
    audit.record(session, "agent.remittance", "agent", code, amount_fen=amount_fen, reference=reference)
    return remittance


def canonical(method: str, path: str, timestamp: str, key: str, body: bytes) -> bytes:
    """The string an agent signs (contracts.md): method, path, timestamp, key, SHA-256 of the body."""
    return "\n".join([method.upper(), path, timestamp, key, hashlib.sha256(body).hexdigest()]).encode()


def sign(secret: str, method: str, path: str, timestamp: str, key: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256, as an agent computes it."""
    return hmac.new(secret.encode(), canonical(method, path, timestamp, key, body), hashlib.sha256).hexdigest()


def check_signature_headers(id_header: str, presented: str | None, timestamp: str | None,
                            signature: str | None) -> None:
    """401 unless the caller's id, a fresh X-Timestamp and X-Signature are all there (agents and kiosks alike)."""
    if not presented or not timestamp or not signature:
        raise Unauthorized(f"{id_header}, X-Timestamp and X-Signature headers are required", code="missing_signature")
    if not timestamp.isdigit():
        raise Unauthorized("X-Timestamp must be Unix seconds", code="bad_timestamp")
    skew = abs(now().timestamp() - int(timestamp))
    if skew > CLOCK_WINDOW:
        raise Unauthorized(f"X-Timestamp is {int(skew)} s from the server's clock; at most {CLOCK_WINDOW} s allowed",
                           code="stale_timestamp")


def check_signed_by(encrypted_secrets: list[str], signature: str, *, method: str, path: str, timestamp: str,
                    key: str, body: bytes) -> None:
    """401 unless one of the caller's valid secrets (encrypted, as stored) made this signature."""
    for token in encrypted_secrets:
        expected = sign(crypto.decrypt(token), method, path, timestamp, key, body)
        if hmac.compare_digest(expected, signature):
            return
    # One answer for unknown callers and wrong signatures: no probing for codes.
    raise Unauthorized("the signature does not match: sign METHOD, PATH, X-Timestamp, Idempotency-Key and the "
                       "body's SHA-256 with your current secret", code="bad_signature")


def authenticate(session: Session, *, agent_code: str | None, timestamp: str | None, signature: str | None,
                 method: str, path: str, key: str, body: bytes) -> Agent:
    """The agent whose valid secret signed this request; 401 otherwise, 403 when it is suspended."""
    check_signature_headers("X-Agent-Id", agent_code, timestamp, signature)
    agent = session.scalar(select(Agent).where(Agent.code == agent_code))
    rows = [] if agent is None else list(session.scalars(
        select(AgentSecret.secret_encrypted)
        .where(AgentSecret.agent_id == agent.id, or_(AgentSecret.expires_at.is_(None), AgentSecret.expires_at > now()))
    ))
    check_signed_by(rows, signature, method=method, path=path, timestamp=timestamp, key=key, body=body)
    if agent.status != AgentStatus.active:
        raise Forbidden(f"agent {agent.code} is suspended", code="agent_suspended")
    return agent


def take(session: Session, agent: Agent, amount_fen: int) -> None:
    """Add to the agent's takings, atomically refusing what would pass its limit.

    One conditional UPDATE: concurrent postings serialise on the agent's row and each re-checks
    the limit against the committed total, so no race lets two payments through past it.
    """
    done = session.execute(
        update(Agent)
        .where(Agent.id == agent.id, Agent.status == AgentStatus.active,
               Agent.unremitted_fen + amount_fen <= Agent.limit_fen)
        .values(unremitted_fen=Agent.unremitted_fen + amount_fen)
    ).rowcount
    if not done:
        raise Forbidden(
            f"agent {agent.code}'s unremitted takings plus this payment would exceed its deposit-backed limit "
            f"of {agent.limit_fen // 100}.{agent.limit_fen % 100:02d} yuan; remit collected money first",
            code="agent_limit_exceeded",
        )
