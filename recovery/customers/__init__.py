"""Customers, grids, and the officers who own them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from recovery.domains import Apis


def init_app(app: Flask, apis: Apis) -> None:
    """The customers' staff API (the customer pages are the web domain's)."""
    from recovery.customers.views import api_bp

    apis.staff(api_bp)
