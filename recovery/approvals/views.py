"""The supervisors' approvals page: what waits for a decision, and what was decided lately."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from recovery.approvals import queries, service
from recovery.auth.permissions import Action, permits
from recovery.errors import DomainError
from recovery.extensions import db

bp = Blueprint("approvals", __name__)


@bp.route("/approvals")
@login_required
@permits(Action.decide_approvals)
def index():
    """Pending requests, oldest first, and the latest decisions."""
    decided = queries.latest_decisions(db.session)
    return render_template("approvals.html", pending=service.pending(db.session), decided=decided)


@bp.route("/approvals/<int:request_id>/decide", methods=["POST"])
@login_required
@permits(Action.decide_approvals)
def decide(request_id: int):
    """Approve (and carry out) or reject one request."""
    choice = request.form.get("decision")
    if choice not in ("approve", "reject"):
        abort(400)
    try:
        service.decide(db.session, request_id, approve=choice == "approve", decided_by=current_user.username,
                       role=current_user.role, note=request.form.get("note", "").strip() or None)
    except DomainError as e:
        db.session.rollback()  # refused: a normal redirect, which must keep nothing of the attempt
        flash(_("Request #%(id)s was not decided: %(reason)s", id=request_id, reason=e.message), "error")
    else:
        flash(_("Request #%(id)s approved and carried out.", id=request_id) if choice == "approve"
              else _("Request #%(id)s rejected.", id=request_id), "info")
    return redirect(url_for("approvals.index"))
