"""Security headers on every response.

The pages use no inline script or style (everything is served from /static), so the policy is
'self' only. The browsable API page (Swagger UI, /api/docs) starts itself with an inline script
and styles itself inline: it gets a policy of its own that allows that, and nothing else does.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

from recovery.ops import transport

CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
API_DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
API_DOCS = "/api/docs"

FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # No page uses these; geolocation stays available to the site itself (officers in the field).
    "Permissions-Policy": "camera=(), microphone=(), payment=(), usb=(), geolocation=(self)",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add(response: Response) -> Response:
    """Set the headers a view did not set itself."""
    docs = request.path == API_DOCS or request.path.startswith(API_DOCS + "/")
    response.headers.setdefault("Content-Security-Policy", API_DOCS_CSP if docs else CSP)
    for name, value in FIXED.items():
        response.headers.setdefault(name, value)
    if transport.hsts_applies(current_app):
        seconds = current_app.config["HSTS_SECONDS"]
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add)
