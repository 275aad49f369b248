"""Collections: disconnection orders (risk lists, worklists, dunning and pay plans come later)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask

    from recovery.domains import Apis


# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "dunning": "recovery.collections.policy:DunningPolicySchema",
}


def init_app(app: Flask, apis: Apis) -> None:
    """Visits, promises, plans, dunning and write-offs: pages and staff APIs."""
    from recovery.collections import views
    from recovery.collections.writeoff import views as writeoff_views

    app.register_blueprint(views.pages)
    app.register_blueprint(writeoff_views.pages)
    apis.staff(views.api_bp, writeoff_views.api_bp)


def init_cli(cli: click.Group) -> None:
    """`recovery collections …` and `recovery notices …`."""
    from recovery.collections.cli import collections_group, notices_group

    cli.add_command(collections_group)
    cli.add_command(notices_group)
