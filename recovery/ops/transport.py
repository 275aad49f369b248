"""Transport security by default: a `Secure` session cookie and HSTS whenever the app is not served on localhost.

The service holds officers' sessions and customers' money: served anywhere but the machine it runs on, it is
served over HTTPS (directly or behind a TLS-terminating proxy), so its cookies must never travel in clear
and browsers must be told to use HTTPS only. On localhost (`recovery serve`, the tests' clients, a laptop
demo) plain HTTP stays usable. `RECOVERY_SECURE_COOKIES` = 1 or 0 decides it for every host instead, and
`RECOVERY_HSTS_SECONDS` = 0 turns HSTS off (for a demo served over plain HTTP on a network).
"""

from __future__ import annotations

from flask import Flask, Request, request
from flask.sessions import SecureCookieSessionInterface

AUTO = "auto"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def served_locally(req: Request) -> bool:
    """Whether this request came to a localhost name or loopback address (the Host the client used)."""
    host = req.host.rsplit(":", 1)[0] if not req.host.endswith("]") else req.host
    host = host.strip("[]").lower()
    return host in LOCAL_HOSTS or host.endswith(".localhost")


def secure_cookies(app: Flask) -> bool:
    """Whether this response's cookies are marked Secure: by default over HTTPS (a proxy on the same machine may
    pass the Host as localhost) and to any host but localhost."""
    setting = app.config["SECURE_COOKIES"]
    if setting == AUTO:
        return request.is_secure or not served_locally(request)
    return bool(setting)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag decided per request (see `secure_cookies`)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or secure_cookies(app)


def hsts_applies(app: Flask) -> bool:
    """Whether this response carries Strict-Transport-Security: over HTTPS, or to any host but localhost (where
    TLS ends at a proxy that does not say so, the browser still learns it)."""
    return bool(app.config["HSTS_SECONDS"]) and (request.is_secure or not served_locally(request))


def init_app(app: Flask) -> None:
    """Sessions with the per-request Secure flag."""
    app.session_interface = SessionInterface()
