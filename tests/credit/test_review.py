"""The security review: required versus held security, the nightly shortfall list, the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select

from recovery.credit.security import deposits, guarantees
from recovery.credit.security.models import SecurityReviewRow
from recovery.credit.security.review import customer_security, required_security, security_review, shortfalls
from recovery.extensions import db
from recovery.timeutil import today
from tests.credit.security_helpers import cust, load_customers, monthly_bills, rate, set_policy
from tests.factories import customer

DAY = dt.timedelta(days=1)


def _district(recovery, tmp_path) -> None:
    """C1 (grade C), C2 (grade B), C3 (cash-only B): each recommended 1,000.00 (500.00 a month)."""
    load_customers(recovery, tmp_path, customer("C1", "G1"), customer("C2", "G1"), customer("C3", "G2"),
                   bills=[b for c in ("C1", "C2", "C3") for b in monthly_bills(c, ["500.00"] * 12)])
    rate(cust("C1").id, "C")
    rate(cust("C2").id, "B")
    rate(cust("C3").id, "B", cash_only=True)


def test_grade_c_requires_the_recommended_deposit_and_grade_b_none(recovery, tmp_path):
    _district(recovery, tmp_path)
    frame = required_security(db.session, today())
    required = {cust(c).id: c for c in ("C1", "C2", "C3")}
    assert {required[i]: int(v) for i, v in frame["required_fen"].items()} == {"C1": 100_000, "C2": 0, "C3": 100_000}
    assert {required[i]: g for i, g in frame["grade"].items()} == {"C1": "C", "C2": "B", "C3": "B"}


def test_the_nightly_review_lists_customers_whose_held_security_falls_short(recovery, tmp_path):
    _district(recovery, tmp_path)
    deposits.receive(db.session, cust("C3"), amount_fen=100_000, reference="R3", received_by="li")
    summary = security_review(db.session, today())
    db.session.commit()
    rows = db.session.scalars(select(SecurityReviewRow).where(SecurityReviewRow.day == today())).all()
    assert [(r.customer_id, r.grade, r.required_fen, r.held_cash_fen, r.shortfall_fen) for r in rows] == [
        (cust("C1").id, "C", 100_000, 0, 100_000)]
    assert (summary["shortfalls"], summary["shortfall_total_fen"]) == (1, 100_000)


def test_cash_and_guarantees_add_up_when_adequacy_is_checked(recovery, tmp_path):
    _district(recovery, tmp_path)
    c1 = cust("C1")
    deposits.receive(db.session, c1, amount_fen=40_000, reference="R1", received_by="li")
    guarantees.register(db.session, c1, kind="surety", guarantor="东方集团", reference="S-9", amount_fen=60_000,
                        valid_from=today() - DAY, valid_until=today() + 300 * DAY, created_by="li")
    security = customer_security(db.session, c1, today())
    assert (security["required_fen"], security["held_cash_fen"], security["held_guarantees_fen"],
            security["shortfall_fen"]) == (100_000, 40_000, 60_000, 0)
    assert c1.id not in shortfalls(db.session, today()).index


def test_a_shortfall_within_the_tolerance_is_not_listed(recovery, tmp_path):
    _district(recovery, tmp_path)
    deposits.receive(db.session, cust("C1"), amount_fen=90_001, reference="R1", received_by="li")
    deposits.receive(db.session, cust("C3"), amount_fen=89_999, reference="R3", received_by="li")
    listed = shortfalls(db.session, today())
    assert listed["code"].tolist() == ["C3"]  # 100.01 short; C1 is 99.99 short (tolerance 100.00)


def test_required_security_per_grade_comes_from_the_policy(app, recovery, tmp_path):
    _district(recovery, tmp_path)
    set_policy(app, {"deposit": {"required": {"B": "0.5", "C": 2}, "cash_only": 0}})
    frame = required_security(db.session, today())
    assert [int(frame.at[cust(c).id, "required_fen"]) for c in ("C1", "C2", "C3")] == [200_000, 50_000, 50_000]


def test_the_review_rerun_for_a_day_replaces_that_days_list(recovery, tmp_path):
    _district(recovery, tmp_path)
    security_review(db.session, today())
    db.session.commit()
    assert len(db.session.scalars(select(SecurityReviewRow)).all()) == 2
    deposits.receive(db.session, cust("C1"), amount_fen=100_000, reference="R1", received_by="li")
    deposits.receive(db.session, cust("C3"), amount_fen=100_000, reference="R3", received_by="li")
    assert security_review(db.session, today())["shortfalls"] == 0
    db.session.commit()
    assert db.session.scalars(select(SecurityReviewRow)).all() == []
    result_again = security_review(db.session, today())
    assert result_again["shortfalls"] == 0


def test_recovery_credit_review_prints_the_shortfall_list_as_csv(recovery, tmp_path):
    _district(recovery, tmp_path)
    db.session.commit()
    result = recovery("credit", "review")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["customer_id"], r["grade"], r["required"], r["held_cash"], r["held_guarantees"], r["shortfall"])
            for r in rows] == [("C1", "C", "1000.00", "0.00", "0.00", "1000.00"),
                               ("C3", "B", "1000.00", "0.00", "0.00", "1000.00")]
    assert [r["cash_only"] for r in rows] == ["no", "yes"]
    out = tmp_path / "shortfalls.csv"
    assert recovery("credit", "review", "--out", out).exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith(
        "customer_id,grade,required,held_cash,held_guarantees,shortfall")


def test_security_review_job_runs_through_the_job_table(recovery, tmp_path):
    _district(recovery, tmp_path)
    db.session.commit()
    result = recovery("jobs", "run", "credit.security_review", "--date", today().isoformat())
    assert result.exit_code == 0, result.output
    assert len(db.session.scalars(select(SecurityReviewRow)).all()) == 2


def test_the_nightly_review_qualifies_new_sign_ups_once(recovery, tmp_path):
    from recovery.credit.security.models import QualificationReview
    from tests.credit.security_helpers import USCC

    load_customers(recovery, tmp_path, customer("C7", customer_class="commercial", id_number=USCC,
                                                registered_capital="1000.00"))
    assert security_review(db.session, today())["qualified"] == 1
    assert security_review(db.session, today())["qualified"] == 0
    [review] = db.session.scalars(select(QualificationReview)).all()
    assert (review.outcome, review.reviewed_by) == ("deposit", "job:credit.security_review")
    # The review asked for security: the new enterprise is on the list for the policy's minimum.
    assert db.session.scalars(select(SecurityReviewRow.required_fen)).all() == [1_000_000]
