"""Reads for the credit and security pages: settlement terms, proposals waiting for a supervisor, and the
deposits and guarantees that security requests are about."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Row, String, cast, select
from sqlalchemy.orm import Session

from recovery.approvals.models import ApprovalRequest, ApprovalStatus
from recovery.credit import terms
from recovery.credit.models import SettlementTerms
from recovery.credit.security.models import Deposit, Guarantee
from recovery.customers.models import Customer

PROPOSALS_LISTED = 500


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
