"""The matching engine: statement lines against ledger payments, on columnar data.

    result = match(lines, payments, Rules(...), Window(day_start, day_end))
    result.matches   # one row per (line, payment) link of a clean match, with the pass that found it
    result.breaks    # what is left, classified: missing_in_ledger, missing_in_statement,
                     # amount_mismatch, duplicate, timing

Inputs (pandas frames; extra columns are ignored):
- lines:    line_id (int), account (str), ref (str|NA), customer (str|NA), amount_fen (int), at (UTC instant),
            optional text (str|NA: a bank line's counterparty and description, searched for references)
- payments: payment_id (int), account, ref, customer, amount_fen, at

Matching never crosses accounts. Both frames may hold rows from the neighbouring days (the caller
loads a margin around the day): a pair with one side inside the day and the other outside it is a
`timing` difference that has already cleared; a pair wholly outside the day is none of this day's
business. An unmatched row close to the cut-off whose other side is not known yet past it (the next
day's statement has not arrived) is an open `timing` break rather than a missing one.

Passes, in the order the rules list them (each works on what the earlier ones left):
- reference:       same account and reference (one-to-one; an amount difference beyond the tolerance is
                   an `amount_mismatch` between the two)
- text_reference:  a payment's reference appearing as a word of the line's text (bank statements)
- customer:        same customer, amount within the tolerance, time within the time tolerance;
                   one-to-one, closest amount then closest time first
- many_to_one:     one line equal to the sum of a group's payments (an agent's or a kiosk's daily total)
- one_to_many:     one payment equal to the sum of a group's lines (a payment the channel split)

Pure: pandas and numpy only; no per-row Python loops (the greedy one-to-one choice loops over
rounds, each a vectorised step).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["BREAK_KINDS", "PASSES", "Result", "Rules", "Window", "match"]

PASSES = ("reference", "text_reference", "customer", "many_to_one", "one_to_many")
BREAK_KINDS = ("missing_in_ledger", "missing_in_statement", "amount_mismatch", "duplicate", "timing")
# A word of a bank line's text that could be a reference: letters, digits and a few separators.
TOKEN = r"[A-Za-z0-9][A-Za-z0-9_/.-]{3,63}"
MAX_ROUNDS = 64

LINE_COLUMNS = ("line_id", "account", "ref", "customer", "amount_fen", "at")
PAYMENT_COLUMNS = ("payment_id", "account", "ref", "customer", "amount_fen", "at")
MATCH_COLUMNS = ("match_id", "line_id", "payment_id", "pass")
BREAK_COLUMNS = ("kind", "status", "account", "line_id", "payment_id", "ref", "customer",
                 "statement_amount_fen", "ledger_amount_fen", "match_id", "note")


@dataclass(frozen=True)
class Rules:
    """How one channel's statements are matched (configuration: the policy's [reconcile] section)."""

    passes: tuple[str, ...] = ("reference", "customer", "many_to_one", "one_to_many")
    # A reference match whose amounts differ by more than this is an amount_mismatch; the customer and
    # group passes accept only differences within it.
    amount_tolerance_fen: int = 0
    # The customer pass pairs a line and a payment at most this far apart.
    time_tolerance: pd.Timedelta = field(default_factory=lambda: pd.Timedelta(hours=2))
    # An unmatched row this close to the cut-off, whose other side is not known past it, is `timing`.
    cutoff_window: pd.Timedelta = field(default_factory=lambda: pd.Timedelta(minutes=30))
    # A payment left over beside a matched one of the same customer and amount this close in time was
    # posted twice: `duplicate`, not missing_in_statement.
    duplicate_window: pd.Timedelta = field(default_factory=lambda: pd.Timedelta(minutes=10))
    # Groups of the many-to-one and one-to-many passes within an account-day: ("customer",) sums one
    # customer's payments; () sums the whole account-day (a kiosk's or an agent's daily total).
    group_by: tuple[str, ...] = ("customer",)

    def __post_init__(self):
        unknown = set(self.passes) - set(PASSES)
        if unknown:
            raise ValueError(f"unknown matching pass(es) {sorted(unknown)}; known: {', '.join(PASSES)}")
        if set(self.group_by) - {"customer"}:
            raise ValueError("group_by may name only 'customer' (or nothing: the whole account-day)")
        if self.amount_tolerance_fen < 0:
            raise ValueError("amount_tolerance_fen cannot be negative")


@dataclass(frozen=True)
class Window:
    """The reconciliation day [day_start, day_end) as UTC instants, and how far each side is known.

    `statement_until` / `ledger_until`: up to when that side's data is complete (default: well past the
    day); `coverage` optionally gives `statement_until` per account (a frame indexed by account).
    """

    day_start: pd.Timestamp
    day_end: pd.Timestamp
    statement_from: pd.Timestamp | None = None
    statement_until: pd.Timestamp | None = None
    ledger_from: pd.Timestamp | None = None
    ledger_until: pd.Timestamp | None = None
    coverage: pd.DataFrame | None = None  # index account; columns statement_from, statement_until


@dataclass
class Result:
    """Matches (links of clean matches) and breaks, each a frame; `summary` per account."""

    matches: pd.DataFrame
    breaks: pd.DataFrame
    summary: pd.DataFrame


def _prepare(frame: pd.DataFrame, id_col: str, columns: tuple[str, ...], window: Window) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{id_col.split('_')[0]} frame lacks column(s) {', '.join(missing)}")
    frame = frame.reset_index(drop=True)

    def text(c: str) -> pd.Series:
        return frame[c].astype(object).where(frame[c].notna(), None)

    out = pd.DataFrame({
        id_col: frame[id_col].to_numpy(dtype="int64"),
        "account": text("account"),
        "ref": text("ref"),
        "customer": text("customer"),
        "amount_fen": frame["amount_fen"].to_numpy(dtype="int64"),
        "at": pd.to_datetime(frame["at"], utc=True),
    })
    if "text" in frame.columns:
        out["text"] = text("text")
    out["in_day"] = (out["at"] >= window.day_start) & (out["at"] < window.day_end)
    if out[id_col].duplicated().any():
        raise ValueError(f"{id_col} must be unique")
    return out


def _one_to_one(cand: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Best-first one-to-one choice among candidate (line_id, payment_id) pairs, in vectorised rounds.

    Each round keeps, for every line, its best payment and then, for every payment so claimed, its best
    line; both sides of what was kept leave the pool. The globally best pair always survives a round.
    """
    cand = cand.sort_values([*order, "line_id", "payment_id"], kind="stable")
    chosen = []
    for _ in range(MAX_ROUNDS):
        if cand.empty:
            break
        best = cand.drop_duplicates("line_id").drop_duplicates("payment_id")
        chosen.append(best)
        cand = cand[~cand["line_id"].isin(best["line_id"]) & ~cand["payment_id"].isin(best["payment_id"])]
    return pd.concat(chosen, ignore_index=True) if chosen else cand.iloc[0:0]


