"""The unit of work: a request, a command or a job commits when its work returns normally and rolls back on any
error. It is the one place that commits; views, commands and services never do.

Two documented exceptions commit by themselves, each where it happens and commented there:
- the signed posting's idempotency claim, settled in the posting's own transaction (`payments/views.py`);
- the per-message commit of the notification sender (`notifications/senders.py`): a message handed to the SMS
  gateway is marked sent at once, so that a crash later in the batch never sends it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import Flask
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from recovery.extensions import db

T = TypeVar("T")


@contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """Commit what the block did when it ends normally; roll all of it back when anything is raised (a
    refusal, an interrupted command, a crash) and raise it on. `session` defaults to the application's."""
    session = db.session if session is None else session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def committed(work: Callable[[], T], session: Session | None = None) -> T:
    """Run `work` as one unit of work and return what it returns."""
    with unit_of_work(session):
        return work()


class UnitOfWorkFlask(Flask):
    """Flask, with each request one unit of work: the view's changes are committed when it returns (whatever the
    status it answers) and before the answer is sent, so that an acknowledged change is durable; an exception
    (a refusal, an abort, a fault) rolls them back before the error handlers answer it. A commit that fails
    (a unique violation a race let through) is handled like any error the view raised."""

    def dispatch_request(self) -> ResponseReturnValue:
        with unit_of_work():
            return super().dispatch_request()
