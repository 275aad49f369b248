"""Operations: health checks, metrics, structured logs, security headers and rate limits."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from recovery.extensions import csrf
from recovery.ops import headers, health, logs, metrics, ratelimit, settings, transport


def init_app(app: Flask) -> None:
    """Bind the operations pieces to the app (settings first: the others read them)."""
    settings.apply(app)
    if hops := app.config["PROXY_HOPS"]:
        # The client's address and scheme as the trusted proxies saw them (rate limits, HSTS, Secure cookies).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    transport.init_app(app)
    logs.init_app(app)
    metrics.init_app(app)
    headers.init_app(app)
    health.init_app(app)
    ratelimit.init_app(app)
    csrf.exempt(health.bp)
    csrf.exempt(metrics.bp)