class _State:
    """What is still unmatched, and the links found so far (one frame per pass)."""

    def __init__(self, lines: pd.DataFrame, payments: pd.DataFrame):
        self.lines = lines
        self.payments = payments
        self.free_line = np.ones(len(lines), dtype=bool)
        self.free_payment = np.ones(len(payments), dtype=bool)
        self.line_pos = pd.Series(np.arange(len(lines)), index=lines["line_id"].to_numpy())
        self.payment_pos = pd.Series(np.arange(len(payments)), index=payments["payment_id"].to_numpy())
        self.links: list[pd.DataFrame] = []  # match_id, line_id, payment_id, pass
        self.next_match = 0

    def free_lines(self) -> pd.DataFrame:
        return self.lines[self.free_line]

    def free_payments(self) -> pd.DataFrame:
        return self.payments[self.free_payment]

    def take(self, links: pd.DataFrame, pass_name: str, group: np.ndarray | None = None) -> None:
        """Record links (line_id, payment_id); `group` numbers the match each link belongs to."""
        if links.empty:
            return
        if group is None:
            group = np.arange(len(links))
        _, group = np.unique(group, return_inverse=True)
        self.links.append(pd.DataFrame({
            "match_id": group.astype("int64") + self.next_match,
            "line_id": links["line_id"].to_numpy(dtype="int64"),
            "payment_id": links["payment_id"].to_numpy(dtype="int64"),
            "pass": pass_name,
        }))
        self.next_match += int(group.max()) + 1
        self.free_line[self.line_pos.loc[links["line_id"].unique()].to_numpy()] = False
        self.free_payment[self.payment_pos.loc[links["payment_id"].unique()].to_numpy()] = False


