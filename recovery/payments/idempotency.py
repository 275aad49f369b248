"""Idempotency keys for signed POSTs (agents, kiosks): the same key and body get the same answer, never a
second posting. Each kind of caller has its own key space (`model`, whose `owner_column` names the caller),
so two agents may use the same key.

The key is claimed inside the posting's own transaction, as its first write (on PostgreSQL in the same
statement as the payment), and completed with the answer just before the commit (with the channel's
guard, where the channel gives it as a statement): the payment and the stored answer commit together, and a request that
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
from typing import Any

from sqlalchemy import TextClause, bindparam, select, text, update
from sqlalchemy.orm import Session

from recovery.errors import Conflict
from recovery.timeutil import now

# A claim committed in flight can only come from a request of an earlier version that died; it is taken over.
ABANDONED_AFTER = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict


class NotClaimed(Exception):
    """The posting's claim did not go in: the key is answered already, in flight, or was used with another body."""


@dataclass
class Request:
    """A signed request's key. A posting claims it in its first statement and completes it with the answer
    in its last where it can (`claimed`, `completed` say what it did); otherwise `claim` and `complete` do."""

    model: type
    owner_id: int
    key: str
    request_hash: str
    claimed: bool = False
    completed: bool = False

    def claim_params(self) -> dict:
        return {"p_owner": self.owner_id, "p_key": self.key, "p_request_hash": self.request_hash,
                "p_created_at": now(), "p_lock": f"{self.model.__table__.name}:{self.owner_id}:{self.key}"}

    def completion(self, status: int, body: dict) -> tuple[Any, dict]:
        """The UPDATE storing the answer, and its parameters."""
        return _complete_statement(self.model), {"p_owner": self.owner_id, "p_key": self.key, "p_status": status,
                                                 "p_body": json.dumps(body)}


@functools.cache
def claim_sql(model: type, dialect: str) -> str:
    """The claim as SQL: an INSERT of the key unless it exists, RETURNING its id (parameters: `claim_params`).
    On PostgreSQL whoever holds the key's advisory lock is answering it, and a duplicate skips the insert
    instead of waiting on it."""
    table, owner = model.__table__.name, model.owner_column
    if dialect == "postgresql":
        row = ("SELECT CAST(:p_owner AS BIGINT), CAST(:p_key AS VARCHAR), CAST(:p_request_hash AS VARCHAR), "
               "'in_flight', CAST(:p_created_at AS TIMESTAMP WITH TIME ZONE) "
               "WHERE pg_try_advisory_xact_lock(hashtextextended(CAST(:p_lock AS TEXT), 0))")
    else:
        row = "SELECT :p_owner, :p_key, :p_request_hash, 'in_flight', :p_created_at WHERE :p_lock IS NOT NULL"
    return (f"INSERT INTO {table} ({owner}, key, request_hash, state, created_at) {row} "
            f"ON CONFLICT ({owner}, key) DO NOTHING RETURNING id")


@functools.cache
def _claim_statement(model: type, dialect: str) -> TextClause:
    """The claim, built once per key table and database (SQL, because SQLAlchemy does not cache its
    dialect-specific INSERT … ON CONFLICT)."""
    stamp = bindparam("p_created_at", type_=model.__table__.c.created_at.type)
    return text(claim_sql(model, dialect)).bindparams(stamp)


def try_claim(session: Session, request: Request) -> bool:
    """Claim the key by itself (the first write of the request's transaction); whether it went in."""
    claimed = session.execute(_claim_statement(request.model, session.get_bind().dialect.name),
                              request.claim_params()).scalar() is not None
    request.claimed = claimed
    return claimed


def claim(session: Session, request: Request) -> Replay | None:
    """Claim the key in the session's transaction (the caller's posting follows in it); or the stored answer
    to replay; or 409 when another request with the key is in flight or the key came with another body."""
    if try_claim(session, request):
        return None
    table = request.model.__table__
    owner = table.c[request.model.owner_column]
    stored = session.execute(select(table.c.id, table.c.request_hash, table.c.state, table.c.response_status,
                                    table.c.response_body, table.c.created_at)
                             .where(owner == request.owner_id, table.c.key == request.key)).first()
    if stored is None:  # PostgreSQL: the key's lock is held by a request still being answered
        raise Conflict("a request with this Idempotency-Key is still in flight; retry in a moment",
                       code="idempotency_key_in_flight")
    if stored.request_hash != request.request_hash:
        raise Conflict("this Idempotency-Key was already used with a different request body; use a new key "
                       "for a new payment", code="idempotency_key_reused")
    if stored.state == "done":
        return Replay(stored.response_status, json.loads(stored.response_body))
    taken = session.execute(
        update(table).where(table.c.id == stored.id, table.c.state == "in_flight",
                            table.c.created_at < now() - ABANDONED_AFTER).values(created_at=now())
    ).rowcount
    if taken:
        request.claimed = True
        return None
    raise Conflict("a request with this Idempotency-Key is still in flight; retry in a moment",
                   code="idempotency_key_in_flight")


def complete(session: Session, request: Request, status: int, body: dict) -> None:
    """Store the answer in the caller's transaction (it commits with the payment)."""
    session.execute(*request.completion(status, body))
    request.completed = True


@functools.cache
def _complete_statement(model: type):
    table = model.__table__
    return (update(table).where(table.c[model.owner_column] == bindparam("p_owner"), table.c.key == bindparam("p_key"))
            .values(state="done", response_status=bindparam("p_status"), response_body=bindparam("p_body")))
