"""Operations commands: lifting a sign-in lockout."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from recovery.extensions import db
from recovery.unitofwork import committed


@click.command("unlock")
@click.argument("username")
@with_appcontext
def user_unlock(username: str) -> None:
    """Lift the sign-in lockout of a user name before it runs out (audited)."""
    from recovery.auth.service import unlock

    unlocked = committed(lambda: unlock(db.session, username))
    click.echo(f"user name {username} unlocked" if unlocked else f"user name {username} was not locked")
