"""Big customers (大客户): a monthly bill over the policy's amount, or a strategic flag; their named
enterprise contacts, the account manager's call before the due date, and the first contact within 24 hours."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask

    from recovery.domains import Apis


# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "big_customers": "recovery.bigcustomers.policy:BigCustomersPolicySchema",
}


def init_app(app: Flask, apis: Apis) -> None:
    """Big customers and their contacts: pages and staff API."""
    from recovery.bigcustomers import views

    app.register_blueprint(views.pages)
    apis.staff(views.api_bp)


def init_cli(cli: click.Group) -> None:
    """`recovery big-customers …`."""
    from recovery.bigcustomers.cli import big_customers_group

    cli.add_command(big_customers_group)
