"""The clerks' direct-debit pages: the daily batches, one batch's debits, its bank files, the results upload."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.utils import secure_filename

from recovery import sections
from recovery.auth.permissions import Action, require
from recovery.auth.views import safe_next
from recovery.bounds import parse_date
from recovery.errors import DomainError, ImportRejected
from recovery.extensions import db
from recovery.forms import carry_out
from recovery.payments import queries
from recovery.payments.direct_debit import service
from recovery.payments.direct_debit.files import batch_csv, pain008
from recovery.payments.direct_debit.models import DebitBatch
from recovery.timeutil import today

if TYPE_CHECKING:
    from recovery.portfolio.queries import CustomerOverview

bp = Blueprint("debit_pages", __name__, url_prefix="/direct-debit")
RESULT_FORMATS = {"csv": "CSV", "pain002": "pain.002", "camt054": "camt.054"}

BATCH_STATUS = {"open": _l("Not sent"), "sent": _l("Sent to the bank"), "closed": _l("All results in")}
ITEM_STATUS = {"pending": _l("Awaiting result"), "succeeded": _l("Debited"), "returned": _l("Returned")}


@bp.before_request
@login_required
def _staff_only():
    """Direct debit is the finance clerks' (and supervisors') work; officers do not see it."""
    require(Action.run_direct_debit)


@bp.app_context_processor
def _labels() -> dict:
    return {"debit_batch_status": BATCH_STATUS, "debit_item_status": ITEM_STATUS, "debit_formats": RESULT_FORMATS}


@bp.route("")
def batches():
    """The latest debit batches, newest first, and the form that creates a day's batch."""
    rows = queries.recent_batches(db.session)
    return render_template("debit/batches.html", batches=rows, today=today())


@bp.route("/batches", methods=["POST"])
def create():
    """Create (or top up) the batch for a collection day."""
    try:
        day = parse_date(request.form.get("date", ""))
    except ValueError:
        flash(_("Not a date: %(value)s", value=request.form.get("date", "")), "error")
        return redirect(url_for("debit_pages.batches"))
    batch = service.create_batch(db.session, day)
    flash(_("Batch %(code)s: %(count)s debits.", code=batch.code, count=batch.item_count), "info")
    return redirect(url_for("debit_pages.batch", code=batch.code))


def _batch(code: str) -> DebitBatch:
    try:
        return service.get_batch(db.session, code)
    except DomainError:
        abort(404)


@bp.route("/<code>")
def batch(code: str):
    """One batch: its totals, every debit and its result."""
    found = _batch(code)
    return render_template("debit/batch.html", batch=found, items=service.batch_items(db.session, found))


@bp.route("/<code>/send", methods=["POST"])
def send(code: str):
    """Mark the batch sent: its debits are posted as provisional payments."""
    _batch(code)
    carry_out(lambda: service.send_batch(db.session, code),
              _("Batch %(code)s is sent; its debits are posted as provisional payments.", code=code))
    return redirect(url_for("debit_pages.batch", code=code))


@bp.route("/<code>/file.<kind>")
def download(code: str, kind: str):
    """The batch as the bank's file: CSV or pain.008 XML."""
    found = _batch(code)
    items = service.batch_items(db.session, found)
    if kind == "csv":
        return Response(batch_csv(items, found.created_for), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={code}.csv"})
    if kind == "xml":
        return Response(pain008(found.code, found.created_for, items), mimetype="application/xml",
                        headers={"Content-Disposition": f"attachment; filename={code}.pain008.xml"})
    abort(404)


@bp.route("/results", methods=["POST"])
def results():
    """Import a bank result file: successes settle, returns are reversed with the bank's reason."""
    upload = request.files.get("file")
    fmt = request.form.get("format", "")
    # Only the direct-debit pages: never an open redirect, nor a line break in the Location header.
    back = safe_next(request.form.get("next"), url_for("debit_pages.batches"))
    if not back.startswith("/direct-debit"):
        back = url_for("debit_pages.batches")
    if upload is None or not upload.filename or fmt not in RESULT_FORMATS:
        flash(_("Choose a result file and its format."), "error")
        return redirect(back)
    with tempfile.TemporaryDirectory() as tmp:
        # The browser names the file: keep only a safe base name ("..", ".", "a\x00b" and the like become
        # a plain one), so the upload is always a file inside the temporary folder.
        path = Path(tmp) / (secure_filename(upload.filename) or "results")
        upload.save(path)
        try:
            summary = service.import_results(db.session, path, fmt)
        except ImportRejected as e:
            db.session.rollback()
            flash(_("Nothing was imported: %(reason)s", reason="; ".join(
                line.replace(str(path), upload.filename) for line in e.errors[:5])), "error")
            return redirect(back)
        except DomainError as e:
            db.session.rollback()
            flash(_("Nothing was imported: %(reason)s", reason=e.message), "error")
            return redirect(back)
    flash(_("%(ok)s collected, %(returned)s returned, %(same)s already known.", ok=summary.succeeded,
            returned=summary.returned, same=summary.unchanged), "info")
    return redirect(back)


@sections.part("customer", "debit")
def debit_customer_facts(overview: CustomerOverview) -> dict:
    """For the customer page: the active direct-debit mandate and each bill's late-payment penalty."""
    from recovery.billing.penalties import bill_penalties

    customer = overview.customer
    return {"mandate": queries.active_mandate(db.session, customer),
            "penalties": bill_penalties(db.session, customer.id)}
