"""Prometheus metrics: requests and latencies, payments posted, job runs, reconciliation breaks.

Under gunicorn each worker is its own process: set PROMETHEUS_MULTIPROC_DIR (an empty folder,
cleared before start) for every process, web workers and the scheduler alike, and /metrics adds
up all of them (prometheus_client's multiprocess mode; see docs/operations.md).

Business counters move when the transaction commits, not when the work is done: a payment
rolled back (a refused limit, a lost race) was never posted and is never counted.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.orm import Session

REQUESTS = Counter("recovery_http_requests_total", "HTTP requests answered", ["endpoint", "method", "status"])
LATENCY = Histogram("recovery_http_request_duration_seconds", "Time to answer an HTTP request",
                    ["endpoint", "method"])
PAYMENTS = Counter("recovery_payments_posted_total", "Payments posted", ["channel"])
PAYMENTS_FEN = Counter("recovery_payments_posted_fen_total", "Amount of payments posted, in fen", ["channel"])
JOB_RUNS = Counter("recovery_job_runs_total", "Nightly job runs", ["job", "outcome"])
JOB_SECONDS = Histogram("recovery_job_duration_seconds", "Time a nightly job ran", ["job", "outcome"],
                        buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200, float("inf")))
BREAKS = Counter("recovery_reconciliation_breaks_found_total",
                 "Reconciliation breaks found by reconciliation runs (a rerun finds a day's breaks again)", ["kind"])

_PENDING = "recovery.metrics.pending"

bp = Blueprint("ops_metrics", __name__)


def on_commit(session: Session, action: Callable[..., Any], *args: Any) -> None:
    """Run `action(*args)` once the session's transaction commits; forget it if it rolls back."""
    session.info.setdefault(_PENDING, []).append((action, args))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for action, args in session.info.pop(_PENDING, ()):
        action(*args)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def payment_posted(session: Session, channel: str, amount_fen: int) -> None:
    """Count a posted payment and its amount when the posting commits."""
    on_commit(session, PAYMENTS.labels(channel=channel).inc)
    on_commit(session, PAYMENTS_FEN.labels(channel=channel).inc, amount_fen)


def breaks_found(session: Session, counts: dict[str, int]) -> None:
    """Count the breaks a reconciliation run found, by kind, when the run commits."""
    for kind, count in counts.items():
        on_commit(session, BREAKS.labels(kind=kind).inc, count)


def job_finished(job_id: str, outcome: str, seconds: float) -> None:
    """A job run ended: succeeded, failed or skipped (the day was already done)."""
    JOB_RUNS.labels(job=job_id, outcome=outcome).inc()
    JOB_SECONDS.labels(job=job_id, outcome=outcome).observe(seconds)


def observe_request(response: Response) -> Response:
    """Count the request by its route (not its path: one series per route, not per customer)."""
    rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
    REQUESTS.labels(endpoint=rule, method=request.method, status=str(response.status_code)).inc()
    started = g.get("request_started")
    if started is not None:
        LATENCY.labels(endpoint=rule, method=request.method).observe(time.perf_counter() - started)
    return response


def _allowed() -> bool:
    """The configured bearer token, else only a caller on this machine (the local Prometheus agent)."""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        presented = request.headers.get("Authorization", "")
        return hmac.compare_digest(presented.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.route("/metrics")
def metrics() -> Response:
    """The metrics in Prometheus's text format: every process's when in multiprocess mode."""
    if not _allowed():
        abort(403 if not current_app.config["METRICS_TOKEN"] else 401)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.after_request(observe_request)
    app.register_blueprint(bp)
