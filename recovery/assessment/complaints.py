"""Complaints against partner agents and card distributors, as the assessment's service-quality part counts them.

Complaints are recorded elsewhere (a customer's complaint names the channel that served them badly); this
module only gathers their counts. Each source is a function `source(session, channel, start, end)` returning
rows of (channel_account, complaints) for complaints received on days in [start, end] against the accounts
of `channel` ("agent", or "card" for distributors, the account being the distributor's code); a source is
named here as "module:function" and imported when it is read. While no source is named, the `complaints`
measure is unmeasured (its weight goes to the other service measures), never a silent zero.
"""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pandas as pd

# The sources of complaint counts, "module:function". A complaints register adds its line here.
SOURCES: tuple[str, ...] = ("recovery.disputes.complaints:against_partners",)


def counts(session, channel: str, start: dt.date, end: dt.date, sources: tuple[str, ...] | None = None
           ) -> pd.Series | None:
    """Complaints per channel account of `channel` over [start, end], summed over the sources; None when there
    is no source (nothing measures complaints yet)."""
    sources = SOURCES if sources is None else sources
    if not sources:
        return None
    total = pd.Series(dtype="int64")
    for name in sources:
        module, _, func = name.partition(":")
        rows = getattr(import_module(module), func)(session, str(channel), start, end)
        frame = pd.DataFrame(list(rows), columns=["channel_account", "complaints"])
        part = frame.groupby("channel_account")["complaints"].sum().astype("int64")
        total = total.add(part, fill_value=0).astype("int64")
    return total
