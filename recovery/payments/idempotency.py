"""Idempotency keys for agent POSTs: the same key and body get the same answer, never a second posting.

A key is claimed in its own short transaction before any work (so a concurrent request with the
same key sees it and answers 409), and completed inside the payment's transaction (so the stored
answer and the payment commit together). A claim whose request died is taken over after a while.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recovery.errors import Conflict
from recovery.extensions import db
from recovery.payments.models import IdempotencyKey
from recovery.timeutil import now

ABANDONED_AFTER = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict


def claim(agent_id: int, key: str, request_hash: str) -> Replay | None:
    """Claim the key (committed at once); or the stored answer to replay; or 409."""
    try:
        with db.engine.begin() as conn:
            conn.execute(IdempotencyKey.__table__.insert().values(
                agent_id=agent_id, key=key, request_hash=request_hash, state="in_flight", created_at=now()))
        return None
    except IntegrityError:
        pass  # the key exists: replay, refuse, or take over an abandoned claim
    with db.engine.begin() as conn:
        row = conn.execute(select(IdempotencyKey.__table__).where(
            IdempotencyKey.agent_id == agent_id, IdempotencyKey.key == key)).one()
        if row.request_hash != request_hash:
            raise Conflict("this Idempotency-Key was already used with a different request body; use a new key "
                           "for a new payment", code="idempotency_key_reused")
        if row.state == "done":
            return Replay(row.response_status, json.loads(row.response_body))
        # A claim left by a request that died is taken over; a live one is still being answered.
        taken = conn.execute(
            update(IdempotencyKey).where(IdempotencyKey.id == row.id, IdempotencyKey.state == "in_flight",
                                         IdempotencyKey.created_at < now() - ABANDONED_AFTER)
            .values(created_at=now())
        ).rowcount
        if taken:
            return None
        raise Conflict("a request with this Idempotency-Key is still in flight; retry in a moment",
                       code="idempotency_key_in_flight")


def complete(session: Session, agent_id: int, key: str, status: int, body: dict) -> None:
    """Store the answer in the caller's transaction (it commits with the payment)."""
    session.execute(update(IdempotencyKey).where(IdempotencyKey.agent_id == agent_id, IdempotencyKey.key == key)
                    .values(state="done", response_status=status, response_body=json.dumps(body)))


def release(agent_id: int, key: str) -> None:
    """Give the key back after a refused request, so the agent may retry it once the cause is fixed."""
    with db.engine.begin() as conn:
        conn.execute(delete(IdempotencyKey).where(IdempotencyKey.agent_id == agent_id, IdempotencyKey.key == key,
                                                  IdempotencyKey.state == "in_flight"))
