"""Progress of long commands: a bar on a terminal, nothing when piped (contracts.md, "Command line").

Every long command goes through `progress` so that the rule lives in one place: the bar goes to stderr,
and only when stderr is a terminal; piped or redirected output stays exactly the command's result.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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


@contextmanager
def working(desc: str) -> Iterator[None]:
    """One set-based step with no count to show (an import, a day's ratings): its name and the time it has
    taken so far, refreshed twice a second on a terminal; nothing when piped."""
    if not on_terminal():
        yield
        return
    bar = tqdm(total=None, desc=desc, bar_format="{desc}: {elapsed}", file=sys.stderr, dynamic_ncols=True)
    done = threading.Event()

    def tick() -> None:
        while not done.wait(0.5):
            bar.refresh()

    ticker = threading.Thread(target=tick, name="progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        bar.close()
