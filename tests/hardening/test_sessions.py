"""Server-side session validity: a session cookie saved before a sign-out, a password change or a
deactivation opens nothing afterwards, on the pages or the JSON API."""

from __future__ import annotations

from sqlalchemy import select

from recovery.audit.models import AuditEntry
from recovery.extensions import db
from tests.conftest import FreshContextClient
from tests.web.data import PASSWORD, cheap_password_hashing, load_district

NEW_PASSWORD = "a much longer new passphrase"


def _signed_in(app, username: str = "li") -> FreshContextClient:
    client = FreshContextClient(app, app.response_class, use_cookies=True)
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str) -> tuple[int, int]:
    """A new client carrying a saved session cookie: what /customers and /api/v1/customers answer."""
    thief = FreshContextClient(app, app.response_class, use_cookies=True)
    thief.set_cookie("session", cookie)
    return thief.get("/customers").status_code, thief.get("/api/v1/customers").status_code


def test_a_cookie_saved_before_sign_out_opens_neither_pages_nor_the_api(app, recovery, tmp_path, monkeypatch):
    cheap_password_hashing(monkeypatch)
    load_district(recovery, tmp_path)
    client = _signed_in(app)
    other_device = _signed_in(app)
    saved = _cookie(client)
    assert _replay(app, saved) == (200, 200)

    assert client.post("/logout").status_code == 302
    assert _replay(app, saved) == (302, 401)
    # Signing out ends the user's other sessions too.
    assert other_device.get("/api/v1/customers").status_code == 401
    # A new sign-in works and gets a session of its own.
    again = _signed_in(app)
    assert again.get("/api/v1/customers").status_code == 200
    assert _replay(app, saved) == (302, 401)


def test_a_password_change_and_a_deactivation_end_every_open_session(app, recovery, tmp_path, monkeypatch):
    cheap_password_hashing(monkeypatch)
    load_district(recovery, tmp_path)
    li, wang = _signed_in(app, "li"), _signed_in(app, "wang")
    saved = _cookie(li)

    changed = recovery("user", "password", "li", "--password", NEW_PASSWORD)
    assert changed.exit_code == 0, changed.output
    assert _replay(app, saved) == (302, 401)
    assert li.get("/customers").status_code == 302
    assert wang.get("/api/v1/customers").status_code == 200  # another user's session is untouched
    fresh = FreshContextClient(app, app.response_class, use_cookies=True)
    assert fresh.post("/login", data={"username": "li", "password": NEW_PASSWORD}).status_code == 302

    deactivated = recovery("user", "deactivate", "wang")
    assert deactivated.exit_code == 0, deactivated.output
    assert wang.get("/api/v1/customers").status_code == 401
    assert wang.post("/login", data={"username": "wang", "password": PASSWORD}).status_code == 401
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id.in_(["li", "wang"]))))
    assert {"user.password", "user.deactivate"} <= actions
    assert recovery("user", "deactivate", "nobody").exit_code != 0
