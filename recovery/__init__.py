"""fee-recovery: the service that helps an electricity utility get paid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, request, session

from recovery import config, errors, inputguard
from recovery.extensions import api, babel, csrf, db, login, migrate
from recovery.unitofwork import UnitOfWorkFlask

LOCALES = ("zh", "en")
MIGRATIONS = Path(__file__).parent / "migrations"


def select_locale() -> str:
    """The user's chosen language, else the browser's, else Simplified Chinese."""
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or "zh"


def create_app(config_overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application; settings come from the environment, then from `config_overrides`."""
    app = UnitOfWorkFlask(__name__, instance_relative_config=True)
    app.config.update(
        config.from_environment(Path(app.instance_path)),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        API_TITLE="fee-recovery",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        # No validator badge: Swagger UI would send the whole document to an outside service for it.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PAGE_SIZE=50,
    )
    if config_overrides:
        app.config.update(config_overrides)
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["RECOVERY_TZ"]
    # A bad policy fails at start-up, naming the section and the field, not at 2 a.m. in a job.
    from recovery import policy

    app.config["POLICY_IN_FORCE"] = policy.validate_all(app.config.get("POLICY", {}))

    db.init_app(app)
    _tune_sqlite(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    login.init_app(app)
    from recovery.apidoc import CallerDoc
    from recovery.bounds import ecma_pattern

    caller_doc = CallerDoc()  # the signed and the staff APIs' guards, in the OpenAPI document
    api.init_app(app, spec_kwargs={"extra_plugins": [caller_doc]})
    api.ma_plugin.converter.add_attribute_function(ecma_pattern)
    errors.register(app)
    inputguard.register(app)  # before any route: NUL bytes, control characters, ids past 64 bits refused
    from recovery import ops

    ops.init_app(app)  # health, metrics, logs, security headers, rate limits

    from recovery import domains, models  # noqa: F401  every model registered with the metadata

    domains.init_app(app, api, caller_doc)  # each domain's pages and APIs (recovery/domains.py)
    _serve_swagger_ui(app)
    from recovery.cli import register as register_commands

    register_commands(app)  # on app.cli: `flask --app wsgi …` reaches every `recovery` command
    return app


def _tune_sqlite(app: Flask) -> None:
    """SQLite: enforce foreign keys, let readers run beside the writer (WAL), and queue writers
    for a while instead of failing at once when several requests post at the same moment."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if ":memory:" not in app.config["SQLALCHEMY_DATABASE_URI"] and app.config["SQLALCHEMY_DATABASE_URI"] != "sqlite://":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


# The browsable API page is for staff, behind sign-in. The OpenAPI document itself stays public: partner agents
# and kiosks, which sign requests and never sign in, build their clients from it, and it describes only the
# contract (paths and shapes), nothing about customers or the service's state.
SIGNED_IN_DOCS = frozenset({"api-docs.openapi_swagger_ui", "swagger_ui_assets"})


def _serve_swagger_ui(app: Flask) -> None:
    """The browsable API page's scripts and styles, from the installed swagger-ui-bundle; both for signed-in
    staff only."""
    from flask import send_from_directory
    from flask_login import current_user
    from swagger_ui_bundle import swagger_ui_path

    @app.route("/api/docs/assets/<path:filename>")
    def swagger_ui_assets(filename: str):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)

    @app.before_request
    def docs_for_staff():
        if request.endpoint in SIGNED_IN_DOCS and not current_user.is_authenticated:
            return login.unauthorized()
        return None
