"""A unique violation that a race lets through to the database is a 409 to retry, never a 500, and nothing of
the losing request's transaction is kept."""

from __future__ import annotations

from sqlalchemy import func, select

from recovery.customers.models import Grid
from recovery.extensions import db


def test_a_unique_violation_reaching_the_database_answers_409_and_keeps_nothing(app, client):
    @app.post("/test-only/race")
    def race():  # what the loser of a check-then-insert race does: both pass the check, one insert fails
        db.session.add(Grid(code="G1", name="first"))
        db.session.flush()
        db.session.add(Grid(code="G1", name="second"))
        db.session.flush()
        return "unreachable"

    response = client.post("/test-only/race", headers={"Accept": "application/json"})
    assert (response.status_code, response.json["code"]) == (409, "concurrent_change")
    assert db.session.scalar(select(func.count()).select_from(Grid)) == 0
