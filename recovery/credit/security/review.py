"""Required versus held security, for one customer or the whole base in one pass, and the nightly
review (credit.security_review) that lists the customers whose held security falls short."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from recovery import bulk, policy
from recovery.credit.security import guarantees
from recovery.credit.security.deposits import held_cash, recommended_deposits
from recovery.credit.security.models import QualificationReview, SecurityReviewRow
from recovery.customers.models import Customer, Grid
from recovery.money import format_yuan_array

CSV_COLUMNS = ["customer_id", "grade", "required", "held_cash", "held_guarantees", "shortfall", "recommended",
               "cash_only", "grid"]
NEEDS_SECURITY = ("deposit", "guarantee")
REVIEW_ACTOR = "job:credit.security_review"


def latest_qualification(session: Session, customer_ids: list[int] | None = None) -> pd.Series:
    """Each customer's latest qualification outcome (customers never reviewed absent)."""
    latest = select(func.max(QualificationReview.id)).group_by(QualificationReview.customer_id)
    query = select(QualificationReview.customer_id, QualificationReview.outcome).where(
        QualificationReview.id.in_(latest))
    if customer_ids is not None:
        query = query.where(QualificationReview.customer_id.in_(list(customer_ids)))
    return bulk.read_frame(session, query).set_index("customer_id")["outcome"]


