"""Partner agents: registration, API secrets, signatures, remittances and the takings limit."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from recovery import crypto
from recovery.audit import service as audit
from recovery.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from recovery.payments.models import Agent, AgentSecret, AgentStatus, Remittance
from recovery.timeutil import now

CLOCK_WINDOW = 300  # seconds: the contract's tolerance between the agent's clock and ours
ROTATION_GRACE = dt.timedelta(days=7)
CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")  # always fullmatch: `$` would let a trailing newline through


@dataclass(frozen=True)
class NewSecret:
    agent: Agent
    secret: str


def limit_for(deposit_fen: int, ratio: Decimal | None = None) -> int:
    """The collection limit a deposit buys (configuration: RECOVERY_AGENT_LIMIT_RATIO, a decimal), in whole fen
    rounded down: a limit never exceeds what the deposit covers."""
    ratio = Decimal(current_app.config["AGENT_LIMIT_RATIO"]) if ratio is None else ratio
    return int((deposit_fen * ratio).to_integral_value(rounding=ROUND_FLOOR))


def _new_secret(session: Session, agent: Agent) -> str:
    secret = secrets.token_urlsafe(32)
    session.add(AgentSecret(agent_id=agent.id, secret_encrypted=crypto.encrypt(secret)))
    return secret


def create_agent(session: Session, code: str, *, name: str, deposit_fen: int) -> NewSecret:
    """Register an agent (its deposit at least the policy's minimum); its secret is returned once and stored
    only encrypted."""
    if not CODE.fullmatch(code):
        raise Invalid("an agent code is 1-32 letters, digits, '_' or '-'")
    from recovery.payments.terms import check_deposit

    check_deposit(deposit_fen)  # at least [agents] min_deposit (30,000 yuan by default)
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


TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"[0-9a-f]{64}")
CACHE_SECONDS = 30.0
_DECOY = b"\0" * 32
_REFUSED = ("the signature does not match: sign METHOD, PATH, X-Timestamp, Idempotency-Key and the body's SHA-256 "
            "with your current secret")


@dataclass(frozen=True)
class Caller:
    """A signed caller (an agent or a kiosk) as authentication found it: who it is, its status when it was
    read, and its valid secrets (decrypted) with when each stops being valid."""

    id: int
    code: str
    status: str
    secrets: tuple[tuple[str, dt.datetime | None], ...]
    read_at: float = field(default=0.0, compare=False)


Loader = Callable[[Session, str], "Caller | None"]


def cached_caller(session: Session, kind: str, code: str, load: Loader, *, fresh: bool = False) -> Caller | None:
    """The caller `code` of `kind`, from this worker's cache (kept CACHE_SECONDS) or read through `load`.

    Every posting checks the caller's status again in its own guard (the limit's or the kiosk's UPDATE),
    so a suspension takes effect at once; a rotated secret is found by re-reading on a mismatch.
    """
    cache = current_app.extensions.setdefault("signed_callers", {})
    hit = cache.get((kind, code))
    if not fresh and hit is not None and time.monotonic() - hit.read_at < CACHE_SECONDS:
        return hit
    caller = load(session, code)
    if caller is None:
        cache.pop((kind, code), None)
        return None
    caller = Caller(caller.id, caller.code, caller.status, caller.secrets, read_at=time.monotonic())
    cache[(kind, code)] = caller
    return caller


def _load_agent(session: Session, code: str) -> Caller | None:
    agent = session.execute(select(Agent.id, Agent.code, Agent.status).where(Agent.code == code)).first()
    if agent is None:
        return None
    rows = session.execute(select(AgentSecret.secret_encrypted, AgentSecret.expires_at)
                           .where(AgentSecret.agent_id == agent.id)).all()
    return Caller(agent.id, agent.code, agent.status, tuple((crypto.decrypt(t), until) for t, until in rows))


def check_signature_headers(id_header: str, presented: str | None, timestamp: str | None,
                            signature: str | None) -> None:
    """401 unless the caller's id, a fresh X-Timestamp and X-Signature are all there, each in its fixed
    ASCII shape (agents and kiosks alike). A malformed id or signature gets the answer a wrong one gets."""
    if not presented or not timestamp or not signature:
        raise Unauthorized(f"{id_header}, X-Timestamp and X-Signature headers are required", code="missing_signature")
    if not TIMESTAMP.fullmatch(timestamp):
        raise Unauthorized("X-Timestamp must be Unix seconds", code="bad_timestamp")
    skew = abs(now().timestamp() - int(timestamp))
    if skew > CLOCK_WINDOW:
        raise Unauthorized(f"X-Timestamp is {int(skew)} s from the server's clock; at most {CLOCK_WINDOW} s allowed",
                           code="stale_timestamp")
    if not CODE.fullmatch(presented) or not SIGNATURE.fullmatch(signature):
        raise Unauthorized(_REFUSED, code="bad_signature")


def _signed_by(caller: Caller | None, signature: str, message: bytes) -> bool:
    if caller is None:
        hmac.compare_digest(hmac.new(_DECOY, message, hashlib.sha256).hexdigest(), signature)  # the same work
        return False
    at = now()
    return any(hmac.compare_digest(hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(), signature)
               for secret, until in caller.secrets if until is None or until > at)


def authenticate_caller(session: Session, kind: str, load: Loader, *, id_header: str, presented: str | None,
                        timestamp: str | None, signature: str | None, method: str, path: str, key: str,
                        body: bytes) -> Caller:
    """The caller whose valid secret signed this request; 401 otherwise (one answer for unknown callers and
    wrong signatures: no probing for codes). Its status is the caller's to check."""
    check_signature_headers(id_header, presented, timestamp, signature)
    message = canonical(method, path, timestamp, key, body)
    caller = cached_caller(session, kind, presented, load)
    if not _signed_by(caller, signature, message):
        # A secret rotated since the cache read it: read again once.
        caller = cached_caller(session, kind, presented, load, fresh=True)
        if not _signed_by(caller, signature, message):
            raise Unauthorized(_REFUSED, code="bad_signature")
    return caller


def authenticate(session: Session, *, agent_code: str | None, timestamp: str | None, signature: str | None,
                 method: str, path: str, key: str, body: bytes) -> Caller:
    """The agent whose valid secret signed this request; 401 otherwise, 403 when it is suspended."""
    agent = authenticate_caller(session, "agent", _load_agent, id_header="X-Agent-Id", presented=agent_code,
                                timestamp=timestamp, signature=signature, method=method, path=path, key=key,
                                body=body)
    if agent.status != AgentStatus.active:
        raise Forbidden(f"agent {agent.code} is suspended", code="agent_suspended")
    return agent


_agents = Agent.__table__.c
_TAKE = (update(Agent.__table__)  # built once: every agent posting runs it
         .where(_agents.id == bindparam("take_agent"), _agents.status == AgentStatus.active,
                _agents.unremitted_fen + bindparam("take_fen") <= _agents.limit_fen)
         .values(unremitted_fen=_agents.unremitted_fen + bindparam("take_fen")))


def take_statement(agent: Caller | Agent, amount_fen: int):
    """The conditional UPDATE adding `amount_fen` to the agent's takings within its limit, and its parameters.

    Concurrent postings serialise on the agent's row and each re-checks the limit against the committed
    total, so no race lets two payments through past it; when it changes no row, `refuse_take` says why.
    """
    # Parameter names that are no column's: the statement may carry other writes as CTEs (posting.Guard).
    return _TAKE, {"take_agent": agent.id, "take_fen": amount_fen}


def refuse_take(session: Session, agent: Caller | Agent) -> None:
    """Raise why the agent's takings UPDATE changed nothing: the agent is suspended, or over its limit."""
    agent = session.execute(select(Agent.code, Agent.status, Agent.limit_fen).where(Agent.id == agent.id)).one()
    if agent.status != AgentStatus.active:
        raise Forbidden(f"agent {agent.code} is suspended", code="agent_suspended")
    raise Forbidden(
        f"agent {agent.code}'s unremitted takings plus this payment would exceed its deposit-backed limit "
        f"of {agent.limit_fen // 100}.{agent.limit_fen % 100:02d} yuan; remit collected money first",
        code="agent_limit_exceeded",
    )
