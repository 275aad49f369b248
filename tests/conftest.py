"""Fixtures: every database test runs on SQLite and on PostgreSQL, each worker with its own database.

SQLite: the schema is migrated once into a template file that each test copies (cheap, and the
append-only ledger triggers stay on). PostgreSQL: one database per worker, migrated to head once,
emptied with TRUNCATE between tests (TRUNCATE does not fire the ledger's row triggers).
Nothing is mocked: tests talk to real databases through the real migrations.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import flask_migrate
import psycopg
import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.routing import Rule
from werkzeug.serving import make_server

from recovery import create_app
from recovery.cli import cli
from recovery.extensions import db

PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _share_url_builders() -> None:
    """The suite builds an application per test, and werkzeug compiles each URL rule's builders (Python source,
    per rule) every time: two fifths of `create_app`. A builder's code depends only on the rule and its defaults,
    and is bound to its own rule when used, so the suite compiles each once and shares it between its apps."""
    compile_builder = Rule._compile_builder
    builders: dict = {}

    def shared(self: Rule, append_unknown: bool = True):
        try:
            key = (type(self), self.rule, self.subdomain, self.host, self.map.host_matching, self.merge_slashes,
                   tuple(self._trace), tuple(sorted((self.defaults or {}).items())), append_unknown)
            hash(key)
        except TypeError:  # defaults that cannot be a key: compiled as werkzeug does
            return compile_builder(self, append_unknown)
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = shared


_share_url_builders()
BACKENDS = [b for b in os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _settings(url: str, instance: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "TESTING": True,
        "SECRET_KEY": "test-only-secret",
        "WTF_CSRF_ENABLED": False,
        "RECOVERY_TZ": "Asia/Shanghai",
        # Each test keeps its trained models to itself, never in the checkout's instance folder.
        "MODELS_DIR": str(instance / "models"),
    }


def _migrate(url: str, instance: Path) -> None:
    app = create_app(_settings(url, instance))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request, tmp_path_factory) -> dict:
    """The database under test: its kind and how each test gets a fresh one."""
    base = tmp_path_factory.mktemp(f"db-{request.param}")
    if request.param == "sqlite":
        template = base / "template.sqlite"
        _migrate(f"sqlite:///{template}", base)
        return {"name": "sqlite", "template": template, "dir": base}
    # Per worker and per run: two test runs on one machine never drop each other's database.
    name = f"recovery_test_{WORKER}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.addfinalizer(drop)
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    _migrate(url, base)
    return {"name": "postgresql", "url": url, "dir": base}


@pytest.fixture
def database_url(backend, tmp_path) -> str:
    if backend["name"] == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copyfile(backend["template"], path)
        return f"sqlite:///{path}"
    return backend["url"]


@pytest.fixture
def app(backend, database_url, tmp_path):
    app = create_app(_settings(database_url, tmp_path))
    with app.app_context():
        yield app
        db.session.remove()
        if backend["name"] == "postgresql":
            _empty_postgresql()
        db.engine.dispose()


def _empty_postgresql() -> None:
    """Empty the tables the test wrote to and restart every sequence, for the next test on this database.

    TRUNCATE costs a new file per table (a fifth of a second for all of them, paid after every test);
    asking which tables hold rows costs milliseconds, and most tests touch only a few.
    """
    names = [t.name for t in db.metadata.sorted_tables]
    probe = " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM {n})" for n in names)
    with db.engine.begin() as conn:
        written = conn.execute(text(probe)).scalars().all()
        if written:
            conn.execute(text(f"TRUNCATE {', '.join(written)} RESTART IDENTITY CASCADE"))
        conn.execute(text("SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false) "
                          "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"))


@pytest.fixture
def session(app):
    return db.session


class FreshContextClient(FlaskClient):
    """A test client whose every request gets a fresh application context, as on a real server.

    The `app` fixture holds one application context for the whole test, and Flask would reuse it
    for requests made inside it, carrying Flask-Babel's cached locale and Flask-Login's cached
    user from one request into the next.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    return FreshContextClient(app, app.response_class, use_cookies=True)


class Runner:
    """Runs `recovery …` commands against the test app, as a user would type them."""

    def __init__(self, app):
        self.runner = app.test_cli_runner()

    def __call__(self, *args: str):
        return self.runner.invoke(cli, [str(a) for a in args])


@pytest.fixture
def recovery(app) -> Runner:
    return Runner(app)


@pytest.fixture
def live_server(app):
    """The app served on a free local port by a threaded server, sharing the test's database."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutdown() waits for the serving loop to notice, 0.5 s by default.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server",
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
