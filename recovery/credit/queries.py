"""Reads for the credit and security pages: a customer's credit standing, settlement terms, proposals waiting
for a supervisor, and the deposits and guarantees that security requests are about."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Row, String, cast, select
from sqlalchemy.orm import Session

from recovery.approvals import service as approvals
from recovery.approvals.models import ApprovalRequest, ApprovalStatus
from recovery.credit import terms
from recovery.credit.models import SettlementTerms
from recovery.credit.rating import overrides
from recovery.credit.rating.ratings import current_ratings, history
from recovery.credit.security.models import Deposit, Guarantee
from recovery.customers.models import Customer

PROPOSALS_LISTED = 500


def pending_terms(session: Session, code: str) -> ApprovalRequest | None:
    """The change of the customer's settlement terms waiting for a supervisor, if any."""
    return approvals.waiting(session, terms.KIND, "customer", [code]).get(code)


def rating_of(session: Session, customer: Customer) -> dict:
    """Everything about one customer's credit standing, for the page and the API."""
    now_ = current_ratings(session, [customer.id]).iloc[0]
    rows = history(session, customer.id)
    t = terms.current_terms(session, [customer.id]).iloc[0]
    return {
        "customer_id": customer.code, "grade": now_["grade"], "points": int(now_["points"]),
        "cash_only": bool(now_["cash_only"]), "overridden": bool(now_["overridden"]),
        "override": overrides.in_force(session, customer.id), "computed": rows[-1] if rows else None,
        "history": rows, "terms": t["terms"], "terms_basis": t["basis"],
        "pending_terms": pending_terms(session, customer.code),
    }


def settlement_terms_of(session: Session, customer: Customer) -> SettlementTerms | None:
    """The customer's stored settlement terms; None while the customer is on the default terms."""
    return session.scalar(select(SettlementTerms).where(SettlementTerms.customer_id == customer.id))


def terms_proposals(session: Session) -> Sequence[Row[tuple[ApprovalRequest, str]]]:
    """Pending changes of settlement terms with the customer's name, oldest first."""
    return session.execute(
        select(ApprovalRequest, Customer.name).join(Customer, Customer.code == ApprovalRequest.subject_id)
        .where(ApprovalRequest.kind == terms.KIND, ApprovalRequest.status == ApprovalStatus.pending)
        .order_by(ApprovalRequest.requested_at, ApprovalRequest.id).limit(PROPOSALS_LISTED)).all()


def pending_security_requests(session: Session, customer: Customer, kinds: Iterable[str]) -> list[ApprovalRequest]:
    """Pending requests of these kinds about the customer's deposits and guarantees, oldest first."""
    # One statement: a request names its deposit or guarantee by id, as text.
    deposits = select(cast(Deposit.id, String)).where(Deposit.customer_id == customer.id)
    guarantees = select(cast(Guarantee.id, String)).where(Guarantee.customer_id == customer.id)
    return list(session.scalars(select(ApprovalRequest).where(
        ApprovalRequest.status == ApprovalStatus.pending, ApprovalRequest.kind.in_(kinds),
        ((ApprovalRequest.subject_type == "deposit") & ApprovalRequest.subject_id.in_(deposits))
        | ((ApprovalRequest.subject_type == "guarantee") & ApprovalRequest.subject_id.in_(guarantees)))
        .order_by(ApprovalRequest.id)))


def security_subjects(session: Session, requests: list[ApprovalRequest]
                      ) -> tuple[dict[str, Deposit], dict[str, Guarantee], dict[int, Customer]]:
    """The deposits and the guarantees these requests are about, by subject id, and their customers by id."""
    deposits = {str(d.id): d for d in session.scalars(select(Deposit).where(Deposit.id.in_(
        [int(r.subject_id) for r in requests if r.subject_type == "deposit"])))}
    guarantees = {str(g.id): g for g in session.scalars(select(Guarantee).where(Guarantee.id.in_(
        [int(r.subject_id) for r in requests if r.subject_type == "guarantee"])))}
    owners = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(
        [x.customer_id for x in [*deposits.values(), *guarantees.values()]])))}
    return deposits, guarantees, owners
