"""Qualification review (资质审核): the identity number's check digits and the registered capital
against the policy's threshold for the customer's class. The outcome names what the customer must
provide: nothing, a deposit, a guarantee, or prepayment (proposed to a supervisor as new terms).
"""

from __future__ import annotations

import contextlib
import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from recovery import bulk, policy
from recovery.audit import service as audit
from recovery.columns import _valid_resident_id, valid_identity
from recovery.credit.security.models import QualificationReview
from recovery.customers.models import Customer
from recovery.errors import Conflict, DomainError, Invalid
from recovery.timeutil import today

# Stronger outcomes win when several findings call for something: prepayment over a deposit, ...
STRENGTH = {"none": 0, "guarantee": 1, "deposit": 2, "prepayment": 3}


def _identity_ok(numbers: pd.Series, kinds: pd.Series) -> np.ndarray:
    """Whether each number is the kind of identity its class must carry, with correct check characters."""
    def check(number: str, kind: str) -> bool:
        if not number:
            return False
        number = number.strip().upper()
        if kind == "ric":
            return _valid_resident_id(number)
        if kind == "uscc":
            return uscc.is_valid(number)
        return valid_identity(number)

    return np.array([check(n, k) for n, k in zip(numbers.fillna(""), kinds, strict=True)], dtype=bool)


def assess(customers: pd.DataFrame, rule: dict) -> pd.DataFrame:
    """The review's findings and outcome for each customer row (pure, vectorised over the frame).

    `customers` has columns customer_class, id_number, registered_capital_fen.
    """
    kinds = customers["customer_class"].map(rule["identity"]).fillna("uscc")
    number = customers["id_number"].fillna("").astype(str)
    identity_ok = _identity_ok(number, kinds)
    missing_id = (number.str.strip() == "").to_numpy()
    threshold = customers["customer_class"].map(rule["capital_thresholds"])
    capital = customers["registered_capital_fen"]
    checked = threshold.notna().to_numpy()
    capital_missing = checked & capital.isna().to_numpy()
    below = checked & ~capital_missing & (capital.fillna(0).to_numpy() < threshold.fillna(0).to_numpy())

    short_outcome = customers["customer_class"].map(rule["by_class"]).fillna(rule["below_threshold"])
    findings: list[list[str]] = []
    outcomes: list[str] = []
    for i in range(len(customers)):
        found, outcome = [], "none"
        if missing_id[i]:
            found.append("identity_missing")
            outcome = rule["missing_identity"]
        elif not identity_ok[i]:
            found.append("identity_invalid")
            outcome = rule["invalid_identity"]
        if capital_missing[i] or below[i]:
            found.append("capital_missing" if capital_missing[i] else "capital_below_threshold")
            alt = short_outcome.iloc[i]
            outcome = alt if STRENGTH[alt] > STRENGTH[outcome] else outcome
        findings.append(found)
        outcomes.append(outcome)
    return pd.DataFrame({"identity_valid": identity_ok, "threshold_fen": threshold.astype("Int64"),
                         "findings": findings, "outcome": outcomes}, index=customers.index)


def qualify(session: Session, customer_ids: list[int] | None, *, reviewed_by: str,
            as_of: dt.date | None = None) -> list[QualificationReview]:
    """Review the listed customers (all when None) in one pass, store the reviews, and propose
    prepayment terms to a supervisor for those whose outcome is prepayment."""
    from recovery.credit.terms import propose_terms

    as_of = as_of or today()
    rule = policy.section("qualification")
    query = select(Customer.id, Customer.code, Customer.customer_class, Customer.id_number,
                   Customer.registered_capital_fen)
    if customer_ids is not None:
        query = query.where(Customer.id.in_(list(customer_ids)))
    session.flush()  # the read below goes through Core, which does not autoflush pending changes
    frame = bulk.read_frame(session, query.order_by(Customer.id)).set_index("id")
    if frame.empty:
        return []
    frame["registered_capital_fen"] = frame["registered_capital_fen"].astype("Int64")
    result = assess(frame, rule)
    rows = [{"customer_id": int(cid), "reviewed_on": as_of, "identity_valid": bool(r.identity_valid),
             "registered_capital_fen": None if pd.isna(frame.at[cid, "registered_capital_fen"])
             else int(frame.at[cid, "registered_capital_fen"]),
             "threshold_fen": None if pd.isna(r.threshold_fen) else int(r.threshold_fen),
             "outcome": r.outcome, "findings": list(r.findings), "reviewed_by": reviewed_by}
            for cid, r in result.iterrows()]
    session.execute(insert(QualificationReview), rows)
    session.flush()  # the reviews are read back below
    reviews = list(session.scalars(
        select(QualificationReview).where(QualificationReview.customer_id.in_(result.index.tolist()),
                                          QualificationReview.reviewed_on == as_of)
        .order_by(QualificationReview.id.desc())))
    latest: dict[int, QualificationReview] = {}
    for review in reviews:
        latest.setdefault(review.customer_id, review)
    counts = result["outcome"].value_counts().to_dict()
    single = frame["code"].iloc[0] if len(frame) == 1 else None
    audit.record(session, "qualification.reviewed", "customer" if single else "customers", single,
                 actor=reviewed_by, reviewed=len(frame), outcomes={k: int(v) for k, v in counts.items()})
    from recovery.credit.models import TermsBasis

    for cid in result.index[result["outcome"] == "prepayment"]:
        reason = "qualification review: " + ", ".join(result.at[cid, "findings"])
        # Already on prepayment, or a proposal is already waiting: nothing more to propose.
        with contextlib.suppress(Conflict, Invalid):
            propose_terms(session, int(cid), "prepayment", reason, reviewed_by, basis=TermsBasis.qualification)
    return [latest[int(cid)] for cid in result.index]


def review_customer(session: Session, customer: Customer, *, reviewed_by: str) -> QualificationReview:
    """Review one customer (at sign-up or on demand)."""
    try:
        return qualify(session, [customer.id], reviewed_by=reviewed_by)[0]
    except IndexError as e:  # pragma: no cover - the customer was just read
        raise DomainError(f"customer {customer.code} could not be reviewed") from e


def latest_review(session: Session, customer: Customer) -> QualificationReview | None:
    """The customer's most recent qualification review."""
    return session.scalar(select(QualificationReview).where(QualificationReview.customer_id == customer.id)
                          .order_by(QualificationReview.id.desc()).limit(1))


def unreviewed(session: Session) -> list[int]:
    """Customers never reviewed (new sign-ups since the last run)."""
    return list(session.scalars(select(Customer.id).where(
        Customer.id.not_in(select(QualificationReview.customer_id))).order_by(Customer.id)))
