"""Reads for sign-in: a user by user name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.auth.models import User


def user_by_username(session: Session, username: str) -> User | None:
    """The user with this user name, None when there is none."""
    return session.scalar(select(User).where(User.username == username))
