"""The matching engine on small frames: each pass, each break kind, the cut-off, and a generated day."""

from __future__ import annotations

import pandas as pd
import pytest

from reconciliation.matching import Rules, Window, match
from tests.reconciliation.reconcile_day import KINDS, generate_day

START = pd.Timestamp("2026-11-21T16:00:00Z")  # 2026-11-22 00:00 in Asia/Shanghai
END = START + pd.Timedelta(days=1)
WINDOW = Window(START, END)


def at(hhmm: str, day: int = 0) -> pd.Timestamp:
    h, m = hhmm.split(":")
    return START + pd.Timedelta(days=day, hours=int(h), minutes=int(m))


def lines(*rows) -> pd.DataFrame:
    """(line_id, ref, customer, amount_fen, at[, account]) tuples."""
    return pd.DataFrame([(r[0], r[5] if len(r) > 5 else "A", r[1], r[2], r[3], r[4]) for r in rows],
                        columns=["line_id", "account", "ref", "customer", "amount_fen", "at"])


def payments(*rows) -> pd.DataFrame:
    return pd.DataFrame([(r[0], r[5] if len(r) > 5 else "A", r[1], r[2], r[3], r[4]) for r in rows],
                        columns=["payment_id", "account", "ref", "customer", "amount_fen", "at"])


def kinds(result) -> list[tuple]:
    b = result.breaks
    return sorted(zip(b["kind"], b["line_id"].astype(object).where(b["line_id"].notna(), None),
                      b["payment_id"].astype(object).where(b["payment_id"].notna(), None), b["status"], strict=True))


def test_reference_match_is_clean_and_counts_as_matched():
    r = match(lines((1, "R1", "C1", 1000, at("10:00"))), payments((10, "R1", "C1", 1000, at("10:01"))), Rules(), WINDOW)
    assert r.matches[["line_id", "payment_id", "pass"]].values.tolist() == [[1, 10, "reference"]]
    assert r.breaks.empty
    assert r.summary.loc["A", "matched"] == 1


def test_same_reference_other_amount_is_an_amount_mismatch():
    r = match(lines((1, "R1", "C1", 1200, at("10:00"))), payments((10, "R1", "C1", 1000, at("10:00"))), Rules(), WINDOW)
    assert kinds(r) == [("amount_mismatch", 1, 10, "open")]
    assert (r.breaks.loc[0, "statement_amount_fen"], r.breaks.loc[0, "ledger_amount_fen"]) == (1200, 1000)
    assert r.matches.empty


def test_an_amount_within_the_tolerance_matches():
    r = match(lines((1, "R1", "C1", 1005, at("10:00"))), payments((10, "R1", "C1", 1000, at("10:00"))),
              Rules(amount_tolerance_fen=5), WINDOW)
    assert r.breaks.empty and len(r.matches) == 1


def test_without_a_reference_customer_amount_and_time_match_closest_first():
    r = match(lines((1, None, "C1", 500, at("10:00")), (2, None, "C1", 500, at("15:00"))),
              payments((10, "R10", "C1", 500, at("14:50")), (11, "R11", "C1", 500, at("10:05"))), Rules(), WINDOW)
    assert sorted(r.matches[["line_id", "payment_id"]].values.tolist()) == [[1, 11], [2, 10]]
    assert set(r.matches["pass"]) == {"customer"}


def test_the_customer_pass_respects_the_time_tolerance():
    r = match(lines((1, None, "C1", 500, at("08:00"))), payments((10, "R10", "C1", 500, at("13:00"))),
              Rules(time_tolerance=pd.Timedelta(hours=2)), WINDOW)
    assert kinds(r) == [("missing_in_ledger", 1, None, "open"), ("missing_in_statement", None, 10, "open")]


def test_a_reference_in_a_bank_lines_text_matches():
    st = lines((1, None, None, 700, at("12:00"))).assign(text=["TRANSFER EREF: PAY-77 ZHANG SAN"])
    r = match(st, payments((10, "PAY-77", "C9", 700, at("09:00"))), Rules(passes=("reference", "text_reference")),
              WINDOW)
    assert r.matches[["line_id", "payment_id", "pass"]].values.tolist() == [[1, 10, "text_reference"]]


