"""Four-eyes approvals: an action on money or security is requested by one person and carried out
only when a supervisor (another person) approves it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from recovery.domains import Apis


def init_app(app: Flask, apis: Apis) -> None:
    """The supervisor's approvals page."""
    from recovery.approvals.views import bp

    app.register_blueprint(bp)
