"""Deposits: the recommended amount, receipt as a liability, application, refund, the append-only ledger."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from recovery.approvals.models import ApprovalRequest
from recovery.approvals.service import decide
from recovery.audit.models import AuditEntry
from recovery.credit.security import deposits
from recovery.credit.security.models import Deposit, DepositEntry, DepositStatus
from recovery.errors import Conflict, Forbidden, Invalid
from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.payments.models import Payment
from recovery.portfolio import service as customers
from recovery.timeutil import today
from tests.credit.security_helpers import cust, load_customers, monthly_bills, one_customer, set_policy
from tests.factories import customer

AS_OF = dt.date(2026, 6, 15)
LAST = dt.date(2026, 6, 3)


def _recommended(code: str = "C1", as_of: dt.date = AS_OF) -> int:
    frame = deposits.recommended_deposits(db.session, as_of, [cust(code).id])
    return int(frame["recommended_fen"].iloc[0])


def _balance(customer_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                                 .where(LedgerEntry.customer_id == customer_id)))


def _held(deposit: Deposit) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(DepositEntry.amount_fen), 0)).where(
        DepositEntry.deposit_id == deposit.id, DepositEntry.kind != "requested")))


# ---------------------------------------------------------------- the recommended amount


def test_recommended_deposit_is_twice_the_average_monthly_bill_of_the_last_12_months(recovery, tmp_path):
    # Two old months of 10,000 fall outside the window; the last twelve alternate 100 and 200.50.
    amounts = ["10000.00", "10000.00"] + ["100.00", "200.50"] * 6
    load_customers(recovery, tmp_path, customer("C1", customer_class="commercial"),
                   bills=monthly_bills("C1", amounts, last_issued=LAST))
    # 2 x (600 + 1203) / 12 = 300.50, rounded up to whole yuan.
    assert _recommended() == 30100


def test_recommended_deposit_averages_over_the_months_actually_billed(recovery, tmp_path):
    load_customers(recovery, tmp_path, customer("C1"), bills=monthly_bills("C1", ["90.00", "110.00"], last_issued=LAST))
    assert _recommended() == 20000  # 2 x 100, not 2 x 200 / 12


def test_recommended_deposit_is_capped_and_has_a_floor_from_the_policy(app, recovery, tmp_path):
    load_customers(recovery, tmp_path, customer("C1", customer_class="industrial"), customer("C2"),
                   customer("C3", customer_class="commercial"),
                   bills=monthly_bills("C1", ["900000.00"] * 3, last_issued=LAST)
                   + monthly_bills("C2", ["900000.00"] * 3, last_issued=LAST))
    set_policy(app, {"deposit": {"cap": "1000000.00", "by_class": {"industrial": {"multiple": 3, "cap": ""},
                                                                    "commercial": {"minimum": "5000.00"}}}})
    assert _recommended("C1") == 270_000_000  # industrial: 3x, no cap
    assert _recommended("C2") == 100_000_000  # the section's cap
    assert _recommended("C3") == 500_000  # no bills: the class's floor


def test_recommended_deposits_for_every_customer_come_from_one_query(recovery, tmp_path):
    load_customers(recovery, tmp_path, customer("C1"), customer("C2"), customer("C3"),
                   bills=monthly_bills("C1", ["100.00"], last_issued=LAST) + monthly_bills("C2", ["50.00"],
                                                                                            last_issued=LAST))
    frame = deposits.recommended_deposits(db.session, AS_OF)
    by_code = {cust(c).id: c for c in ("C1", "C2", "C3")}
    assert {by_code[i]: int(v) for i, v in frame["recommended_fen"].items()} == {"C1": 20000, "C2": 10000, "C3": 0}


def test_a_top_up_within_the_tolerance_is_not_requested(recovery, tmp_path):
    c = one_customer(recovery, tmp_path, amounts=["500.00"] * 12)  # recommends 1,000.00
    deposits.receive(db.session, c, amount_fen=95_000, reference="R1", received_by="li")
    # 50.00 short: within the default tolerance of 100.00.
    with pytest.raises(Invalid, match="within the tolerance"):
        deposits.request_deposit(db.session, c, requested_by="li", reason="top-up")
    assert deposits.top_up(db.session, c, today()) == 0


def test_a_top_up_beyond_the_tolerance_requests_the_difference(recovery, tmp_path):
    c = one_customer(recovery, tmp_path, amounts=["500.00"] * 12)
    deposits.receive(db.session, c, amount_fen=80_000, reference="R1", received_by="li")
    d = deposits.request_deposit(db.session, c, requested_by="li", reason="top-up")
    assert (d.requested_fen, d.status) == (20_000, DepositStatus.requested)
    with pytest.raises(Conflict, match="still waiting"):
        deposits.request_deposit(db.session, c, requested_by="li", reason="again", amount_fen=100)


# ---------------------------------------------------------------- receipt: a liability, never income


def test_a_received_deposit_is_a_liability_and_leaves_the_bill_balance_alone(recovery, tmp_path):
    c = one_customer(recovery, tmp_path, amounts=["300.00", "300.00"])
    balance, ledger_rows = _balance(c.id), db.session.scalar(select(func.count()).select_from(LedgerEntry))
    d = deposits.request_deposit(db.session, c, requested_by="li", reason="qualification", amount_fen=60_000)
    entry = deposits.receive(db.session, c, amount_fen=60_000, reference="BANK-77", received_by="li")
    db.session.commit()
    assert _balance(c.id) == balance == 60_000
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == ledger_rows
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    db.session.refresh(d)
    assert (entry.deposit_id, d.status, d.held_fen, _held(d), d.received_on) == (d.id, "held", 60_000, 60_000,
                                                                                 today())
    assert db.session.scalar(select(AuditEntry.details).where(AuditEntry.action == "deposit.received"))["amount"] \
        == "600.00"


def test_a_receipt_reference_is_recorded_only_once(recovery, tmp_path):
    c = one_customer(recovery, tmp_path)
    deposits.receive(db.session, c, amount_fen=10_000, reference="R1", received_by="li")
    with pytest.raises(Conflict, match="already recorded"):
        deposits.receive(db.session, c, amount_fen=10_000, reference="R1", received_by="li")
    assert deposits.held_cash(db.session, today(), [c.id]).sum() == 10_000


def test_deposit_entries_are_append_only(recovery, tmp_path, session):
    c = one_customer(recovery, tmp_path)
    deposits.receive(session, c, amount_fen=10_000, reference="R1", received_by="li")
    session.commit()
    for statement in ("UPDATE deposit_entries SET amount_fen = 1", "DELETE FROM deposit_entries"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert session.scalar(select(func.sum(DepositEntry.amount_fen)).where(DepositEntry.kind == "received")) == 10_000


# ---------------------------------------------------------------- application against arrears (four eyes)


def _arrears_customer(recovery, tmp_path, held_fen: int = 50_000):
    # Three bills of 300.00, all past due; a deposit of `held_fen` received.
    c = one_customer(recovery, tmp_path, amounts=["300.00"] * 3, last_issued=today() - dt.timedelta(days=40))
    deposits.receive(db.session, c, amount_fen=held_fen, reference="R1", received_by="li")
    db.session.commit()
    return c, db.session.scalar(select(Deposit).where(Deposit.customer_id == c.id))


def test_applying_a_deposit_needs_a_supervisor_and_settles_the_oldest_bills(recovery, tmp_path):
    c, d = _arrears_customer(recovery, tmp_path)
    req = deposits.propose_application(db.session, d, requested_by="li", reason="arrears of three months")
    assert req.payload == {"amount_fen": 50_000}
    assert _balance(c.id) == 90_000  # nothing moves before the approval
    with pytest.raises(Forbidden):
        decide(db.session, req.id, approve=True, decided_by="li", role="supervisor")  # not one's own request
    with pytest.raises(Forbidden):
        decide(db.session, req.id, approve=True, decided_by="wang", role="officer")
    decide(db.session, req.id, approve=True, decided_by="zhao", role="supervisor")
    db.session.commit()

    payment = db.session.scalar(select(Payment).where(Payment.customer_id == c.id))
    applied = db.session.scalar(select(DepositEntry).where(DepositEntry.kind == "applied"))
    assert (payment.channel, payment.channel_account, payment.channel_ref, payment.amount_fen) == (
        "deposit", "DEPOSIT", str(applied.id), 50_000)
    assert (applied.amount_fen, applied.approval_id) == (-50_000, req.id)
    assert _balance(c.id) == 40_000
    paid = {b["code"][-6:]: b["paid_fen"] for b in customers.bills(db.session, c)}
    assert sorted(paid.values()) == [0, 20_000, 30_000]  # oldest bill paid in full, then the next
    oldest = min(b["due_on"] for b in customers.bills(db.session, c))
    assert next(b["paid_fen"] for b in customers.bills(db.session, c) if b["due_on"] == oldest) == 30_000
    db.session.refresh(d)
    assert (d.held_fen, d.status, _held(d)) == (0, "closed", 0)


def test_a_deposit_cannot_be_applied_beyond_the_arrears_or_what_is_held(recovery, tmp_path):
    _c, d = _arrears_customer(recovery, tmp_path, held_fen=200_000)
    with pytest.raises(Invalid, match="more than the arrears"):
        deposits.propose_application(db.session, d, requested_by="li", reason="x", amount_fen=100_000)
    with pytest.raises(Invalid, match="holds only"):
        deposits.propose_refund(db.session, d, requested_by="li", reason="x", amount_fen=300_000)
    req = deposits.propose_application(db.session, d, requested_by="li", reason="x")
    assert req.payload["amount_fen"] == 90_000


def test_two_approvals_cannot_pay_out_the_same_deposit_money_twice(recovery, tmp_path):
    c, d = _arrears_customer(recovery, tmp_path, held_fen=50_000)
    apply = deposits.propose_application(db.session, d, requested_by="li", reason="arrears")
    refund = deposits.propose_refund(db.session, d, requested_by="li", reason="customer leaves")
    db.session.commit()
    decide(db.session, refund.id, approve=True, decided_by="zhao", role="supervisor")
    db.session.commit()
    with pytest.raises(Conflict, match="cannot be taken"):
        decide(db.session, apply.id, approve=True, decided_by="qian", role="supervisor")
    db.session.rollback()
    assert db.session.get(ApprovalRequest, apply.id).status == "pending"
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert _balance(c.id) == 90_000
    assert _held(db.session.get(Deposit, d.id)) == 0


def test_a_refund_after_approval_returns_the_money_without_touching_the_bill_balance(recovery, tmp_path):
    c, d = _arrears_customer(recovery, tmp_path, held_fen=50_000)
    req = deposits.propose_refund(db.session, d, requested_by="li", reason="account closed", amount_fen=20_000)
    decide(db.session, req.id, approve=True, decided_by="zhao", role="supervisor")
    db.session.commit()
    db.session.refresh(d)
    assert (d.held_fen, d.status, _held(d)) == (30_000, "held", 30_000)
    assert _balance(c.id) == 90_000
    refunded = db.session.scalar(select(DepositEntry).where(DepositEntry.kind == "refunded"))
    assert (refunded.amount_fen, refunded.approval_id, refunded.created_by) == (-20_000, req.id, "zhao")


def test_a_rejected_application_changes_nothing(recovery, tmp_path):
    c, d = _arrears_customer(recovery, tmp_path)
    req = deposits.propose_application(db.session, d, requested_by="li", reason="arrears")
    decide(db.session, req.id, approve=False, decided_by="zhao", role="supervisor", note="talk to them first")
    db.session.commit()
    assert (_balance(c.id), _held(d), db.session.get(ApprovalRequest, req.id).status) == (90_000, 50_000, "rejected")


def test_payment_imports_refuse_the_internal_deposit_and_guarantee_channels(recovery, tmp_path):
    from tests.factories import PAYMENT_COLUMNS, payment, write_csv

    one_customer(recovery, tmp_path, amounts=["100.00"])
    path = write_csv(tmp_path / "p.csv", PAYMENT_COLUMNS, [payment("X1", channel="deposit", account="DEPOSIT"),
                                                            payment("X2", channel="guarantee", account="G")])
    result = recovery("import", "payments", path)
    assert result.exit_code == 1
    assert "channel: must be one of bank, direct_debit, agent, card, kiosk, counter" in result.output
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_deposits_on_the_command_line(recovery, tmp_path):
    import json

    one_customer(recovery, tmp_path, amounts=["500.00"] * 12)
    assert json.loads(recovery("credit", "deposit", "recommend", "C1").output)["recommended"] == "1000.00"
    asked = recovery("credit", "deposit", "request", "C1", "--reason", "sign-up")
    assert asked.exit_code == 0 and "1000.00 requested" in asked.output, asked.output
    got = recovery("credit", "deposit", "receive", "C1", "--amount", "1000.00", "--reference", "BANK-9")
    assert got.exit_code == 0, got.output
    again = recovery("credit", "deposit", "receive", "C1", "--amount", "1000.00", "--reference", "BANK-9")
    assert again.exit_code == 1 and "already recorded" in again.output
    [listed] = json.loads(recovery("credit", "deposit", "list", "C1").output)
    assert (listed["status"], listed["held"], [e["kind"] for e in listed["entries"]]) == (
        "held", "1000.00", ["requested", "received"])
