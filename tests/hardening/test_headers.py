"""Security headers on pages and API answers; the session cookie's flags."""

from __future__ import annotations

from recovery.auth.service import create_user
from recovery.extensions import db
from tests.web.data import PASSWORD, cheap_password_hashing


def _assert_hardened(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_a_page_and_an_api_answer_carry_the_security_headers(client):
    page = client.get("/login")
    assert page.status_code == 200
    _assert_hardened(page)
    api = client.get("/api/v1/payments/P1")  # unsigned: 401 JSON, still hardened
    assert api.status_code == 401 and api.is_json
    _assert_hardened(api)
    assert "Strict-Transport-Security" not in page.headers


def test_the_api_docs_page_gets_its_own_policy_for_swagger_uis_inline_script(client, monkeypatch):
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "li", role="officer", password=PASSWORD)
    db.session.commit()
    client.post("/login", data={"username": "li", "password": PASSWORD})
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "script-src 'self' 'unsafe-inline'" in docs.headers["Content-Security-Policy"]


def test_hsts_over_https_when_configured_and_a_secure_httponly_lax_session_cookie(app, client, monkeypatch):
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "li", role="officer", password=PASSWORD)
    db.session.commit()
    app.config.update(HSTS_SECONDS=31536000, SESSION_COOKIE_SECURE=True)

    response = client.post("/login", data={"username": "li", "password": PASSWORD}, base_url="https://localhost")

    assert response.status_code == 302
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_served_anywhere_but_localhost_the_session_cookie_is_secure_and_hsts_is_sent_by_default(app, client,
                                                                                                monkeypatch):
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "li", role="officer", password=PASSWORD)
    db.session.commit()
    assert app.config["SECURE_COOKIES"] == "auto" and app.config["HSTS_SECONDS"] > 0  # nothing set by environment

    remote = client.post("/login", data={"username": "li", "password": PASSWORD},
                         base_url="http://recovery.grid.example")
    assert remote.status_code == 302
    assert "Secure" in remote.headers["Set-Cookie"]
    assert remote.headers["Strict-Transport-Security"].startswith("max-age=31536000")

    local = client.post("/login", data={"username": "li", "password": PASSWORD}, base_url="http://127.0.0.1:5000")
    assert local.status_code == 302
    assert "Secure" not in local.headers["Set-Cookie"] and "Strict-Transport-Security" not in local.headers

    # HTTPS through a proxy on the same machine that passes the Host as localhost: still Secure.
    proxied = client.post("/login", data={"username": "li", "password": PASSWORD}, base_url="https://localhost")
    assert "Secure" in proxied.headers["Set-Cookie"] and "Strict-Transport-Security" in proxied.headers
