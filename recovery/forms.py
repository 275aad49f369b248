"""Carrying out a form posted from a customer's page: one transaction, then back to the page with a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Response

from recovery.auth.service import get_customer
from recovery.customers.models import Customer
from recovery.errors import DomainError, Forbidden, NotFound
from recovery.extensions import db

T = TypeVar("T")


def posted(schema: Schema) -> dict:
    """The posted form through the API's schema (empty fields left out)."""
    return schema.load({k: v for k, v in request.form.items() if k != "csrf_token" and v.strip() != ""})


def form_errors(error: ValidationError) -> str:
    """A schema's refusal as one line for a flashed message."""
    return "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                     for k, v in error.messages.items())


def carry_out(work: Callable[[], T], done: str | Callable[[T], str], *, missing_is_404: bool = False,
              category: str = "success", refused: Callable[[str], str] | None = None) -> None:
    """Run a page form's `work` in the request's transaction: `done` (or `done(result)`) is flashed as `category`,
    or the refusal (`refused(reason)` when given) with nothing of the attempt left to commit. A role that may not
    do this at all (Forbidden `role_not_allowed`) is a 403, as the pages it may not open are; with `missing_is_404`,
    so is what the form names but does not exist (the page's own subject) a 404."""
    try:
        result = work()
        db.session.flush()  # a unique violation surfaces here, before anything is flashed as done
    except ValidationError as e:
        db.session.rollback()
        flash(_("Please check the form: %(errors)s", errors=form_errors(e)), "error")
    except DomainError as e:
        db.session.rollback()
        if missing_is_404 and isinstance(e, NotFound):
            abort(404)
        if isinstance(e, Forbidden) and e.code == "role_not_allowed":
            abort(403)
        flash(e.message if refused is None else refused(e.message), "error")
    else:
        flash(done(result) if callable(done) else done, category)


def act_on_customer(code: str, work: Callable[[Customer], object], done: str, anchor: str) -> Response:
    """Run `work(customer)` for the user's customer `code` in one transaction and go back to its page at
    `anchor`: done, or refused with the reason and nothing changed. Another grid's customer is a 404; a role
    that may not do this at all (`role_not_allowed`) is a 403, as the pages it may not open are."""
    try:
        customer = get_customer(db.session, current_user, code)
    except NotFound:
        abort(404)  # the same answer whether the customer does not exist or belongs to another grid
    carry_out(lambda: work(customer), done)
    return redirect(url_for("web.customer", code=customer.code) + anchor)
