"""`recovery credit …`: ratings, qualification, security review."""

from __future__ import annotations

import click


@click.group("credit")
def credit_group() -> None:
    """Credit ratings, qualification review, deposits and guarantees."""
