"""Users, roles, sign-in, and officers' grids."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from recovery.domains import Apis


def init_app(app: Flask, apis: Apis) -> None:
    """Sign-in pages; who is signed in, for every request."""
    from recovery.auth.views import bp, load_user
    from recovery.extensions import login

    login.user_loader(load_user)
    login.login_view = "auth.login"
    app.register_blueprint(bp)
