"""The officer's worklist: customer segments, account managers and their deputies, early warnings and
the nightly build of each day's work items."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask

    from recovery.domains import Apis


# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "segments": "recovery.worklist.policy:SegmentsPolicySchema",
    "coverage": "recovery.worklist.policy:CoveragePolicySchema",
    "worklist": "recovery.worklist.policy:WorklistPolicySchema",
}


def init_app(app: Flask, apis: Apis) -> None:
    """The officer's worklist and the supervisor's coverage: pages and staff API."""
    from recovery.worklist import views

    app.register_blueprint(views.bp)
    apis.staff(views.api_bp)


def init_cli(cli: click.Group) -> None:
    """`recovery worklist …` and `recovery segments …`."""
    from recovery.worklist.cli import segments_group, worklist_group

    cli.add_command(worklist_group)
    cli.add_command(segments_group)
