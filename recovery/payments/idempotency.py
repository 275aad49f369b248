"""Idempotency keys for signed POSTs (agents, kiosks): the same key and body get the same answer, never a
second posting. Each kind of caller has its own key space (`model`, whose `owner_column` names the caller),
so two agents may use the same key.

The key is claimed inside the posting's own transaction, as its first write, and completed with the
answer just before the commit: the payment and the stored answer commit together, and a request that
dies (a crash, a refusal, a killed worker) leaves nothing behind, so its retry simply posts. While the
first request is in flight a concurrent duplicate answers 409: on PostgreSQL the claim takes a
transaction-scoped advisory lock on the key and the duplicate finds it taken; on SQLite the database's
single writer queues the duplicate behind the first, which then finds the answer to replay.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass

from sqlalchemy import TextClause, bindparam, select, text, update
from sqlalchemy.orm import Session

from recovery.errors import Conflict
from recovery.payments.models import IdempotencyKey
from recovery.timeutil import now

# A claim committed in flight can only come from a request of an earlier version that died; it is taken over.
ABANDONED_AFTER = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict


@functools.cache
def _claim_statement(model: type, dialect: str) -> TextClause:
    """INSERT the claim unless the key exists (built once per key table and database; SQL, because SQLAlchemy
    does not cache its dialect-specific INSERT … ON CONFLICT)."""
    table, owner = model.__table__.name, model.owner_column
    if dialect == "postgresql":
        # Whoever holds the key's lock is answering it; a duplicate skips the insert instead of waiting on it.
        row = ("SELECT CAST(:p_owner AS BIGINT), CAST(:p_key AS VARCHAR), CAST(:p_request_hash AS VARCHAR), "
               "'in_flight', CAST(:p_created_at AS TIMESTAMP WITH TIME ZONE) "
               "WHERE pg_try_advisory_xact_lock(hashtextextended(CAST(:p_lock AS TEXT), 0))")
    else:
        row = "SELECT :p_owner, :p_key, :p_request_hash, 'in_flight', :p_created_at WHERE :p_lock IS NOT NULL"
    return text(f"INSERT INTO {table} ({owner}, key, request_hash, state, created_at) {row} "
                f"ON CONFLICT ({owner}, key) DO NOTHING RETURNING id").bindparams(
        bindparam("p_created_at", type_=model.__table__.c.created_at.type))


def claim(session: Session, owner_id: int, key: str, request_hash: str, *,
          model: type = IdempotencyKey) -> Replay | None:
    """Claim the key in the session's transaction (the caller's posting follows in it); or the stored answer
    to replay; or 409 when another request with the key is in flight or the key came with another body."""
    table = model.__table__
    owner = table.c[model.owner_column]
    claimed = session.execute(_claim_statement(model, session.get_bind().dialect.name), {
        "p_owner": owner_id, "p_key": key, "p_request_hash": request_hash, "p_created_at": now(),
        "p_lock": f"{table.name}:{owner_id}:{key}"}).scalar()
    if claimed is not None:
        return None
    stored = session.execute(select(table.c.id, table.c.request_hash, table.c.state, table.c.response_status,
                                    table.c.response_body, table.c.created_at)
                             .where(owner == owner_id, table.c.key == key)).first()
    if stored is None:  # PostgreSQL: the key's lock is held by a request still being answered
        raise Conflict("a request with this Idempotency-Key is still in flight; retry in a moment",
                       code="idempotency_key_in_flight")
    if stored.request_hash != request_hash:
        raise Conflict("this Idempotency-Key was already used with a different request body; use a new key "
                       "for a new payment", code="idempotency_key_reused")
    if stored.state == "done":
        return Replay(stored.response_status, json.loads(stored.response_body))
    taken = session.execute(
        update(table).where(table.c.id == stored.id, table.c.state == "in_flight",
                            table.c.created_at < now() - ABANDONED_AFTER).values(created_at=now())
    ).rowcount
    if taken:
        return None
    raise Conflict("a request with this Idempotency-Key is still in flight; retry in a moment",
                   code="idempotency_key_in_flight")


def complete(session: Session, owner_id: int, key: str, status: int, body: dict, *,
             model: type = IdempotencyKey) -> None:
    """Store the answer in the caller's transaction (it commits with the payment)."""
    session.execute(_complete_statement(model), {"p_owner": owner_id, "p_key": key, "p_status": status,
                                                 "p_body": json.dumps(body)})


@functools.cache
def _complete_statement(model: type):
    table = model.__table__
    return (update(table).where(table.c[model.owner_column] == bindparam("p_owner"), table.c.key == bindparam("p_key"))
            .values(state="done", response_status=bindparam("p_status"), response_body=bindparam("p_body")))
