"""The officer pages."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from recovery.customers import service
from recovery.customers.schemas import PageArgs
from recovery.extensions import db
from recovery.timeutil import today

bp = Blueprint("web", __name__)


@bp.route("/")
def index():
    return redirect(url_for("web.customers"))


@bp.route("/customers")
@login_required
def customers():
    """Customers of the officer's grids, most overdue first."""
    try:
        args = PageArgs().load({k: v for k, v in request.args.items() if k in PageArgs().fields and v != ""})
    except ValidationError:
        abort(400)
    as_of = today()
    page = service.customer_page(db.session, current_user, as_of, **args)
    grids = [g.code for g in current_user.grids] if not current_user.sees_all_grids else None
    return render_template("customers.html", page=page, args=args, as_of=as_of, grids=grids)


@bp.app_template_filter("yuan")
def yuan_filter(fen: int | None) -> str:
    """Integer fen shown as yuan with thousands separators: 123456 -> '1,234.56'."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{part:02d}"