def _pass_reference(st: _State, rules: Rules) -> None:
    lines = st.free_lines()
    pays = st.free_payments()
    lines = lines[lines["ref"].notna()]
    # A reference is unique within an account in the ledger; if not, the earliest payment takes it.
    pays = pays[pays["ref"].notna()].sort_values(["at", "payment_id"]).drop_duplicates(["account", "ref"])
    pairs = lines[["line_id", "account", "ref"]].merge(pays[["payment_id", "account", "ref"]], on=["account", "ref"])
    st.take(pairs, "reference")


def _pass_text_reference(st: _State, rules: Rules) -> None:
    lines = st.free_lines()
    if "text" not in lines.columns:
        return
    lines = lines[lines["text"].notna()]
    pays = st.free_payments()
    pays = pays[pays["ref"].notna()]
    if lines.empty or pays.empty:
        return
    words = lines["text"].str.findall(TOKEN)
    words = pd.DataFrame({"line_id": lines["line_id"].to_numpy(), "account": lines["account"].to_numpy(),
                          "amount_line": lines["amount_fen"].to_numpy(), "ref": words.to_numpy()}).explode("ref")
    words = words[words["ref"].notna()].drop_duplicates(["line_id", "ref"])
    cand = words.merge(pays[["payment_id", "account", "ref", "amount_fen"]], on=["account", "ref"])
    cand["gap"] = (cand["amount_line"] - cand["amount_fen"]).abs()
    st.take(_one_to_one(cand, ["gap"]), "text_reference")


def _pass_customer(st: _State, rules: Rules) -> None:
    lines = st.free_lines()
    pays = st.free_payments()
    lines = lines[lines["customer"].notna()]
    pays = pays[pays["customer"].notna()]
    if lines.empty or pays.empty:
        return
    cand = lines[["line_id", "account", "customer", "amount_fen", "at"]].merge(
        pays[["payment_id", "account", "customer", "amount_fen", "at"]], on=["account", "customer"],
        suffixes=("_l", "_p"))
    cand["gap"] = (cand["amount_fen_l"] - cand["amount_fen_p"]).abs()
    cand["dt"] = (cand["at_l"] - cand["at_p"]).abs()
    cand = cand[(cand["gap"] <= rules.amount_tolerance_fen) & (cand["dt"] <= rules.time_tolerance)]
    st.take(_one_to_one(cand, ["gap", "dt"]), "customer")


