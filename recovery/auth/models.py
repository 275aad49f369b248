"""Users with roles; officers are assigned the grids they work."""

from __future__ import annotations

import datetime as dt
import secrets
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from recovery.customers.models import Grid
from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import UTCDateTime


class Role(StrEnum):
    officer = "officer"
    supervisor = "supervisor"
    clerk = "clerk"
    admin = "admin"
    cashier = "cashier"  # takes counter payments into a drawer of their own (recovery.payments.channels.counter)
    inspector = "inspector"  # inspects customers for theft and violations (recovery.loss)


officer_grids = Table(
    "officer_grids",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("grid_id", ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    # Stored in the session at sign-in and compared on every request: raising it (sign-out, a new password,
    # deactivation) ends every session opened before, whoever kept a copy of its cookie.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)

    grids: Mapped[list[Grid]] = relationship(secondary=officer_grids, lazy="selectin")

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated user cannot sign in
        return self.active

    @property
    def sees_all_grids(self) -> bool:
        """Officers see their own grids; supervisors, admins and clerks (who assign unmatched bank
        credits to any customer) see every grid."""
        return self.role != Role.officer

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


# A hash of nothing anyone can type, made with the same method as real ones, for each hashing function in
# use: a sign-in with an unknown or deactivated user name is checked against it, so that the answer takes as
# long as for a real user and the time does not tell a guesser which names exist.
_decoys: dict[object, str] = {}


def password_matches(user: User | None, password: str) -> bool:
    """Whether an active user's password is this one; exactly one hash check whether or not the user exists."""
    if user is not None and user.active:
        return user.check_password(password)
    decoy = _decoys.get(generate_password_hash)
    if decoy is None:
        decoy = _decoys[generate_password_hash] = generate_password_hash(secrets.token_urlsafe(32))
    check_password_hash(decoy, password)
    return False


class LoginThrottle(db.Model):
    """Failed sign-ins for one user name from one source address, and until when that pair is locked.

    Keyed by the name typed, not by a user: a name that does not exist locks exactly as one that
    does, so the sign-in page never tells a guesser which names are real. And by the address the
    attempts came from: a stranger's wrong passwords lock the stranger out, never the officer
    signing in from elsewhere (each address is also rate-limited on its own, recovery.ops.ratelimit).
    """

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True, server_default="")
    failures: Mapped[int] = mapped_column(default=0)
    # The first failure of the current window; failures older than the window no longer count.
    window_started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
