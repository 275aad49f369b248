"""A generated business day for the matching engine: ledger payments and statement lines that agree,
except for differences injected on purpose, each of a known kind (used by tests and bench/reconcile.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

KINDS = ("missing_in_ledger", "missing_in_statement", "amount_mismatch", "duplicate", "timing")


@dataclass
class Day:
    lines: pd.DataFrame  # line_id, account, ref, customer, amount_fen, at
    payments: pd.DataFrame  # payment_id, account, ref, customer, amount_fen, at
    expected: pd.DataFrame  # kind, line_id (or NA), payment_id (or NA)
    day_start: pd.Timestamp
    day_end: pd.Timestamp


def generate_day(n: int, *, day: dt.date = dt.date(2026, 11, 22), break_share: float = 0.01, seed: int = 7,
                 accounts: int = 4, customers: int | None = None, tz: str = "Asia/Shanghai",
                 no_ref_share: float = 0.1) -> Day:
    """`n` ledger payments of one day and their statement lines, with about `break_share * n` breaks of
    every kind in equal parts. A share of the lines carries no reference (matched by customer, amount,
    time). Timing breaks: a payment just before midnight whose line lies just after it (the next day)."""
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(tz)
    start = pd.Timestamp(dt.datetime.combine(day, dt.time(), tzinfo=zone)).tz_convert("UTC")
    end = start + pd.Timedelta(days=1)
    customers = customers or max(n // 3, 1)
    ids = np.arange(1, n + 1, dtype="int64")
    acct = np.array([f"A{i:02d}" for i in range(accounts)], dtype=object)[rng.integers(0, accounts, n)]
    cust = np.char.add("C", rng.integers(0, customers, n).astype(str)).astype(object)
    amount = rng.integers(1, 200_000, n).astype("int64")
    # Times inside the day, away from the cut-offs (the timing breaks are placed there on purpose).
    at = start + pd.to_timedelta(rng.integers(3600, 86400 - 3600, n), unit="s")
    refs = np.char.add("R", ids.astype(str)).astype(object)
    payments = pd.DataFrame({"payment_id": ids, "account": acct, "ref": refs, "customer": cust,
                             "amount_fen": amount, "at": at})

    per_kind = max(round(n * break_share / len(KINDS)), 1)
    order = rng.permutation(n)
    chosen = {k: order[i * per_kind:(i + 1) * per_kind] for i, k in enumerate(KINDS)}
    lines = payments.rename(columns={"payment_id": "line_id"}).copy()
    lines["at"] = lines["at"] + pd.to_timedelta(rng.integers(0, 120, n), unit="s")  # the channel's clock
    no_ref = rng.random(n) < no_ref_share
    expected = []

    # missing_in_statement: the line is gone.
    keep = np.ones(n, dtype=bool)
    keep[chosen["missing_in_statement"]] = False
    expected.append(pd.DataFrame({"kind": "missing_in_statement", "line_id": pd.NA,
                                  "payment_id": ids[chosen["missing_in_statement"]]}))
    # missing_in_ledger: the payment is gone (its line stays).
    pay_keep = np.ones(n, dtype=bool)
    pay_keep[chosen["missing_in_ledger"]] = False
    expected.append(pd.DataFrame({"kind": "missing_in_ledger", "line_id": ids[chosen["missing_in_ledger"]],
                                  "payment_id": pd.NA}))
    # amount_mismatch: the line says another amount (always by reference).
    i = chosen["amount_mismatch"]
    lines.loc[i, "amount_fen"] = lines.loc[i, "amount_fen"] + rng.integers(1, 5000, len(i))
    no_ref[i] = False
    expected.append(pd.DataFrame({"kind": "amount_mismatch", "line_id": ids[i], "payment_id": ids[i]}))
    # timing: paid at 23:5x, reported at 00:0x the next day.
    i = chosen["timing"]
    payments.loc[i, "at"] = end - pd.to_timedelta(rng.integers(60, 900, len(i)), unit="s")
    lines.loc[i, "at"] = end + pd.to_timedelta(rng.integers(60, 900, len(i)), unit="s")
    no_ref[i] = False
    expected.append(pd.DataFrame({"kind": "timing", "line_id": ids[i], "payment_id": ids[i]}))
    # duplicate: the statement repeats a line.
    i = chosen["duplicate"]
    no_ref[i] = False
    no_ref[chosen["missing_in_ledger"]] = False
    repeated = lines.loc[i].copy()
    repeated["line_id"] = n + 1 + np.arange(len(i))
    repeated["at"] = repeated["at"] + pd.Timedelta(seconds=30)
    expected.append(pd.DataFrame({"kind": "duplicate", "line_id": repeated["line_id"].to_numpy(),
                                  "payment_id": ids[i]}))

    lines["ref"] = lines["ref"].where(~no_ref, None)
    lines = pd.concat([lines[keep], repeated], ignore_index=True)
    payments = payments[pay_keep].reset_index(drop=True)
    exp = pd.concat(expected, ignore_index=True)
    exp["line_id"] = exp["line_id"].astype("Int64")
    exp["payment_id"] = exp["payment_id"].astype("Int64")
    return Day(lines=lines, payments=payments, expected=exp, day_start=start, day_end=end)
