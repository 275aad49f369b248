"""One unit of work per request, command and job: it commits when the work returns normally and rolls back on any
error; nothing else in the service commits."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import abort
from sqlalchemy import func, select

from recovery.customers.models import Grid
from recovery.errors import Invalid
from recovery.extensions import db
from recovery.unitofwork import committed, unit_of_work

RECOVERY = Path(__file__).resolve().parents[2] / "recovery"
# The documented exceptions (recovery/unitofwork.py), each commented where it commits.
COMMITS_ALLOWED = {"unitofwork.py": 1, "payments/views.py": 1, "notifications/senders.py": 1}


def _grids() -> list[str]:
    return list(db.session.scalars(select(Grid.code).order_by(Grid.code)))


@pytest.fixture
def routes(app):
    """Views that write a grid and then end in each way a view can end."""

    def add(code: str) -> None:
        db.session.add(Grid(code=code, name=code))
        db.session.flush()

    def returns(code: str):
        add(code)
        return {"code": code}, 201

    def answers_4xx(code: str):
        add(code)
        return {"code": code}, 422

    def raises_domain_error(code: str):
        add(code)
        raise Invalid("refused after writing")

    def aborts(code: str):
        add(code)
        abort(404)

    def fails_at_commit(code: str):
        db.session.add(Grid(code=code, name="a second grid with a taken code"))  # unflushed: fails at the commit
        return {"code": code}, 201

    for view in (returns, answers_4xx, raises_domain_error, aborts, fails_at_commit):
        app.add_url_rule(f"/_uow/{view.__name__}/<code>", view.__name__, view)
    return app


def test_a_view_that_returns_normally_commits_whatever_it_answers(routes, client):
    assert client.get("/_uow/returns/G1").status_code == 201
    assert client.get("/_uow/answers_4xx/G2").status_code == 422  # e.g. a refused sign-in, recorded
    assert _grids() == ["G1", "G2"]


@pytest.mark.parametrize("view, status", [("raises_domain_error", 422), ("aborts", 404)])
def test_a_view_that_raises_leaves_nothing(routes, client, view, status):
    assert client.get(f"/_uow/{view}/G9").status_code == status
    assert _grids() == []


def test_a_commit_that_fails_answers_409_and_keeps_nothing(routes, client):
    assert client.get("/_uow/returns/G1").status_code == 201
    response = client.get("/_uow/fails_at_commit/G1", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.get_json()["code"] == "concurrent_change"
    assert db.session.scalar(select(func.count()).select_from(Grid)) == 1


def test_a_unit_of_work_commits_a_block_that_ends_normally_and_rolls_back_one_that_raises(app):
    with unit_of_work():
        db.session.add(Grid(code="KEPT", name="kept"))
    with pytest.raises(KeyboardInterrupt), unit_of_work():
        db.session.add(Grid(code="LOST", name="lost"))
        db.session.flush()
        raise KeyboardInterrupt  # an interrupted command
    assert committed(_grids) == ["KEPT"]
    db.session.remove()
    assert _grids() == ["KEPT"]  # from a new session: committed, not merely pending


def test_only_the_unit_of_work_and_its_documented_exceptions_commit():
    found: dict[str, int] = {}
    for path in RECOVERY.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
                    and not node.args):
                name = path.relative_to(RECOVERY).as_posix()
                found[name] = found.get(name, 0) + 1
    assert found == COMMITS_ALLOWED
