"""The nightly jobs: declared as data, run by `recovery scheduler`, rerunnable for any past day."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click


def init_cli(cli: click.Group) -> None:
    """`recovery scheduler`, `recovery jobs …`, `recovery night` and `recovery policy …`."""
    from recovery.jobs.cli import jobs_group, night_command, policy_group, scheduler_command

    for command in (scheduler_command, jobs_group, night_command, policy_group):
        cli.add_command(command)
