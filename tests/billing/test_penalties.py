"""Late-payment penalties: hand-computed amounts, the minimum, idempotent reruns, late payments."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from recovery.billing.models import Bill
from recovery.billing.penalties import accrue, penalties_as_of
from recovery.ledger.models import EntryKind, LedgerEntry
from tests.factories import bill, customer, load, payment


def _penalty_of(session, bill_code: str) -> int:
    return session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                          .join(Bill, Bill.id == LedgerEntry.bill_id)
                          .where(Bill.code == bill_code, LedgerEntry.kind == EntryKind.penalty))


def _entries(session) -> list[tuple[str, int, dt.date]]:
    return [(code, amount, on) for code, amount, on in session.execute(
        select(Bill.code, LedgerEntry.amount_fen, LedgerEntry.effective_on).join(Bill, Bill.id == LedgerEntry.bill_id)
        .where(LedgerEntry.kind == EntryKind.penalty).order_by(LedgerEntry.id))]


def test_residential_penalty_is_one_per_mille_a_day_rounded_once(recovery, tmp_path, session):
    # 1234.56 yuan overdue from 2026-02-21 to 2026-03-02: 10 days x 0.1% = 12.3456 yuan -> 12.35.
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20")])
    summary = accrue(session, dt.date(2026, 3, 2))
    assert _penalty_of(session, "B1") == 1235
    assert summary["entries"] == 1 and summary["posted_fen"] == 1235


def test_penalty_for_current_year_arrears_is_two_per_mille_on_each_unpaid_part(recovery, tmp_path, session):
    # Commercial, 5000.00 due 2026-04-20; 2000.00 paid 2026-04-30 (10 days late), 3000.00 still unpaid
    # on 2026-05-10 (20 days): (200000 x 10 + 300000 x 20) x 0.002 = 16000 fen.
    load(recovery, tmp_path, customers=[customer("C1", customer_class="commercial")],
         bills=[bill("B1", "C1", "5000.00", "2026-03", "2026-04-03", "2026-04-20")],
         payments=[payment("R1", "C1", "2000.00", "2026-04-30T15:00:00+08:00")])
    accrue(session, dt.date(2026, 5, 10))
    assert _penalty_of(session, "B1") == 16000


def test_penalty_for_cross_year_arrears_is_three_per_mille(recovery, tmp_path, session):
    # Industrial, period 2025-11, 800.00 due 2025-12-25, unpaid on 2026-01-05:
    # 6 days of 2025 at 0.2% (960 fen) + 5 days of 2026 at 0.3% (1200 fen) = 2160 fen.
    load(recovery, tmp_path, customers=[customer("C1", customer_class="industrial")],
         bills=[bill("B1", "C1", "800.00", "2025-11", "2025-12-03", "2025-12-25")])
    accrue(session, dt.date(2026, 1, 5))
    assert _penalty_of(session, "B1") == 2160


def test_cross_year_by_due_date_year_when_the_policy_says_so(app, recovery, tmp_path, session):
    # year_of = due_on: a 2025-12 bill due in January 2026 is current-year arrears all through January.
    app.config["POLICY_IN_FORCE"] = dict(app.config["POLICY_IN_FORCE"])
    from recovery import policy

    app.config["POLICY_IN_FORCE"]["penalty"] = policy.section("penalty", {"penalty": {"year_of": "due_on"}})
    load(recovery, tmp_path, customers=[customer("C1", customer_class="industrial")],
         bills=[bill("B1", "C1", "800.00", "2025-12", "2026-01-03", "2026-01-20")])
    accrue(session, dt.date(2026, 1, 30))  # 10 days x 0.2% x 80000
    assert _penalty_of(session, "B1") == 1600


def test_a_penalty_under_one_yuan_is_charged_as_one_yuan(recovery, tmp_path, session):
    # 50.00 paid three days late: 5000 x 3 x 0.1% = 15 fen -> the 1-yuan minimum.
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "50.00", "2026-01", "2026-02-03", "2026-02-20")],
         payments=[payment("R1", "C1", "50.00", "2026-02-23T09:00:00+08:00")])
    accrue(session, dt.date(2026, 3, 1))
    assert _penalty_of(session, "B1") == 100


def test_no_penalty_when_paid_by_the_due_date(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "50.00", "2026-01", "2026-02-03", "2026-02-20")],
         payments=[payment("R1", "C1", "50.00", "2026-02-20T23:00:00+08:00")])
    assert accrue(session, dt.date(2026, 3, 1))["entries"] == 0
    assert _penalty_of(session, "B1") == 0


def test_rerunning_a_day_changes_nothing_and_the_next_day_adds_one_day(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20")])
    accrue(session, dt.date(2026, 3, 2))
    again = accrue(session, dt.date(2026, 3, 2))
    assert again["entries"] == 0
    accrue(session, dt.date(2026, 3, 3))  # 11 days: 1358.016 fen -> 1358
    assert _entries(session) == [("B1", 1235, dt.date(2026, 3, 2)), ("B1", 123, dt.date(2026, 3, 3))]
    # An older day rerun compares with what was posted up to it: nothing to post.
    assert accrue(session, dt.date(2026, 3, 2))["entries"] == 0


def test_a_late_arriving_payment_lowers_the_penalty_with_a_negative_entry(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20")])
    accrue(session, dt.date(2026, 3, 10))  # 18 days unpaid: 2222.208 -> 2222
    assert _penalty_of(session, "B1") == 2222
    session.commit()
    # The bank's file shows it was paid on 2026-03-05 after all: 13 days, 1604.928 -> 1605.
    load(recovery, tmp_path, payments=[payment("R1", "C1", "1234.56", "2026-03-05T10:00:00+08:00")])
    accrue(session, dt.date(2026, 3, 10))
    assert _entries(session) == [("B1", 2222, dt.date(2026, 3, 10)), ("B1", 1605 - 2222, dt.date(2026, 3, 10))]
    # Paid: later days add nothing.
    assert accrue(session, dt.date(2026, 4, 10))["entries"] == 0


def test_penalties_count_in_balance_and_overdue_but_bills_stay_right(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20")])
    accrue(session, dt.date(2026, 3, 2))
    session.commit()
    result = recovery("report", "ageing", "--as-of", "2026-03-02")
    assert result.stdout.splitlines()[1] == "C1,1246.91,1246.91,2026-02-20,1-30"
    # Paying the bill (bills first, the default) leaves the penalty: owed, overdue, but no unpaid bill.
    load(recovery, tmp_path, payments=[payment("R1", "C1", "1234.56", "2026-03-02T10:00:00+08:00")])
    result = recovery("report", "ageing", "--as-of", "2026-03-02")
    assert result.stdout.splitlines()[1] == "C1,12.35,12.35,,current"


def test_penalties_accrue_command_prints_its_summary(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1", customer_class="industrial")],
         bills=[bill("B1", "C1", "800.00", "2025-11", "2025-12-03", "2025-12-25")])
    result = recovery("penalties", "accrue", "--date", "2026-01-05")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["penalty_total_fen"] == 2160
    assert recovery("penalties", "accrue", "--date", "2099-01-01").exit_code != 0


def test_the_nightly_job_accrues_and_reruns_the_same(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20")])
    for _ in range(2):
        result = recovery("jobs", "run", "billing.penalties", "--date", "2026-03-02")
        assert result.exit_code == 0, result.output
    assert _penalty_of(session, "B1") == 1235


def test_penalties_as_of_compares_computed_and_posted(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20")])
    frame = penalties_as_of(session, dt.date(2026, 3, 2))
    assert frame[["penalty_fen", "posted_fen"]].values.tolist() == [[1235, 0]]


def _policy(app, **sections):
    from recovery import policy

    app.config["POLICY_IN_FORCE"] = dict(app.config["POLICY_IN_FORCE"]) | {
        name: policy.section(name, {name: values}) for name, values in sections.items()}


def test_rates_minimum_and_grace_days_are_configuration(app, recovery, tmp_path, session):
    # Agricultural at 0.05% a day, 3 grace days, minimum 0.50: 1000.00 due 02-20, unpaid to 03-02,
    # accrues 02-24 .. 03-02 = 7 days: 100000 x 7 x 0.0005 = 350 fen.
    _policy(app, penalty={"rates": {"agricultural": {"current_year": "0.0005", "earlier_years": "0.0005"}},
                          "grace_days": 3, "minimum": "0.50"})
    load(recovery, tmp_path, customers=[customer("C1", customer_class="agricultural"), customer("C2")],
         bills=[bill("B1", "C1", "1000.00", "2026-01", "2026-02-03", "2026-02-20"),
                bill("B2", "C2", "10.00", "2026-01", "2026-02-03", "2026-02-20")])
    accrue(session, dt.date(2026, 3, 2))
    assert _penalty_of(session, "B1") == 350
    assert _penalty_of(session, "B2") == 50  # residential keeps its default rate; the minimum is 0.50 now


def test_a_bad_rate_in_the_policy_fails_at_start_up_naming_it():
    import pytest

    from recovery import create_app
    from recovery.errors import Invalid

    with pytest.raises(Invalid, match=r"rates.commercial.earlier_years"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "POLICY": {
            "penalty": {"rates": {"commercial": {"current_year": "0.002", "earlier_years": "3%"}}}}})


def test_backfilling_a_missed_day_leaves_the_later_days_as_they_were(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20")])
    accrue(session, dt.date(2026, 3, 3))  # the night of 03-02 was missed: 11 days -> 1358
    accrue(session, dt.date(2026, 3, 2))  # backfilled: 10 days -> 1235
    as_of = lambda d: session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(  # noqa: E731
        LedgerEntry.kind == EntryKind.penalty, LedgerEntry.effective_on <= d))
    assert (as_of(dt.date(2026, 3, 2)), as_of(dt.date(2026, 3, 3))) == (1235, 1358)
    assert accrue(session, dt.date(2026, 3, 2))["entries"] == 0
    assert accrue(session, dt.date(2026, 3, 3))["entries"] == 0
    accrue(session, dt.date(2026, 3, 4))  # 12 days: 1481.472 -> 1481
    assert as_of(dt.date(2026, 3, 4)) == 1481


def test_two_accruals_at_once_never_count_a_day_twice(app, recovery, tmp_path, session):
    import threading

    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

    from recovery.extensions import db

    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20")])
    expected = {dt.date(2026, 3, 2): 1235, dt.date(2026, 3, 3): 1358}
    barrier = threading.Barrier(2)
    done: list[dt.date] = []

    def run(day: dt.date) -> None:
        with app.app_context(), Session(db.engine) as own:
            barrier.wait()
            try:
                accrue(own, day)
                own.commit()
                done.append(day)
            except DBAPIError:  # a run refused outright must change nothing either (both normally wait their turn)
                own.rollback()

    threads = [threading.Thread(target=run, args=(d,)) for d in expected]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert done
    session.expire_all()
    for day in done:
        assert session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(
            LedgerEntry.kind == EntryKind.penalty, LedgerEntry.effective_on <= day)) == expected[day]


def test_penalties_are_computed_a_chunk_of_customers_at_a_time_with_the_same_totals(recovery, tmp_path, session):
    # On 2026-03-02: C1 residential 1234.56 due 02-20, 10 days at 0.1 % = 12.35; C2 residential 800.00 due 02-25,
    # 5 days (26, 27, 28 February, 1 and 2 March) at 0.1 % = 4.00; C3 commercial 5000.00 due 02-20, 10 days at
    # 0.2 % = 100.00.
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2"), customer("C3", customer_class="commercial")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20"),
                bill("B2", "C2", "800.00", "2026-01", "2026-02-08", "2026-02-25"),
                bill("B3", "C3", "5000.00", "2026-01", "2026-02-03", "2026-02-20")])
    day = dt.date(2026, 3, 2)
    whole = penalties_as_of(session, day)
    assert whole["penalty_fen"].tolist() == [1235, 400, 10000]
    for chunk in (1, 2):  # one customer a chunk, then a chunk of two and one of one
        assert penalties_as_of(session, day, chunk=chunk).equals(whole)
