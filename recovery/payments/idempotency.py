"""Idempotency keys for signed POSTs (agents, kiosks): the same key and body get the same answer, never a
second posting. Each kind of caller has its own key table (`model`, whose `owner_column` names the caller).

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
from sqlalchemy.orm import InstrumentedAttribute, Session

from recovery.errors import Conflict
from recovery.extensions import db
from recovery.payments.models import IdempotencyKey
from recovery.timeutil import now

ABANDONED_AFTER = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict


def _owner(model: type) -> InstrumentedAttribute:
    return getattr(model, model.owner_column)


def claim(owner_id: int, key: str, request_hash: str, *, model: type = IdempotencyKey) -> Replay | None:
    """Claim the key (committed at once); or the stored answer to replay; or 409."""
    try:
        with db.engine.begin() as conn:
            conn.execute(model.__table__.insert().values({
                model.owner_column: owner_id, "key": key, "request_hash": request_hash, "state": "in_flight",
                "created_at": now()}))
        return None
    except IntegrityError:
        pass  # the key exists: replay, refuse, or take over an abandoned claim
    with db.engine.begin() as conn:
        row = conn.execute(select(model.__table__).where(_owner(model) == owner_id, model.key == key)).one()
        if row.request_hash != request_hash:
            raise Conflict("this Idempotency-Key was already used with a different request body; use a new key "
                           "for a new payment", code="idempotency_key_reused")
        if row.state == "done":
            return Replay(row.response_status, json.loads(row.response_body))
        # A claim left by a request that died is taken over; a live one is still being answered.
        taken = conn.execute(
            update(model).where(model.id == row.id, model.state == "in_flight",
                                model.created_at < now() - ABANDONED_AFTER)
            .values(created_at=now())
        ).rowcount
        if taken:
            return None
        raise Conflict("a request with this Idempotency-Key is still in flight; retry in a moment",
                       code="idempotency_key_in_flight")


def complete(session: Session, owner_id: int, key: str, status: int, body: dict, *,
             model: type = IdempotencyKey) -> None:
    """Store the answer in the caller's transaction (it commits with the payment)."""
    session.execute(update(model).where(_owner(model) == owner_id, model.key == key)
                    .values(state="done", response_status=status, response_body=json.dumps(body)))


def release(owner_id: int, key: str, *, model: type = IdempotencyKey) -> None:
    """Give the key back after a refused request, so the caller may retry it once the cause is fixed."""
    with db.engine.begin() as conn:
        conn.execute(delete(model).where(_owner(model) == owner_id, model.key == key, model.state == "in_flight"))
