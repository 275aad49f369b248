"""Assessment (考核) of officers, grids and partner agents: monthly 100-point scores, the yearly score and
the pay factor."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask

    from recovery.domains import Apis


# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "assessment": "recovery.assessment.policy:AssessmentPolicySchema",
}


def init_app(app: Flask, apis: Apis) -> None:
    """The monthly assessment: page and staff API."""
    from recovery.assessment import views

    app.register_blueprint(views.bp)
    apis.staff(views.api_bp)


def init_cli(cli: click.Group) -> None:
    """`recovery assessment …`."""
    from recovery.assessment.cli import assessment_command

    cli.add_command(assessment_command)
