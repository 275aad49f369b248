"""The migrations build exactly the models' schema, and go down and up again cleanly."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from recovery.extensions import db


def test_migrations_at_head_match_the_models(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(app, backend):
    flask_migrate.downgrade(revision="base")
    with db.engine.connect() as conn:
        tables = set(db.inspect(conn).get_table_names()) - {"alembic_version"}
    assert tables == set()
    flask_migrate.upgrade()
    with db.engine.connect() as conn:
        assert {"ledger_entries", "audit_log", "allocations"} <= set(db.inspect(conn).get_table_names())
