"""Schema management through Alembic (Flask-Migrate)."""

from __future__ import annotations

import flask_migrate


def upgrade() -> None:
    """Bring the database at DATABASE_URL to the newest schema."""
    flask_migrate.upgrade()
