"""Health checks for the load balancer and the orchestrator: no sign-in, no session, no CSRF."""

from __future__ import annotations

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

from recovery.extensions import db

bp = Blueprint("ops_health", __name__)


def _head() -> set[str]:
    """The migrations' head revision(s), read once per app (the files do not change while it runs)."""
    cached = current_app.extensions.get("recovery.migration_heads")
    if cached is None:
        from recovery import MIGRATIONS

        cached = set(ScriptDirectory(str(MIGRATIONS)).get_heads())
        current_app.extensions["recovery.migration_heads"] = cached
    return cached


@bp.route("/healthz")
def healthz():
    """The process is up and answering (touches no database: a slow database must not restart workers)."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Ready for traffic: the database answers and its schema is at the migrations' head."""
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as e:  # any failure to reach the database means "not ready", never a 500
        return jsonify(status="unavailable", reason="database unreachable", error=type(e).__name__), 503
    if current != _head():
        return jsonify(status="unavailable", reason="database schema is not at the migrations' head",
                       database=sorted(current), head=sorted(_head())), 503
    return jsonify(status="ok")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
