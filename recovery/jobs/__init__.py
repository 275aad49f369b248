"""The nightly jobs: declared as data, run by `recovery scheduler`, rerunnable for any past day."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click


# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "jobs": "recovery.jobs.table:JobsPolicySchema",
}


def init_cli(cli: click.Group) -> None:
    """`recovery scheduler`, `recovery jobs …`, `recovery night` and `recovery policy …`."""
    from recovery.jobs.cli import jobs_group, night_command, policy_group, scheduler_command

    for command in (scheduler_command, jobs_group, night_command, policy_group):
        cli.add_command(command)
