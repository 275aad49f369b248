"""Imports every model so that the metadata (and Alembic) sees the whole schema."""

from recovery.approvals.models import ApprovalRequest
from recovery.assessment.models import ClosedAssessment
from recovery.audit.models import AuditEntry
from recovery.auth.models import LoginThrottle, User, officer_grids
from recovery.bigcustomers.models import BigCustomer, EnterpriseContact, StrategicCustomer
from recovery.billing.models import Bill
from recovery.buildings.models import Building, BuildingResident, ClearanceFlag, PayerLink, PropertyCompany
from recovery.collections.models import (
    BillHold,
    CollectionExemption,
    DisconnectionOrder,
    DunningChange,
    DunningState,
    PayPlan,
    PayPlanInstallment,
    Promise,
    Visit,
    WorkItem,
)
from recovery.collections.writeoff.models import Referral, WriteOff
from recovery.credit.models import CreditOverride, CreditRating, InterimBill, SettlementTerms
from recovery.credit.security.models import (
    Deposit,
    DepositEntry,
    Guarantee,
    QualificationReview,
    SecurityReviewRow,
    SecurityTask,
)
from recovery.customers.models import Customer, Grid
from recovery.disputes.models import Dispute
from recovery.events.models import Event
from recovery.jobs.models import JobLock, JobRun
from recovery.ledger.correction_models import BillCorrection
from recovery.ledger.models import Allocation, LedgerEntry, PenaltyAllocation
from recovery.loss.models import Area, AreaMonth, AreaReading, Inspection, Suspect, TipOff
from recovery.notifications.models import Notification
from recovery.payments.direct_debit.models import DebitBatch, DebitItem, DebitItemBill, DebitMandate
from recovery.payments.models import (
    Agent,
    AgentForfeiture,
    AgentSecret,
    Card,
    CardBatch,
    CardSale,
    CashierDrawer,
    Distributor,
    DistributorRemittance,
    IdempotencyKey,
    Kiosk,
    KioskCollection,
    KioskIdempotencyKey,
    KioskSecret,
    Payment,
    PrepaidAccount,
    Receipt,
    Remittance,
)
from recovery.payments.terms_models import AgentCommission, DistributorArea
from recovery.reconcile.models import (
    ReconBreak,
    ReconMatch,
    ReconRun,
    Statement,
    StatementFile,
    StatementLine,
    SuspenseItem,
)
from recovery.reports.models import GridFigure
from recovery.risk.models import RiskScore
from recovery.worklist.models import AccountManager, CustomerSegment

__all__ = [
    "AccountManager",
    "Agent",
    "AgentCommission",
    "AgentForfeiture",
    "AgentSecret",
    "Allocation",
    "ApprovalRequest",
    "Area",
    "AreaMonth",
    "AreaReading",
    "AuditEntry",
    "BigCustomer",
    "Bill",
    "BillCorrection",
    "BillHold",
    "Building",
    "BuildingResident",
    "Card",
    "CardBatch",
    "CardSale",
    "CashierDrawer",
    "ClearanceFlag",
    "ClosedAssessment",
    "CollectionExemption",
    "CreditOverride",
    "CreditRating",
    "Customer",
    "CustomerSegment",
    "DebitBatch",
    "DebitItem",
    "DebitItemBill",
    "DebitMandate",
    "Deposit",
    "DepositEntry",
    "DisconnectionOrder",
    "Dispute",
    "Distributor",
    "DistributorArea",
    "DistributorRemittance",
    "DunningChange",
    "DunningState",
    "EnterpriseContact",
    "Event",
    "Grid",
    "GridFigure",
    "Guarantee",
    "IdempotencyKey",
    "Inspection",
    "InterimBill",
    "JobLock",
    "JobRun",
    "Kiosk",
    "KioskCollection",
    "KioskIdempotencyKey",
    "KioskSecret",
    "LedgerEntry",
    "LoginThrottle",
    "Notification",
    "PayPlan",
    "PayPlanInstallment",
    "PayerLink",
    "Payment",
    "PenaltyAllocation",
    "PrepaidAccount",
    "Promise",
    "PropertyCompany",
    "QualificationReview",
    "Receipt",
    "ReconBreak",
    "ReconMatch",
    "ReconRun",
    "Referral",
    "Remittance",
    "RiskScore",
    "SecurityReviewRow",
    "SecurityTask",
    "SettlementTerms",
    "Statement",
    "StatementFile",
    "StatementLine",
    "StrategicCustomer",
    "Suspect",
    "SuspenseItem",
    "TipOff",
    "User",
    "Visit",
    "WorkItem",
    "WriteOff",
    "officer_grids",
]
