"""Health checks: /healthz says the process is up, /readyz that the database answers at the migrations' head."""

from __future__ import annotations

from sqlalchemy import text

from recovery import create_app
from recovery.extensions import db
from tests.conftest import FreshContextClient, _settings


def test_healthz_answers_without_a_database_or_a_session_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_readyz_is_ok_at_head_and_503_when_the_schema_is_behind(client):
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ok"
    assert "Set-Cookie" not in ready.headers

    with db.engine.begin() as conn:
        head = conn.scalar(text("SELECT version_num FROM alembic_version"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        behind = client.get("/readyz")
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert behind.status_code == 503
    assert behind.json["reason"] == "database schema is not at the migrations' head"
    assert behind.json["database"] == ["0001"]


def test_readyz_is_503_with_a_reason_when_the_database_is_unreachable(tmp_path):
    # Port 1 on the loopback: nothing listens, so the connection is refused at once.
    app = create_app(_settings("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path))
    client = FreshContextClient(app, app.response_class)
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert (response.json["status"], response.json["reason"]) == ("unavailable", "database unreachable")
