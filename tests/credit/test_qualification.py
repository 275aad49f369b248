"""Qualification review: identity check digits, registered capital per class, the outcome."""

from __future__ import annotations

import json

from sqlalchemy import select

from recovery.approvals.models import ApprovalRequest
from recovery.credit.security.qualification import latest_review, qualify, review_customer
from recovery.credit.security.review import customer_security
from recovery.extensions import db
from recovery.timeutil import today
from tests.credit.security_helpers import RESIDENT_ID, USCC, cust, load_customers, set_policy
from tests.factories import customer


def _load(recovery, tmp_path, *rows) -> None:
    load_customers(recovery, tmp_path, *rows)


def test_an_enterprise_with_a_valid_credit_code_and_enough_capital_provides_nothing(recovery, tmp_path):
    _load(recovery, tmp_path, customer("C1", customer_class="industrial", id_number=USCC,
                                       registered_capital="2000000.00"))
    review = review_customer(db.session, cust("C1"), reviewed_by="li")
    assert (review.outcome, review.findings, review.identity_valid, review.threshold_fen) == (
        "none", [], True, 100_000_000)


def test_registered_capital_below_the_class_threshold_asks_for_a_deposit(recovery, tmp_path):
    _load(recovery, tmp_path, customer("C1", customer_class="commercial", id_number=USCC,
                                       registered_capital="499999.99"),
          customer("C2", customer_class="commercial", id_number=USCC))
    [short, unknown] = qualify(db.session, [cust("C1").id, cust("C2").id], reviewed_by="li")
    assert (short.outcome, short.findings) == ("deposit", ["capital_below_threshold"])
    assert (unknown.outcome, unknown.findings) == ("deposit", ["capital_missing"])


def test_what_a_class_short_of_capital_provides_comes_from_the_policy(app, recovery, tmp_path):
    _load(recovery, tmp_path, customer("C1", customer_class="property_mgmt", id_number=USCC,
                                       registered_capital="100000.00"))
    set_policy(app, {"qualification": {"by_class": {"property_mgmt": "guarantee"},
                                       "capital_thresholds": {"property_mgmt": "50000.00"}}})
    assert review_customer(db.session, cust("C1"), reviewed_by="li").outcome == "none"
    set_policy(app, {"qualification": {"by_class": {"property_mgmt": "guarantee"}}})
    assert review_customer(db.session, cust("C1"), reviewed_by="li").outcome == "guarantee"


def test_a_wrong_check_character_puts_the_customer_on_prepayment_for_a_supervisor_to_approve(recovery, tmp_path):
    _load(recovery, tmp_path, customer("C1", customer_class="commercial", id_number=USCC,
                                       registered_capital="9000000.00"))
    c = cust("C1")
    c.id_number = USCC[:-1] + "M"  # entered at the counter with a typo (imports refuse such numbers)
    review = review_customer(db.session, c, reviewed_by="li")
    assert (review.outcome, review.findings, review.identity_valid) == ("prepayment", ["identity_invalid"], False)
    [proposal] = db.session.scalars(select(ApprovalRequest).where(ApprovalRequest.kind == "terms.change")).all()
    assert (proposal.subject_id, proposal.payload["terms"], proposal.payload["basis"], proposal.status) == (
        "C1", "prepayment", "qualification", "pending")
    # Reviewing again while the proposal waits files no second one.
    review_customer(db.session, c, reviewed_by="li")
    assert len(db.session.scalars(select(ApprovalRequest).where(ApprovalRequest.kind == "terms.change")).all()) == 1


def test_an_enterprise_must_carry_a_credit_code_and_a_household_a_resident_id(recovery, tmp_path):
    _load(recovery, tmp_path, customer("C1", customer_class="commercial", id_number=RESIDENT_ID,
                                       registered_capital="9000000.00"),
          customer("C2", customer_class="residential", id_number=RESIDENT_ID),
          customer("C3", customer_class="residential"))
    enterprise, household, nobody = qualify(db.session, None, reviewed_by="li")
    assert (enterprise.outcome, enterprise.findings) == ("prepayment", ["identity_invalid"])
    assert (household.outcome, household.findings, household.threshold_fen) == ("none", [], None)
    assert (nobody.outcome, nobody.findings) == ("none", ["identity_missing"])  # reported only, by default


def test_a_missing_identity_number_can_require_prepayment_by_policy(app, recovery, tmp_path):
    _load(recovery, tmp_path, customer("C1", customer_class="residential"))
    set_policy(app, {"qualification": {"missing_identity": "prepayment"}})
    assert review_customer(db.session, cust("C1"), reviewed_by="li").outcome == "prepayment"


def test_a_review_asking_for_security_raises_the_required_security(recovery, tmp_path):
    _load(recovery, tmp_path, customer("C1", customer_class="commercial", id_number=USCC,
                                       registered_capital="1000.00"))
    c = cust("C1")
    assert customer_security(db.session, c, today())["required_fen"] == 0
    review_customer(db.session, c, reviewed_by="li")
    security = customer_security(db.session, c, today())
    # A new enterprise has no bills to average: the policy's minimum security applies.
    assert (security["qualification"], security["required_fen"]) == ("deposit", 1_000_000)
    assert latest_review(db.session, c).outcome == "deposit"


def test_recovery_credit_qualify_prints_each_outcome(recovery, tmp_path):
    _load(recovery, tmp_path, customer("C1", customer_class="commercial", id_number=USCC,
                                       registered_capital="10.00"),
          customer("C2", customer_class="residential", id_number=RESIDENT_ID))
    result = recovery("credit", "qualify", "C1", "C2")
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.output.splitlines()] == [
        {"customer_id": "C1", "outcome": "deposit", "findings": ["capital_below_threshold"]},
        {"customer_id": "C2", "outcome": "none", "findings": []}]
    assert recovery("credit", "qualify").exit_code == 1
    _load(recovery, tmp_path, customer("C3", customer_class="residential", id_number=RESIDENT_ID))
    signed_up = recovery("credit", "qualify", "--unreviewed")
    assert [json.loads(line)["customer_id"] for line in signed_up.output.splitlines()] == ["C3"]
    assert recovery("credit", "qualify", "--unreviewed").output == ""


def test_a_qualification_review_on_demand_through_the_api(client, recovery, tmp_path, monkeypatch):
    from tests.credit.security_helpers import staff
    from tests.credit.test_deposit_api import sign_in
    from tests.web.data import cheap_password_hashing

    cheap_password_hashing(monkeypatch)
    _load(recovery, tmp_path, customer("C1", "G1", customer_class="industrial", id_number=USCC,
                                       registered_capital="20000.00"))
    staff()
    sign_in(client, "li")
    assert client.get("/api/v1/customers/C1/qualification").status_code == 404
    made = client.post("/api/v1/customers/C1/qualification", json={})
    assert made.status_code == 201, made.get_json()
    doc = client.get("/api/v1/customers/C1/qualification").get_json()
    assert {k: doc[k] for k in ("outcome", "findings", "identity_valid", "registered_capital", "threshold")} == {
        "outcome": "deposit", "findings": ["capital_below_threshold"], "identity_valid": True,
        "registered_capital": "20000.00", "threshold": "1000000.00"}
