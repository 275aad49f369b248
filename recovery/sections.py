"""The parts of a page that other domains fill, read by the page's view before anything renders.

The customer page shows each domain's part of the customer (security, collection work, the worklist's items,
disputes, big-customer status, the building, direct debit, write-offs); the worklist shows the disputes an
officer owns; the dashboard shows the line-loss figure. A domain registers the function that reads its part
beside its views:

    @sections.part("customer", "disputes")
    def disputes_part(overview) -> dict: ...

and the page's view gathers every part in one call (`gather("customer", overview)`), so no template reads
the database while it renders, and a page does not import the domains that fill it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

Reader = TypeVar("Reader", bound=Callable[..., Any])

# page -> part name -> the function that reads it (registered when the domain's views are imported)
_PARTS: dict[str, dict[str, Callable[..., Any]]] = {}


def part(page: str, name: str) -> Callable[[Reader], Reader]:
    """Register the decorated function as the reader of part `name` of `page`; one reader a part."""

    def register(reader: Reader) -> Reader:
        registered = _PARTS.setdefault(page, {})
        if registered.get(name, reader) is not reader:
            raise ValueError(f"part {name!r} of the {page} page is registered twice")
        registered[name] = reader
        return reader

    return register


def gather(page: str, *args: Any) -> dict[str, Any]:
    """Every registered part of `page`, read now, by name; `args` go to each reader."""
    return {name: reader(*args) for name, reader in _PARTS.get(page, {}).items()}


def names(page: str) -> set[str]:
    """The parts registered for `page`."""
    return set(_PARTS.get(page, {}))
