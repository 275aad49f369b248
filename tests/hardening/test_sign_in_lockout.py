"""Sign-in throttling: a user name locks after repeated failures, and each address may only try so often."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import recovery.auth.views
from recovery.audit.models import AuditEntry
from recovery.auth.models import User
from recovery.auth.service import create_user
from recovery.extensions import db
from recovery.timeutil import now
from tests.web.data import PASSWORD, cheap_password_hashing

LOCKED = "Too many failed sign-ins with this user name."


@pytest.fixture
def li(app, monkeypatch):
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "li", role="officer", password=PASSWORD)
    db.session.commit()
    app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_MINUTES=15)


def sign_in(client, username: str, password: str):
    return client.post("/login?lang=en", data={"username": username, "password": password})


def test_a_user_name_locks_after_n_failures_and_unlocks_after_the_period(client, li, monkeypatch):
    for _ in range(2):
        assert "Wrong user name or password." in sign_in(client, "li", "wrong password").text
    third = sign_in(client, "li", "wrong password")
    assert third.status_code == 401 and LOCKED in third.text

    # Locked: even the right password is refused, with the same words.
    refused = sign_in(client, "li", PASSWORD)
    assert refused.status_code == 401 and LOCKED in refused.text
    lock = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.lock")).one()
    assert (lock.subject_id, lock.actor, lock.details["failures"]) == ("li", "system", 3)

    later = now() + dt.timedelta(minutes=16)
    monkeypatch.setattr(recovery.auth.views, "now", lambda: later)
    assert sign_in(client, "li", PASSWORD).status_code == 302


def test_an_unknown_user_name_locks_with_the_same_message(client, li):
    answers = [sign_in(client, "nobody", "wrong password") for _ in range(4)]
    known = [sign_in(client, "li", "wrong password") for _ in range(4)]
    assert [a.status_code for a in answers] == [a.status_code for a in known] == [401] * 4
    assert LOCKED in answers[-1].text and LOCKED in known[-1].text


def test_an_administrator_unlocks_a_user_name_from_the_command_line(client, li, recovery):
    for _ in range(3):
        sign_in(client, "li", "wrong password")
    result = recovery("user", "unlock", "li")
    assert result.exit_code == 0 and "unlocked" in result.output
    assert sign_in(client, "li", PASSWORD).status_code == 302
    assert db.session.scalar(select(AuditEntry.subject_id).where(AuditEntry.action == "user.unlock")) == "li"


def test_one_address_is_throttled_after_the_per_address_limit(app, client, li):
    app.config["LOGIN_RATE_LIMIT"] = "3/minute"
    for _ in range(2):
        sign_in(client, "li", "wrong password")
    assert sign_in(client, "li", PASSWORD).status_code == 302
    client.post("/logout")
    throttled = sign_in(client, "li", PASSWORD)
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert "Too many sign-in attempts from this address." in throttled.text
    other = client.post("/login?lang=en", data={"username": "li", "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 302


def test_an_unknown_or_deactivated_user_name_costs_one_password_check_like_a_real_one(client, li, monkeypatch):
    """The time a sign-in takes is the password hash check; every refusal does exactly one, so the answer's
    time does not tell a guesser which user names exist."""
    import recovery.auth.models

    checks = []
    real = recovery.auth.models.check_password_hash

    def counted(pwhash: str, password: str) -> bool:
        checks.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(recovery.auth.models, "check_password_hash", counted)
    create_user(db.session, "gone", role="officer", password=PASSWORD)
    db.session.scalars(select(User).where(User.username == "gone")).one().active = False
    db.session.commit()

    for name in ("li", "nobody", "gone"):
        checks.clear()
        answer = sign_in(client, name, "wrong password")
        assert answer.status_code == 401 and "Wrong user name or password." in answer.text
        assert checks == ["wrong password"], name
    # The deactivated user's right password is refused like any other.
    checks.clear()
    assert sign_in(client, "gone", PASSWORD).status_code == 401 and checks == [PASSWORD]


def test_a_strangers_failures_lock_the_stranger_out_and_not_the_officer(client, li):
    stranger = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(3):
        client.post("/login?lang=en", data={"username": "li", "password": "guess"}, environ_base=stranger)
    refused = client.post("/login?lang=en", data={"username": "li", "password": PASSWORD}, environ_base=stranger)
    assert refused.status_code == 401 and LOCKED in refused.text
    officer = client.post("/login?lang=en", data={"username": "li", "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert officer.status_code == 302
