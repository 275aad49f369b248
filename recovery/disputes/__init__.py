"""Customers' complaints and bill disputes (投诉与电费争议): registered with a channel, an owner and a
deadline, holding dunning on the disputed bills while open, resolved upheld (a corrected bill or a credit
through the ledger) or rejected with a reason, and counted against officers in the assessment."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask

    from recovery.domains import Apis


# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "disputes": "recovery.disputes.policy:DisputesPolicySchema",
}


def init_app(app: Flask, apis: Apis) -> None:
    """Complaints and disputes: pages and staff API."""
    from recovery.disputes import views

    app.register_blueprint(views.pages)
    apis.staff(views.api_bp)


def init_cli(cli: click.Group) -> None:
    """`recovery disputes …`."""
    from recovery.disputes.cli import disputes_group

    cli.add_command(disputes_group)
