"""Sign-in and sign-out for officers, supervisors, clerks and admins."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from recovery import LOCALES
from recovery.auth.models import User
from recovery.errors import Unauthorized
from recovery.extensions import db
from recovery.extensions import login as login_manager

bp = Blueprint("auth", __name__)


@bp.record_once
def _localise_login_manager(_state) -> None:
    """Flask-Login's 'please sign in' message, in the officer's language rather than hard-coded English."""
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.localize_callback = str


def load_user(user_id: str) -> User | None:
    """The signed-in user, for Flask-Login."""
    return db.session.get(User, int(user_id))


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a sign-in link must not bounce the officer to another host."""
    # Browsers read a backslash as a slash and drop tabs and newlines, so "/\\evil" and "/\t/evil"
    # would leave the site as surely as "//evil" does.
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) and not urlsplit(target).netloc):
        return target
    return url_for("web.customers")


def _fresh_session() -> None:
    """Drop everything the session held (no fixation across sign-in) except the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        user = db.session.scalar(select(User).where(User.username == username))
        if user and user.active and user.check_password(request.form.get("password", "")):
            _fresh_session()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong user name or password."), "error")
        return render_template("login.html", username=username), 401
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", username="")


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out."""
    logout_user()
    _fresh_session()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Remember the chosen language for this session."""
    if code in LOCALES:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))


def api_login_required(view):
    """For the JSON API: a signed-in user, else 401 JSON (never a redirect to the sign-in page)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            raise Unauthorized("sign in first: this API serves signed-in staff", code="not_signed_in")
        return view(*args, **kwargs)

    return wrapper
