"""The officers' customer portfolio, read across the domains: finding a customer within what the user may see,
the risk list (each customer's position, grade, score and disconnection state), a customer's account, and the
staff API over them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from recovery.domains import Apis


def init_app(app: Flask, apis: Apis) -> None:
    """The customers' staff API (the customer pages are the web domain's)."""
    from recovery.portfolio.views import api_bp

    apis.staff(api_bp)