def _keys(frame: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """The group key columns of the group passes: account, and the customer when grouping by it."""
    keys = pd.DataFrame({"account": frame["account"].to_numpy()}, index=frame.index)
    for k in rules.group_by:
        keys[k] = frame[k].to_numpy()
    return keys


def _pass_groups(st: _State, rules: Rules, *, many: str) -> None:
    """many='payments': a line equals the sum of a group's payments; many='lines': the reverse."""
    lines = st.free_lines()
    pays = st.free_payments()
    # Group totals are one day's totals: only rows inside the day take part.
    lines, pays = lines[lines["in_day"]], pays[pays["in_day"]]
    if rules.group_by:
        lines = lines[lines["customer"].notna()]
        pays = pays[pays["customer"].notna()]
    if lines.empty or pays.empty:
        return
    key_cols = ["account", *rules.group_by]
    many_rows, one_rows, many_id, one_id = (
        (pays, lines, "payment_id", "line_id") if many == "payments" else (lines, pays, "line_id", "payment_id"))
    grouped = many_rows.groupby(key_cols, sort=False, dropna=False).agg(
        total=("amount_fen", "sum"), count=("amount_fen", "size")).reset_index()
    grouped = grouped[grouped["count"] >= 2]
    cand = one_rows[[one_id, *key_cols, "amount_fen"]].merge(grouped, on=key_cols)
    cand["gap"] = (cand["amount_fen"] - cand["total"]).abs()
    cand = cand[cand["gap"] <= rules.amount_tolerance_fen].sort_values(["gap", one_id], kind="stable")
    # One "one" row per group and one group per "one" row.
    cand = cand.drop_duplicates(key_cols).drop_duplicates(one_id)
    if cand.empty:
        return
    cand = cand.assign(group=np.arange(len(cand)))
    links = many_rows[[many_id, *key_cols]].merge(cand[[one_id, *key_cols, "group"]], on=key_cols)
    st.take(links, "many_to_one" if many == "payments" else "one_to_many", links["group"].to_numpy())


PASS_FUNCS = {
    "reference": _pass_reference,
    "text_reference": _pass_text_reference,
    "customer": _pass_customer,
    "many_to_one": lambda st, rules: _pass_groups(st, rules, many="payments"),
    "one_to_many": lambda st, rules: _pass_groups(st, rules, many="lines"),
}


def _statement_duplicates(lines: pd.DataFrame) -> pd.Series:
    """Lines that repeat an earlier line: the same reference, or (without one) the same customer, amount
    and instant. The earliest is the original and takes part in matching; the others do not."""
    order = lines.sort_values(["at", "line_id"], kind="stable")
    by_ref = order["ref"].notna() & order.duplicated(["account", "ref"])
    no_ref = order["ref"].isna() & order["customer"].notna()
    by_content = no_ref & order.duplicated(["account", "ref", "customer", "amount_fen", "at"])
    return (by_ref | by_content).reindex(lines.index)


def _coverage(rows: pd.DataFrame, window: Window, side: str) -> tuple[pd.Series, pd.Series]:
    """Per row, from and until when the *other* side is known ('statement' side for ledger rows)."""
    far_past, far_future = window.day_start - pd.Timedelta(days=3650), window.day_end + pd.Timedelta(days=3650)
    start = getattr(window, f"{side}_from") or far_past
    until = getattr(window, f"{side}_until") or far_future
    known_from = pd.Series(start, index=rows.index)
    known_until = pd.Series(until, index=rows.index)
    if side == "statement" and window.coverage is not None and not rows.empty:
        cov = window.coverage
        if "statement_from" in cov:
            known_from = pd.to_datetime(rows["account"].map(cov["statement_from"]), utc=True).fillna(start)
        if "statement_until" in cov:
            known_until = pd.to_datetime(rows["account"].map(cov["statement_until"]), utc=True).fillna(until)
    return pd.to_datetime(known_from, utc=True), pd.to_datetime(known_until, utc=True)


def _near_unknown_cutoff(rows: pd.DataFrame, window: Window, rules: Rules, other: str) -> pd.Series:
    """Rows close to a cut-off beyond which the other side is not known yet: their partner may be there."""
    known_from, known_until = _coverage(rows, window, other)
    cw = rules.cutoff_window
    late = (rows["at"] >= window.day_end - cw) & (known_until < window.day_end + cw)
    early = (rows["at"] < window.day_start + cw) & (known_from > window.day_start - cw)
    return late | early


def _empty_breaks() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in BREAK_COLUMNS})


def _breaks_frame(kind: str | pd.Series, status: str | pd.Series, *, account, line_id=None, payment_id=None,
                  ref=None, customer=None, statement_amount=None, ledger_amount=None, match_id=None,
                  note: str | pd.Series | None = None, n: int) -> pd.DataFrame:
    def col(v, dtype=object):
        if v is None:
            return pd.array([None] * n, dtype=dtype)
        return pd.array(np.asarray(v), dtype=dtype) if dtype == "Int64" else np.asarray(v, dtype=object)

    return pd.DataFrame({
        "kind": col(kind if not isinstance(kind, str) else [kind] * n),
        "status": col(status if not isinstance(status, str) else [status] * n),
        "account": col(account), "line_id": col(line_id, "Int64"), "payment_id": col(payment_id, "Int64"),
        "ref": col(ref), "customer": col(customer),
        "statement_amount_fen": col(statement_amount, "Int64"), "ledger_amount_fen": col(ledger_amount, "Int64"),
        "match_id": col(match_id, "Int64"),
        "note": col(note if not isinstance(note, str) else [note] * n),
    })


