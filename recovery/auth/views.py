"""Sign-in and sign-out for officers, supervisors, clerks and admins."""

from __future__ import annotations

import datetime as dt
import logging
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from recovery import LOCALES
from recovery.auth import queries, service
from recovery.auth.models import User, password_matches
from recovery.auth.permissions import Action, may
from recovery.errors import Unauthorized, UnsupportedMediaType
from recovery.extensions import db
from recovery.extensions import login as login_manager
from recovery.ops import logs, ratelimit
from recovery.timeutil import now

bp = Blueprint("auth", __name__)
log = logging.getLogger("recovery.auth")


@bp.record_once
def _localise_login_manager(_state) -> None:
    """Flask-Login's 'please sign in' message, in the officer's language rather than hard-coded English."""
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.localize_callback = str


@bp.record_once
def _permissions_in_templates(state) -> None:
    """`may(current_user, Action.x)` in every template: a page shows a link or a form by the same table that
    lets the request through (recovery.auth.permissions)."""
    state.app.jinja_env.globals.update(may=may, Action=Action)


SESSION_VERSION = "session_version"


def load_user(user_id: str) -> User | None:
    """The signed-in user, for Flask-Login: None (signed out) when the user was deactivated, or when the session
    began before the user's sessions were last ended (sign-out, a new password): the session lives in a signed
    cookie, and a copy saved before that must open nothing."""
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or session.get(SESSION_VERSION) != user.session_version:
        return None
    logs.identify(user.username)
    return user


def safe_next(target: str | None, default: str | None = None) -> str:
    """Only same-site paths (else `default`, the risk list): a link or a form must not bounce the officer to
    another host."""
    # Browsers read a backslash as a slash and drop tabs and newlines, so "/\\evil" and "/\t/evil"
    # would leave the site as surely as "//evil" does.
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) and not urlsplit(target).netloc):
        return target
    return default or url_for("web.customers")


def _fresh_session() -> None:
    """Drop everything the session held (no fixation across sign-in) except the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _locked_message(until: dt.datetime, at: dt.datetime) -> str:
    """The same words whether or not the user name exists: a guesser learns nothing from them."""
    minutes = max(1, -(-int((until - at).total_seconds()) // 60))
    return ngettext("Too many failed sign-ins with this user name. Try again in %(num)d minute, "
                    "or ask an administrator to unlock it.",
                    "Too many failed sign-ins with this user name. Try again in %(num)d minutes, "
                    "or ask an administrator to unlock it.", minutes)


def _refused(message: str, username: str, status: int, retry_after: int | None = None):
    flash(message, "error")
    response = current_app.make_response((render_template("login.html", username=username), status))
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form: failures lock the user name for a while, and each address may only try so often."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()[: service.USERNAME_LENGTH]
        wait = ratelimit.retry_after("LOGIN_RATE_LIMIT", f"sign-in:{request.remote_addr}")
        if wait is not None:
            log.warning("sign-in throttled", extra={"username": username, "remote_addr": request.remote_addr})
            return _refused(_("Too many sign-in attempts from this address. Wait a minute and try again."),
                            username, 429, wait)
        at, source = now(), request.remote_addr
        if until := service.locked_until(db.session, username, source=source, at=at):
            return _refused(_locked_message(until, at), username, 401)
        user = queries.user_by_username(db.session, username)
        if password_matches(user, request.form.get("password", "")):
            service.clear_failed_sign_ins(db.session, username, source=source)
            _fresh_session()
            login_user(user)
            session[SESSION_VERSION] = user.session_version
            return redirect(safe_next(request.args.get("next")))
        config = current_app.config
        until = service.record_failed_sign_in(
            db.session, username, at=at, source=source,
            max_failures=config["LOGIN_MAX_FAILURES"],
            window=dt.timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"]),
            lockout=dt.timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]))
        log.warning("sign-in failed", extra={"username": username, "remote_addr": request.remote_addr,
                                             "locked": until is not None})
        if until is not None:
            return _refused(_locked_message(until, at), username, 401)
        return _refused(_("Wrong user name or password."), username, 401)
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", username="")


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out: this session and every other the user has open end (a saved copy of the cookie opens nothing)."""
    if current_user.is_authenticated:
        service.end_sessions(db.session, current_user._get_current_object())
    logout_user()
    _fresh_session()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Remember the chosen language for this session."""
    if code in LOCALES:
        session["lang"] = code
    return redirect(safe_next(request.form.get("next")))


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def json_writes_only(blueprints: frozenset[str]) -> None:
    """Before each request: a write to a staff API (one of these blueprints) must carry a JSON body
    (Content-Type: application/json).

    The staff APIs take no CSRF token: they are protected by this instead, since no other site's page can send
    a JSON request with the user's cookie without a CORS preflight, which this app never grants."""
    if request.method in WRITES and request.blueprint in blueprints and not request.is_json:
        raise UnsupportedMediaType("send the request body as JSON (Content-Type: application/json), even when "
                                   "it is empty: {}", code="json_required")


def api_login_required(view):
    """For the JSON API: a signed-in user, else 401 JSON (never a redirect to the sign-in page)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            raise Unauthorized("sign in first: this API serves signed-in staff", code="not_signed_in")
        return view(*args, **kwargs)

    return wrapper
