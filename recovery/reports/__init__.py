"""Reports over the work the service records: the officers' activity per week or month."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask

    from recovery.domains import Apis


def init_app(app: Flask, apis: Apis) -> None:
    """The activity report: page and staff API."""
    from recovery.reports import views

    app.register_blueprint(views.bp)
    apis.staff(views.api_bp)


def init_cli(cli: click.Group) -> None:
    """`recovery report activity --period M | --week W`."""
    from recovery.reports.cli import activity_command

    cli.commands["report"].add_command(activity_command)
