"""Credit: ratings, qualification review, deposits, guarantees and settlement terms."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask

    from recovery.domains import Apis


# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "deposit": "recovery.credit.security.policy:DepositPolicySchema",
    "guarantee": "recovery.credit.security.policy:GuaranteePolicySchema",
    "qualification": "recovery.credit.security.policy:QualificationPolicySchema",
    "rating": "recovery.credit.rating.policy:RatingPolicySchema",
    "settlement": "recovery.credit.rating.policy:SettlementPolicySchema",
}


def init_app(app: Flask, apis: Apis) -> None:
    """Ratings, settlement terms, deposits and guarantees: pages and staff APIs."""
    from recovery.credit import views
    from recovery.credit.security import views as security_views

    app.register_blueprint(views.bp)
    app.register_blueprint(security_views.pages)
    apis.staff(views.api_bp, security_views.api_bp)


def init_cli(cli: click.Group) -> None:
    """`recovery credit …`."""
    from recovery.credit.cli import credit_group

    cli.add_command(credit_group)
