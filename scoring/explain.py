"""Reasons for an officer: the top factors that raise a customer's risk, phrased in Chinese and English.

Factors come from the model's per-customer contributions (scoring.model.ArrearsModel.contributions);
only those that push the risk up are given, and only when the feature's value makes its phrase true
(Feature.shown_if). Features that tell the same story (features.REASON_GROUPS, e.g. the punctuality
figures) give one reason, phrased by the strongest member and ranked by the group's total push. Each
phrase is filled from the customer's own feature values.

Template fields (scoring.features.SPEC):
    {n6} {n12}  bills the "last 6 / 12" figures cover (fewer for a short record)
    {k6} {k12}  a share of those bills as a count;  {k} a count;  {days} whole days
    {yuan}  fen as yuan with two decimals;  {kwh} whole kWh;  {x} one decimal;  {pct} a share in per cent
    {pp}  a difference of shares in percentage points
    {chg}  a ratio as a change ("down 45%" / "下降45%");  {lvl} a ratio to peers ("45% below" / "低45%")
"""

from __future__ import annotations

import string
from collections.abc import Callable

import numpy as np
import pandas as pd

from scoring.features import BY_NAME, REASON_GROUPS

LANGUAGES = ("zh", "en")


def _yuan(v: float) -> str:
    fen = round(v)
    sign, fen = ("-" if fen < 0 else ""), abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


def _change(lang: str) -> Callable[[float], str]:
    def phrase(v: float) -> str:
        pct = round(abs(v - 1.0) * 100)
        if lang == "zh":
            return f"下降{pct}%" if v < 1 else f"上升{pct}%"
        return f"down {pct}%" if v < 1 else f"up {pct}%"
    return phrase


def _level(lang: str) -> Callable[[float], str]:
    def phrase(v: float) -> str:
        pct = round(abs(v - 1.0) * 100)
        if lang == "zh":
            return f"低{pct}%" if v < 1 else f"高{pct}%"
        return f"{pct}% below" if v < 1 else f"{pct}% above"
    return phrase


def _fields(lang: str) -> dict[str, Callable[[float, float], str]]:
    """Each field as a function of (value, bills_known)."""
    change, level = _change(lang), _level(lang)
    return {
        "n6": lambda v, n: str(int(min(6, n))),
        "n12": lambda v, n: str(int(min(12, n))),
        "k6": lambda v, n: str(round(v * min(6, n))),
        "k12": lambda v, n: str(round(v * min(12, n))),
        "k": lambda v, n: str(round(v)),
        "days": lambda v, n: str(round(v)),
        "yuan": lambda v, n: _yuan(v),
        "kwh": lambda v, n: f"{v:,.0f}",
        "x": lambda v, n: f"{v:.1f}",
        "pct": lambda v, n: str(round(v * 100)),
        "pp": lambda v, n: f"{v * 100:.1f}",
        "chg": lambda v, n: change(v),
        "lvl": lambda v, n: level(v),
    }


FIELDS = {lang: _fields(lang) for lang in LANGUAGES}

# What each field shows of (value, bills known), as a number: equal keys give equal text (the rounding is the
# phrase's own: round() and format() round half to even, as numpy does). One decimal is shown as it comes.
KEYS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "n6": lambda v, n: np.minimum(6, n),
    "n12": lambda v, n: np.minimum(12, n),
    "k6": lambda v, n: np.round(v * np.minimum(6, n)),
    "k12": lambda v, n: np.round(v * np.minimum(12, n)),
    "k": lambda v, n: np.round(v),
    "days": lambda v, n: np.round(v),
    "yuan": lambda v, n: np.round(v),
    "kwh": lambda v, n: np.round(v),
    "x": lambda v, n: v,
    "pct": lambda v, n: np.round(v * 100),
    "pp": lambda v, n: v,
    "chg": lambda v, n: np.where(v < 1, -1.0, 1.0) * (np.round(np.abs(v - 1.0) * 100) + 1),
    "lvl": lambda v, n: np.where(v < 1, -1.0, 1.0) * (np.round(np.abs(v - 1.0) * 100) + 1),
}


