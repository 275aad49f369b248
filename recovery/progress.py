"""Progress of long commands: a bar on a terminal, nothing when piped (contracts.md, "Command line").

Every long command goes through `progress` so that the rule lives in one place: the bar goes to stderr,
and only when stderr is a terminal; piped or redirected output stays exactly the command's result.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def on_terminal() -> bool:
    """Whether progress is shown: stderr is a terminal."""
    return sys.stderr.isatty()


def progress(iterable: Iterable[T] | None = None, *, desc: str, total: int | None = None,
             unit: str = "it", **options: Any) -> tqdm:
    """A tqdm bar over `iterable` (or one to update by hand), shown on a terminal only."""
    return tqdm(iterable, desc=desc, total=total, unit=unit, disable=not on_terminal(), file=sys.stderr,
                dynamic_ncols=True, **options)


def steps(desc: str, names: list[str]) -> tqdm:
    """A bar over the named steps of one command; `bar.set_postfix_str(name)` says which runs now."""
    return progress(total=len(names), desc=desc, unit="step")