def match(lines: pd.DataFrame, payments: pd.DataFrame, rules: Rules, window: Window) -> Result:
    """Match one day's statement lines to ledger payments and classify what is left (see the module doc)."""
    lines = _prepare(lines, "line_id", LINE_COLUMNS, window)
    pays = _prepare(payments, "payment_id", PAYMENT_COLUMNS, window)

    dup = _statement_duplicates(lines).to_numpy(dtype=bool) if len(lines) else np.zeros(0, dtype=bool)
    st = _State(lines, pays)
    st.free_line &= ~dup
    for name in rules.passes:
        PASS_FUNCS[name](st, rules)

    links = pd.concat(st.links, ignore_index=True) if st.links else pd.DataFrame(
        {"match_id": pd.Series(dtype="int64"), "line_id": pd.Series(dtype="int64"),
         "payment_id": pd.Series(dtype="int64"), "pass": pd.Series(dtype=object)})
    # Each match: its lines' and payments' totals and whether each side lies inside the day.
    link_lines = links[["match_id", "line_id"]].drop_duplicates().merge(
        lines[["line_id", "amount_fen", "in_day", "ref", "customer", "account"]], on="line_id")
    link_pays = links[["match_id", "payment_id"]].drop_duplicates().merge(
        pays[["payment_id", "amount_fen", "in_day", "ref", "customer"]], on="payment_id")
    g_lines = link_lines.groupby("match_id").agg(
        statement_amount=("amount_fen", "sum"), line_in=("in_day", "any"), line_id=("line_id", "min"),
        ref=("ref", "first"), customer=("customer", "first"), account=("account", "first"))
    g_pays = link_pays.groupby("match_id").agg(
        ledger_amount=("amount_fen", "sum"), pay_in=("in_day", "any"), payment_id=("payment_id", "min"),
        pref=("ref", "first"), pcustomer=("customer", "first"))
    groups = g_lines.join(g_pays, how="inner")
    groups["ref"] = groups["ref"].where(groups["ref"].notna(), groups["pref"])
    groups["customer"] = groups["customer"].where(groups["customer"].notna(), groups["pcustomer"])
    gap = (groups["statement_amount"] - groups["ledger_amount"]).abs()
    both_in = groups["line_in"] & groups["pay_in"]
    one_in = groups["line_in"] ^ groups["pay_in"]
    clean = both_in & (gap <= rules.amount_tolerance_fen)
    mismatch = both_in & ~clean
    timing = one_in

    matches = links[links["match_id"].isin(groups.index[clean])].reset_index(drop=True)
    parts = []

    def from_groups(mask: pd.Series, kind: str, status: str, note: str) -> None:
        g = groups[mask]
        if len(g):
            parts.append(_breaks_frame(kind, status, account=g["account"], line_id=g["line_id"],
                                       payment_id=g["payment_id"], ref=g["ref"], customer=g["customer"],
                                       statement_amount=g["statement_amount"], ledger_amount=g["ledger_amount"],
                                       match_id=g.index.to_numpy(), note=note, n=len(g)))

    from_groups(mismatch, "amount_mismatch", "open", "same reference, different amount")
    # The partner lies across the cut-off, in the neighbouring day: the difference has already cleared.
    from_groups(timing, "timing", "resolved", "matched across the day's cut-off")

    # Duplicate statement lines inside the day, pointing at the payment their original matched.
    dups = lines[dup & lines["in_day"].to_numpy()]
    if len(dups):
        original = lines[~dup].sort_values(["at", "line_id"])
        ref_orig = original[original["ref"].notna()].drop_duplicates(["account", "ref"])[["account", "ref", "line_id"]]
        d = dups.merge(ref_orig.rename(columns={"line_id": "orig"}), on=["account", "ref"], how="left")
        d = d.merge(links[["line_id", "payment_id"]].drop_duplicates("line_id").rename(columns={"line_id": "orig"}),
                    on="orig", how="left")
        d = d.merge(pays[["payment_id", "amount_fen"]].rename(columns={"amount_fen": "ledger_amount"}),
                    on="payment_id", how="left")
        parts.append(_breaks_frame("duplicate", "open", account=d["account"], line_id=d["line_id"],
                                   payment_id=d["payment_id"], ref=d["ref"], customer=d["customer"],
                                   statement_amount=d["amount_fen"], ledger_amount=d["ledger_amount"],
                                   note="the statement repeats a line", n=len(d)))

    left_lines = st.free_lines()
    left_lines = left_lines[left_lines["in_day"]]
    left_pays = st.free_payments()
    left_pays = left_pays[left_pays["in_day"]]

    # A payment left over beside a matched payment of the same customer and amount, moments apart: posted twice.
    matched_pays = pays[pays["payment_id"].isin(links["payment_id"])]
    twin = left_pays[["payment_id", "account", "customer", "amount_fen", "at"]].merge(
        matched_pays[["payment_id", "account", "customer", "amount_fen", "at"]],
        on=["account", "customer", "amount_fen"], suffixes=("", "_twin"))
    twin = twin[(twin["at"] - twin["at_twin"]).abs() <= rules.duplicate_window]
    twin = twin.drop_duplicates("payment_id")
    is_twin = left_pays["payment_id"].isin(twin["payment_id"])
    if is_twin.any():
        p = left_pays[is_twin]
        parts.append(_breaks_frame("duplicate", "open", account=p["account"], payment_id=p["payment_id"],
                                   ref=p["ref"], customer=p["customer"], ledger_amount=p["amount_fen"],
                                   note="posted twice: the same customer and amount moments apart", n=len(p)))
        left_pays = left_pays[~is_twin]

    if len(left_lines):
        near = _near_unknown_cutoff(left_lines, window, rules, "ledger")
        parts.append(_breaks_frame(
            np.where(near, "timing", "missing_in_ledger"), "open", account=left_lines["account"],
            line_id=left_lines["line_id"], ref=left_lines["ref"], customer=left_lines["customer"],
            statement_amount=left_lines["amount_fen"],
            note=np.where(near, "at the cut-off; the other day's ledger is not complete yet", None), n=len(left_lines)))
    if len(left_pays):
        near = _near_unknown_cutoff(left_pays, window, rules, "statement")
        parts.append(_breaks_frame(
            np.where(near, "timing", "missing_in_statement"), "open", account=left_pays["account"],
            payment_id=left_pays["payment_id"], ref=left_pays["ref"], customer=left_pays["customer"],
            ledger_amount=left_pays["amount_fen"],
            note=np.where(near, "at the cut-off; the next day's statement has not arrived", None), n=len(left_pays)))

    breaks = pd.concat(parts, ignore_index=True) if parts else _empty_breaks()
    return Result(matches=matches, breaks=breaks, summary=_summary(lines, pays, matches))


def _summary(lines: pd.DataFrame, pays: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """Per account: the day's statement and ledger totals and counts, and how many payments matched."""
    in_lines, in_pays = lines[lines["in_day"]], pays[pays["in_day"]]
    st_tot = in_lines.groupby("account").agg(statement_total_fen=("amount_fen", "sum"),
                                             statement_lines=("amount_fen", "size"))
    led_tot = in_pays.groupby("account").agg(ledger_total_fen=("amount_fen", "sum"),
                                             ledger_payments=("amount_fen", "size"))
    matched = pays[pays["payment_id"].isin(matches["payment_id"])].groupby("account").size().rename("matched")
    out = st_tot.join(led_tot, how="outer").join(matched, how="left").fillna(0).astype("int64")
    out.index.name = "account"
    return out