def _phrase(template: str, lang: str, values: np.ndarray, known: np.ndarray) -> np.ndarray:
    names = list(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(template) if f))
    makers = {f: FIELDS[lang][f] for f in names}
    # Counts, days and shares repeat across customers: each distinct text is made once, for the first customer
    # who shows it, found by hashing (pandas.factorize) what the fields show, not sorting. The fields read bills
    # known only through min(6, n) and min(12, n), so n is capped at 12.
    v = np.asarray(values, dtype=np.float64)
    n = np.minimum(np.nan_to_num(np.asarray(known, dtype=np.float64)), 12.0)
    codes = np.zeros(v.size, dtype=np.int64)
    for f in names:
        part, distinct = pd.factorize(KEYS[f](v, n))
        codes, _ = pd.factorize(codes * max(len(distinct), 1) + part)
    first = np.full(codes.max(initial=-1) + 1, v.size, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(v.size))
    vs, ns = v[first].tolist(), n[first].tolist()
    phrases = np.array([template.format(**{f: make(a, b) for f, make in makers.items()}) for a, b in zip(vs, ns,
                                                                                                      strict=True)],
                       dtype=object)
    return phrases[codes]


def reasons(contributions: pd.DataFrame, features: pd.DataFrame, *, top_k: int = 3,
            min_contribution: float = 0.0) -> pd.DataFrame:
    """Columns zh and en: for each customer a list of up to top_k phrases, the strongest risk-raising factor first.

    contributions: ArrearsModel.contributions(features); features: the frame that was scored.
    """
    names = [c for c in contributions.columns if c in BY_NAME and BY_NAME[c].zh is not None]
    index = contributions.index
    values = features.reindex(index)[names].to_numpy(dtype=np.float64)
    known = (features.reindex(index)["bills_known"].fillna(0).to_numpy(dtype=np.float64)
             if "bills_known" in features.columns else np.full(len(index), 12.0))
    contrib = contributions[names].to_numpy(dtype=np.float64)
    eligible = contrib > min_contribution
    for j, name in enumerate(names):
        v = values[:, j]
        with np.errstate(invalid="ignore"):
            eligible[:, j] &= ~np.isnan(v) & np.asarray(BY_NAME[name].shown_if(np.nan_to_num(v)), dtype=bool)
    strength = np.where(eligible, contrib, -np.inf)
    # one reason per group: its strongest phrasable member speaks for the whole group's push
    column = {name: j for j, name in enumerate(names)}
    for members in REASON_GROUPS.values():
        cols = [column[m] for m in members if m in column]
        if len(cols) < 2:
            continue
        block = strength[:, cols]
        total = np.where(np.isneginf(block), 0.0, block).sum(axis=1)
        best = np.argmax(block, axis=1)
        rows = np.flatnonzero(~np.isneginf(block.max(axis=1)))
        block[:] = -np.inf
        block[rows, best[rows]] = total[rows]
        strength[:, cols] = block
    k = min(top_k, len(names))
    top = np.argsort(-strength, axis=1, kind="stable")[:, :k]
    valid = np.take_along_axis(strength, top, axis=1) > -np.inf
    out = {}
    for lang in LANGUAGES:
        slots = np.full((len(index), k), None, dtype=object)
        for j, name in enumerate(names):
            rows, ranks = np.nonzero((top == j) & valid)
            if rows.size:
                template = getattr(BY_NAME[name], lang)
                slots[rows, ranks] = _phrase(template, lang, values[rows, j], known[rows])
        # most customers have all k reasons: only the others' lists need their empty slots dropped
        lists = slots.tolist()
        for i in np.flatnonzero(~valid.all(axis=1)).tolist():
            lists[i] = [s for s in lists[i] if s is not None]
        out[lang] = lists
    return pd.DataFrame(out, index=index)


def explain(model, features: pd.DataFrame, *, top_k: int = 3) -> pd.DataFrame:
    """reasons() for a fitted ArrearsModel on a features frame."""
    return reasons(model.contributions(features), features, top_k=top_k)
