"""Operations settings: read from the environment when the app is created, overridable by its config."""

from __future__ import annotations

import os

from flask import Flask


def _tristate(name: str) -> bool | str:
    """An on/off setting whose default is "auto"."""
    value = os.environ.get(name, "").strip().lower()
    if value in {"", "auto"}:
        return "auto"
    return value in {"1", "true", "yes", "on"}


def apply(app: Flask) -> None:
    """Fill in the operations settings the factory's config did not set."""
    env = os.environ.get
    defaults = {
        # Sign-in lockout: this many failures for one user name within the window lock it for a while.
        "LOGIN_MAX_FAILURES": int(env("RECOVERY_LOGIN_MAX_FAILURES", "5")),
        "LOGIN_FAILURE_WINDOW_MINUTES": int(env("RECOVERY_LOGIN_FAILURE_WINDOW_MINUTES", "15")),
        "LOGIN_LOCKOUT_MINUTES": int(env("RECOVERY_LOGIN_LOCKOUT_MINUTES", "15")),
        # Rate limits ("N/second|minute|hour"): sign-in attempts per client address, API calls per caller.
        "LOGIN_RATE_LIMIT": env("RECOVERY_LOGIN_RATE_LIMIT", "20/minute"),
        "AGENT_RATE_LIMIT": env("RECOVERY_AGENT_RATE_LIMIT", "600/minute"),
        "KIOSK_RATE_LIMIT": env("RECOVERY_KIOSK_RATE_LIMIT", "600/minute"),
        # Where the counters live: memory:// is per process; redis://… or memcached://… share them.
        "RATELIMIT_STORAGE_URI": env("RECOVERY_RATELIMIT_STORAGE_URI", "memory://"),
        # /metrics answers this bearer token; without one, only local addresses.
        "METRICS_TOKEN": env("RECOVERY_METRICS_TOKEN") or None,
        # Behind a TLS-terminating proxy: how many proxies to trust for X-Forwarded-For/-Proto.
        "PROXY_HOPS": int(env("RECOVERY_PROXY_HOPS", "0")),
        # Secure cookies: "auto" (the default) whenever the app is not served on localhost; 1 always; 0 never.
        "SECURE_COOKIES": _tristate("RECOVERY_SECURE_COOKIES"),
        # Strict-Transport-Security max-age, sent over HTTPS and to any host but localhost; 0 sends none.
        "HSTS_SECONDS": int(env("RECOVERY_HSTS_SECONDS", str(365 * 24 * 3600))),
        "LOG_LEVEL": env("RECOVERY_LOG_LEVEL", "INFO"),
    }
    for key, value in defaults.items():
        app.config.setdefault(key, value)
    if app.config["SECURE_COOKIES"] is True:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
