"""Theft and line-loss screening (反窃查漏): transformer areas and feeder lines, the energy delivered into each
area, the monthly line-loss rate, the suspect list, inspections (用电检查) and their outcome, tip-offs (举报)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask

    from recovery.domains import Apis


# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "loss": "recovery.loss.policy:LossPolicySchema",
}


def init_app(app: Flask, apis: Apis) -> None:
    """Line loss, the suspect list, inspections and tip-offs."""
    from recovery.loss.views import bp

    app.register_blueprint(bp)


def init_cli(cli: click.Group) -> None:
    """`recovery loss …`."""
    from recovery.loss.cli import loss_group

    cli.add_command(loss_group)