def test_a_daily_total_matches_many_payments():
    st = lines((1, "DAY-TOTAL", "AG01", 600, at("23:00")))
    led = payments((10, "R1", "C1", 100, at("09:00")), (11, "R2", "C2", 200, at("10:00")),
                   (12, "R3", "C3", 300, at("11:00")))
    r = match(st, led, Rules(passes=("reference", "many_to_one"), group_by=()), WINDOW)
    assert r.breaks.empty
    assert sorted(r.matches["payment_id"]) == [10, 11, 12] and set(r.matches["line_id"]) == {1}
    assert r.matches["match_id"].nunique() == 1 and r.summary.loc["A", "matched"] == 3


def test_a_payment_split_over_several_lines_matches_them_all():
    st = lines((1, None, "C1", 400, at("09:00")), (2, None, "C1", 600, at("09:01")))
    r = match(st, payments((10, "R1", "C1", 1000, at("09:00"))), Rules(passes=("one_to_many",)), WINDOW)
    assert r.breaks.empty and sorted(r.matches["line_id"]) == [1, 2]


def test_a_repeated_statement_line_is_a_duplicate_of_the_matched_payment():
    st = lines((1, "R1", "C1", 100, at("09:00")), (2, "R1", "C1", 100, at("09:01")))
    r = match(st, payments((10, "R1", "C1", 100, at("09:00"))), Rules(), WINDOW)
    assert kinds(r) == [("duplicate", 2, 10, "open")]


def test_a_payment_posted_twice_moments_apart_is_a_duplicate():
    st = lines((1, "R1", "C1", 100, at("09:00")))
    r = match(st, payments((10, "R1", "C1", 100, at("09:00")), (11, "R2", "C1", 100, at("09:03"))), Rules(), WINDOW)
    assert kinds(r) == [("duplicate", None, 11, "open")]


def test_a_pair_across_midnight_is_a_timing_difference_already_cleared():
    r = match(lines((1, "R1", "C1", 100, at("00:04", day=1))), payments((10, "R1", "C1", 100, at("23:56"))),
              Rules(), WINDOW)
    assert kinds(r) == [("timing", 1, 10, "resolved")]


def test_before_the_next_statement_arrives_a_late_payment_is_an_open_timing_break():
    window = Window(START, END, statement_until=END)
    r = match(lines(), payments((10, "R1", "C1", 100, at("23:56")), (11, "R2", "C1", 100, at("20:00"))),
              Rules(), window)
    assert kinds(r) == [("missing_in_statement", None, 11, "open"), ("timing", None, 10, "open")]


def test_rows_of_the_neighbouring_days_raise_nothing_for_this_day():
    r = match(lines((1, "R1", "C1", 100, at("12:00", day=1))), payments((10, "R9", "C1", 100, at("12:00", day=-1))),
              Rules(), WINDOW)
    assert r.breaks.empty and r.matches.empty


def test_matching_never_crosses_accounts():
    r = match(lines((1, "R1", "C1", 100, at("10:00"), "A")), payments((10, "R1", "C1", 100, at("10:00"), "B")),
              Rules(), WINDOW)
    assert kinds(r) == [("missing_in_ledger", 1, None, "open"), ("missing_in_statement", None, 10, "open")]


def test_unknown_passes_are_refused():
    with pytest.raises(ValueError, match="unknown matching pass"):
        Rules(passes=("reference", "fuzzy"))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_generated_day_yields_exactly_the_injected_breaks(seed):
    day = generate_day(3000, seed=seed, break_share=0.02)
    r = match(day.lines, day.payments, Rules(), Window(day.day_start, day.day_end))
    got = r.breaks[["kind", "line_id", "payment_id"]]
    key = lambda f: sorted(map(tuple, f.astype(object).where(f.notna(), None).values.tolist()))  # noqa: E731
    assert key(got) == key(day.expected[["kind", "line_id", "payment_id"]])
    assert set(got["kind"]) == set(KINDS)
    assert r.summary["matched"].sum() == len(day.payments) - (day.expected["kind"] == "missing_in_statement").sum() \
        - (day.expected["kind"].isin(["amount_mismatch", "timing"])).sum()
