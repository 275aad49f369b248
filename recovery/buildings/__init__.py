"""Property-managed buildings (物业代收) and demolition sites (拆迁): who pays for a building's residents,
what a property company owes with the residents behind it, and the separate recovery track of arrears
left on a site being cleared."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask

    from recovery.domains import Apis


def init_app(app: Flask, apis: Apis) -> None:
    """Property companies, buildings and clearance: pages and staff API."""
    from recovery.buildings import views

    app.register_blueprint(views.pages)
    apis.staff(views.api_bp)


def init_cli(cli: click.Group) -> None:
    """`recovery buildings …`."""
    from recovery.buildings.cli import buildings_group

    cli.add_command(buildings_group)
