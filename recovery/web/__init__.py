"""Officer pages: server-rendered, bilingual, usable on a phone."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from recovery.domains import Apis


def init_app(app: Flask, apis: Apis) -> None:
    """The customer list, the customer page, the dashboard and the error pages."""
    from recovery.web.views import bp

    app.register_blueprint(bp)
