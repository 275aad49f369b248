"""Daily reconciliation: statement intake, the nightly run, breaks and their resolution, the daily payment report."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask

    from recovery.domains import Apis


# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "reconcile": "recovery.reconcile.policy:ReconcilePolicySchema",
}


def init_app(app: Flask, apis: Apis) -> None:
    """The reconciliation clerk's pages."""
    from recovery.reconcile.views import bp

    app.register_blueprint(bp)


def init_cli(cli: click.Group) -> None:
    """`recovery reconcile …`."""
    from recovery.reconcile.cli import reconcile_group

    cli.add_command(reconcile_group)
