"""Loading the synthetic utility into the database, chunk by chunk, through the import loaders."""

from __future__ import annotations

import os
import secrets

import pandas as pd
from sqlalchemy import select

from recovery.auth.models import Role, User
from recovery.auth.service import create_user
from recovery.customers.models import Grid
from recovery.demo.generator import DemoChunk
from recovery.errors import DomainError, ImportRejected
from recovery.extensions import db
from recovery.imports.service import load_bills, load_customers, load_events, load_payments

GRIDS_PER_OFFICER = 2


def _numbered(frame: pd.DataFrame) -> pd.DataFrame:
    # Loaders report problems by line; generated rows are numbered as if they were a file.
    return frame.assign(line=range(2, len(frame) + 2))


def load_chunk(chunk: DemoChunk) -> None:
    """Load one chunk (customers first, then what refers to them) in the current transaction."""
    load_customers(db.session, _numbered(chunk.customers), "demo customers")
    load_bills(db.session, _numbered(chunk.bills), "demo bills")
    load_payments(db.session, _numbered(chunk.payments), "demo payments")
    load_events(db.session, _numbered(chunk.events), "demo events")


def ensure_demo_users() -> dict[str, str]:
    """A supervisor, a clerk and one officer per two grids; returns the passwords of users created now."""
    password = os.environ.get("RECOVERY_DEMO_PASSWORD") or secrets.token_urlsafe(9)
    grids = list(db.session.scalars(select(Grid.code).order_by(Grid.code)))
    wanted: list[tuple[str, str, str, list[str]]] = [
        ("supervisor", Role.supervisor, "主管 Supervisor", []),
        ("clerk", Role.clerk, "对账员 Clerk", []),
        ("inspector01", Role.inspector, "用电检查员 Inspector", []),
    ]
    for n, start in enumerate(range(0, len(grids), GRIDS_PER_OFFICER), start=1):
        wanted.append((f"officer{n:02d}", Role.officer, f"催费员 Officer {n:02d}",
                       grids[start:start + GRIDS_PER_OFFICER]))
    existing = set(db.session.scalars(select(User.username)))
    created = {}
    for username, role, name, user_grids in wanted:
        if username not in existing:
            create_user(db.session, username, role=role, password=password, display_name=name, grids=user_grids)
            created[username] = password
    return created


def load_chunk_or_explain(chunk: DemoChunk) -> None:
    """load_chunk, turning a conflict with data already there into one actionable message."""
    try:
        load_chunk(chunk)
    except ImportRejected as e:
        raise DomainError(
            "this database already holds other data under the demo's identifiers "
            f"(first conflict: {e.errors[0]}); load the demo into a fresh DATABASE_URL"
        ) from e


def summary(created: dict[str, str]) -> str:
    """Who was created, with the password, shortened when there are many officers."""
    officers = sorted(n for n in created if n.startswith("officer"))
    others = sorted(n for n in created if not n.startswith("officer"))
    names = ", ".join(others + ([f"{officers[0]}..{officers[-1]} ({len(officers)} officers)"]
                                if len(officers) > 3 else officers))
    return f"users created: {names}; password: {next(iter(created.values()))}"
