"""Structured logs: one JSON object per line, each request's line carrying its request id.

Only chosen fields are logged (method, path without its query, status, duration, who): never
headers, bodies, cookies or form fields, so passwords, agents' signatures and session cookies
cannot reach the log. Extra fields whose names look secret are masked as a second line of defence.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, has_request_context, request
from flask_login import user_logged_in

REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")
SECRET_FIELD = re.compile(r"password|secret|signature|authorization|cookie|token", re.IGNORECASE)
# LogRecord's own attributes: everything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

requests_log = logging.getLogger("recovery.requests")


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time, level, logger, message, request id and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            line["request_id"] = g.request_id  # every line logged while answering a request
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = "[masked]" if SECRET_FIELD.search(key) else value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str) -> None:
    """JSON lines on stderr for the `recovery` loggers (once per process, however many apps are built)."""
    logger = logging.getLogger("recovery")
    logger.setLevel(level)
    # Alembic's env.py runs logging.config.fileConfig, which disables every logger that exists by then:
    # a process that migrated before building the app (the test suite, `recovery init` then serve) keeps ours on.
    for name, existing in logging.root.manager.loggerDict.items():
        if (name == "recovery" or name.startswith("recovery.")) and isinstance(existing, logging.Logger):
            existing.disabled = False
    if not any(getattr(h, "recovery_json", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.recovery_json = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def request_id() -> str:
    """The caller's X-Request-ID when it is a sane token (so a trace crosses systems), else a new one."""
    offered = request.headers.get("X-Request-ID", "")
    return offered if REQUEST_ID.match(offered) else uuid.uuid4().hex


def begin() -> None:
    g.request_id = request_id()
    g.request_started = time.perf_counter()


def identify(name: str) -> None:
    """Name who made this request in its log line (a user name, `agent:AG01`, `kiosk:K01`)."""
    g.request_user = name


def finish(response: Response) -> Response:
    """Return the request id to the caller and log the request's line."""
    response.headers["X-Request-ID"] = g.get("request_id") or request_id()
    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    requests_log.info("request", extra={
        "request_id": response.headers["X-Request-ID"], "method": request.method, "path": request.path,
        "status": response.status_code, "duration_ms": round(duration * 1000, 1), "user": g.get("request_user"),
        "remote_addr": request.remote_addr,
    })
    return response


def _signed_in(_app, user) -> None:
    identify(user.username)


def init_app(app: Flask) -> None:
    configure(app.config["LOG_LEVEL"])
    app.before_request(begin)
    app.after_request(finish)
    user_logged_in.connect(_signed_in, app)