def _ceil_multiple(recommended: np.ndarray, factor: pd.Series, step: int) -> np.ndarray:
    """recommended x factor (exact Decimals), rounded up to the step; done per distinct factor (few)."""
    out = np.zeros(len(recommended), dtype="int64")
    for value, where in factor.groupby(factor).indices.items():
        num, den = Decimal(value).as_integer_ratio()
        amount = -((-recommended[where] * int(num)) // int(den))
        out[where] = -((-amount) // step) * step
    return out


def required_security(session: Session, as_of: dt.date, customer_ids: list[int] | None = None,
                      ratings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Required and held security per customer (index customers.id), from a few set-based queries.

    required = recommended deposit x the policy's factor for the customer's grade, at least the
    cash-only factor for cash-only customers, and at least the recommended deposit itself when the
    latest qualification review asked for a deposit or a guarantee. Cash and guarantees add up.
    `ratings` (grade and cash_only per customer id) when the caller has read them already.
    """
    from recovery.credit.rating.ratings import current_ratings

    rule = policy.section("deposit")
    frame = recommended_deposits(session, as_of, customer_ids)
    ratings = (current_ratings(session, customer_ids) if ratings is None else ratings).reindex(frame.index)
    frame["grade"] = ratings["grade"].astype(object)
    frame["cash_only"] = ratings["cash_only"].fillna(False).astype(bool)
    qualification = latest_qualification(session, customer_ids).reindex(frame.index)
    frame["qualification"] = qualification.astype(object)

    factor = frame["grade"].map(rule["required"]).astype(object)
    factor = factor.where(factor.notna(), rule["unrated"])
    # Floors, as exact Decimals: cash-only customers, and customers the qualification review asked security of.
    for needs, floor in ((frame["cash_only"], rule["cash_only"]),
                         (frame["qualification"].isin(NEEDS_SECURITY), Decimal(1))):
        factor = factor.where(~(needs & (factor < floor)), floor)
    required = _ceil_multiple(frame["recommended_fen"].to_numpy(), factor.reset_index(drop=True), rule["round_to"])
    asked = frame["qualification"].isin(NEEDS_SECURITY).to_numpy()
    floor = policy.section("qualification")["minimum_security"]
    frame["required_fen"] = np.where(asked, np.maximum(required, floor), required).astype("int64")
    frame["held_cash_fen"] = held_cash(session, as_of, customer_ids).reindex(frame.index).fillna(0).astype("int64")
    frame["held_guarantees_fen"] = (guarantees.held_guarantees(session, as_of, customer_ids)
                                    .reindex(frame.index).fillna(0).astype("int64"))
    frame["shortfall_fen"] = (frame["required_fen"] - frame["held_cash_fen"] - frame["held_guarantees_fen"]).clip(
        lower=0).astype("int64")
    return frame


def shortfalls(session: Session, as_of: dt.date) -> pd.DataFrame:
    """Customers whose held security falls short of what their rating requires by more than the
    policy's tolerance, largest shortfall first; with their code and grid."""
    frame = required_security(session, as_of)
    frame = frame[frame["shortfall_fen"] > policy.section("deposit")["tolerance"]]
    codes = bulk.read_frame(session, select(Customer.id.label("customer_id"), Customer.code,
                                            Grid.code.label("grid")).join(Grid, Grid.id == Customer.grid_id)
                            .where(Customer.id.in_(frame.index.tolist()))).set_index("customer_id")
    frame = frame.join(codes)
    return frame.sort_values(["shortfall_fen", "code"], ascending=[False, True])


def security_review(session: Session, day: dt.date) -> dict:
    """Job credit.security_review: qualification review of new sign-ups, guarantee statuses for the day,
    expiry tasks (never twice), and the day's shortfall list stored (a rerun replaces the day's list)."""
    from recovery.credit.security.qualification import qualify, unreviewed

    signed_up = unreviewed(session)
    if signed_up:
        qualify(session, signed_up, reviewed_by=REVIEW_ACTOR, as_of=day)
    statuses = guarantees.refresh_statuses(session, day)
    tasks = guarantees.raise_expiry_tasks(session, day)
    closed = guarantees.close_settled_tasks(session)
    frame = shortfalls(session, day)
    session.execute(delete(SecurityReviewRow).where(SecurityReviewRow.day == day))
    if not frame.empty:
        session.execute(insert(SecurityReviewRow), [
            {"day": day, "customer_id": int(cid), "grade": r.grade if isinstance(r.grade, str) else None,
             "cash_only": bool(r.cash_only), "recommended_fen": int(r.recommended_fen),
             "required_fen": int(r.required_fen), "held_cash_fen": int(r.held_cash_fen),
             "held_guarantees_fen": int(r.held_guarantees_fen), "shortfall_fen": int(r.shortfall_fen)}
            for cid, r in frame.iterrows()])
    return {"shortfalls": len(frame), "shortfall_total_fen": int(frame["shortfall_fen"].sum()),
            "qualified": len(signed_up), "tasks_raised": tasks, "tasks_closed": closed,
            **{f"guarantees_{k}": v for k, v in statuses.items()}}


def shortfall_csv(frame: pd.DataFrame) -> str:
    """The shortfall list as CSV (customer_id, grade, required, held_cash, held_guarantees, shortfall, ...)."""
    out = pd.DataFrame({
        "customer_id": frame["code"].to_numpy(),
        "grade": frame["grade"].fillna("").to_numpy(),
        "required": format_yuan_array(frame["required_fen"]).to_numpy(),
        "held_cash": format_yuan_array(frame["held_cash_fen"]).to_numpy(),
        "held_guarantees": format_yuan_array(frame["held_guarantees_fen"]).to_numpy(),
        "shortfall": format_yuan_array(frame["shortfall_fen"]).to_numpy(),
        "recommended": format_yuan_array(frame["recommended_fen"]).to_numpy(),
        "cash_only": np.where(frame["cash_only"].to_numpy(dtype=bool), "yes", "no"),
        "grid": frame["grid"].to_numpy(),
    }, columns=CSV_COLUMNS)
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def customer_security(session: Session, customer: Customer, as_of: dt.date, rating: dict | None = None) -> dict:
    """Required versus held security of one customer, for its page and the API (`rating`: its grade and
    cash_only, when the caller has them)."""
    known = None if rating is None else pd.DataFrame(
        {"grade": [rating["grade"]], "cash_only": [rating["cash_only"]]}, index=[customer.id])
    row = required_security(session, as_of, [customer.id], known).iloc[0]
    return {
        "grade": row["grade"] if isinstance(row["grade"], str) else None,
        "cash_only": bool(row["cash_only"]),
        "qualification": row["qualification"] if isinstance(row["qualification"], str) else None,
        "months_billed": int(row["months_billed"]),
        "recommended_fen": int(row["recommended_fen"]),
        "required_fen": int(row["required_fen"]),
        "held_cash_fen": int(row["held_cash_fen"]),
        "held_guarantees_fen": int(row["held_guarantees_fen"]),
        "shortfall_fen": int(row["shortfall_fen"]),
        "within_tolerance": int(row["shortfall_fen"]) <= policy.section("deposit")["tolerance"],
    }
