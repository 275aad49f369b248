"""Payments imports: posted once, allocated oldest bill first, the rest kept as credit."""

from __future__ import annotations

import json

from sqlalchemy import select

from recovery.billing.models import Bill
from recovery.ledger.models import Allocation, LedgerEntry
from recovery.payments.models import Payment
from tests.factories import PAYMENT_COLUMNS, bill, customer, load, payment, write_csv

JAN = bill("B-JAN", amount="100.00", period="2026-01", issued_on="2026-02-03", due_on="2026-02-20")
FEB = bill("B-FEB", amount="80.00", period="2026-02", issued_on="2026-03-03", due_on="2026-03-20")


def _allocations(session) -> list[tuple[str, str, int]]:
    return [tuple(r) for r in session.execute(
        select(Payment.channel_ref, Bill.code, Allocation.amount_fen)
        .join(Payment, Payment.id == Allocation.payment_id).join(Bill, Bill.id == Allocation.bill_id)
        .order_by(Payment.paid_at, Bill.due_on)
    )]


def test_payment_settles_the_oldest_bill_first_and_keeps_the_rest_as_credit(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")], bills=[FEB, JAN],
         payments=[payment("R1", amount="150.00", paid_at="2026-03-10T09:00:00+08:00"),
                   payment("R2", amount="50.00", paid_at="2026-03-15T09:00:00+08:00")])

    assert _allocations(session) == [("R1", "B-JAN", 10000), ("R1", "B-FEB", 5000), ("R2", "B-FEB", 3000)]
    stats = json.loads(recovery("stats", "--json").stdout)
    assert (stats["outstanding"], stats["credit"]) == ("0.00", "20.00")


def test_credit_paid_before_a_bill_settles_it_when_it_arrives(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")],
         payments=[payment("R1", amount="100.00", paid_at="2026-01-15T10:00:00+08:00")])
    assert _allocations(session) == []

    load(recovery, tmp_path, bills=[JAN])
    assert _allocations(session) == [("R1", "B-JAN", 10000)]
    bill_row = session.execute(select(Allocation.allocated_at)).scalar_one()
    # Paid in advance: the bill counts as paid from the start of its issue day (business time zone).
    assert bill_row.isoformat() == "2026-02-02T16:00:00+00:00"


def test_reimported_payments_post_nothing_twice(recovery, tmp_path, session):
    rows = [payment("R1", amount="60.00"), payment("R2", amount="40.00", channel="agent", account="AG01")]
    load(recovery, tmp_path, customers=[customer("C1")], bills=[JAN], payments=rows)
    path = write_csv(tmp_path / "again.csv", PAYMENT_COLUMNS, rows)

    result = recovery("import", "payments", path)

    assert "0 new, 2 already present" in result.stdout
    assert session.scalar(select(LedgerEntry.id).where(LedgerEntry.kind == "payment").limit(1)) is not None
    assert len(session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "payment")).all()) == 2
    assert sum(a[2] for a in _allocations(session)) == 10000


def test_same_channel_reference_with_another_amount_is_a_conflict(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")], payments=[payment("R1", amount="60.00")])
    path = write_csv(tmp_path / "p.csv", PAYMENT_COLUMNS, [payment("R1", amount="61.00")])
    result = recovery("import", "payments", path)
    assert result.exit_code != 0
    assert f"{path}:2: channel_ref: R1 already imported with different amount" in result.stderr


def test_same_reference_on_another_channel_account_is_another_payment(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")],
         payments=[payment("R1", account="ICBC"), payment("R1", account="CCB")])
    assert json.loads(recovery("stats", "--json").stdout)["payments"] == 2


def test_payment_id_reused_for_another_reference_is_refused(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")], payments=[payment("R1", payment_id="P1")])
    path = write_csv(tmp_path / "p.csv", PAYMENT_COLUMNS, [payment("R2", payment_id="P1")])
    result = recovery("import", "payments", path)
    assert result.exit_code != 0
    assert f"{path}:2: payment_id: P1 is already used by another payment" in result.stderr


def test_timestamps_need_an_offset_and_amounts_must_be_positive(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")])
    path = write_csv(tmp_path / "p.csv", PAYMENT_COLUMNS, [
        payment("R1", paid_at="2026-02-10 10:00:00"), payment("R2", amount="0.00"),
        payment("R3", amount="1e3"), payment("R4", paid_at="2099-01-01T00:00:00+08:00"),
    ])
    result = recovery("import", "payments", path)
    assert result.exit_code != 0
    assert f"{path}:2: paid_at: not an ISO 8601 timestamp with an offset" in result.stderr
    assert f"{path}:3: amount: must be greater than 0" in result.stderr
    assert f"{path}:4: amount: not a non-negative yuan amount" in result.stderr
    assert f"{path}:5: paid_at: lies in the future" in result.stderr


def test_payment_ledger_entry_falls_on_the_local_business_date(recovery, tmp_path, session):
    # 23:30 in Shanghai is 15:30 UTC the same day; 00:30 local is the previous day in UTC.
    load(recovery, tmp_path, customers=[customer("C1")],
         payments=[payment("R1", paid_at="2026-03-01T00:30:00+08:00")])
    entry = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "payment")).one()
    assert (entry.effective_on.isoformat(), entry.amount_fen) == ("2026-03-01", -10000)


def test_the_ledger_refuses_edits_and_deletions(app, recovery, tmp_path, session):
    import pytest
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DatabaseError

    load(recovery, tmp_path, customers=[customer("C1")], bills=[JAN])
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(update(LedgerEntry).values(amount_fen=1))
    session.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(delete(LedgerEntry))
    session.rollback()
