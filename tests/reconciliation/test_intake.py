"""Statement intake on both databases: bank statements map to channel accounts by the policy, every booked
entry is taken in once, and overlapping statements are caught by their identifiers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reconciliation.formats import parse, to_frame
from reconciliation.formats.model import NOT_BOOKED
from recovery import policy
from recovery.errors import Conflict, Invalid
from recovery.extensions import db
from recovery.reconcile.intake import take_in
from recovery.reconcile.models import Statement, StatementLine, SuspenseItem
from tests.factories import customer, load, payment
from tests.reconciliation.statement_data import shared_statements, statement_files

FILES = statement_files(shared_statements())

MT940 = """:20:STMT20261122
:25:6222020200112233445
:28C:00001/001
:60F:C261121CNY1000,00
:61:2611221122C885,00NTRFPAY-1//B1
:86:ZHANG SAN electricity
:61:2611221122C120,50NTRFNONREF//B2
:86:LI SI paying for C7 ref PAY-2
:61:2611221122C300,00NTRFNONREF//B3
:86:UNKNOWN PAYER
:61:2611221122D10,00NMSCNONREF//B4
:86:BANK CHARGES
:62F:C261122CNY2295,50
"""


def _fmt(path: Path) -> str:
    if path.parent.name == "mt940":
        return "mt940"
    return "camt054" if "camt054" in path.name else "camt053"


def use_accounts(app, accounts: dict[str, str]) -> None:
    """Put a [reconcile.accounts] table in force for this test."""
    app.config["POLICY_IN_FORCE"] = {**app.config["POLICY_IN_FORCE"],
                                     "reconcile": policy.section("reconcile", {"reconcile": {"accounts": accounts}})}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_booked_entry_of_the_shared_statements_is_taken_in(app, session, path):
    fmt = _fmt(path)
    statements = parse(path, fmt)
    # Each account kept in the currency its statement is written in (the policy's [reconcile.accounts]).
    use_accounts(app, {st.account: {"currency": st.currency} for st in statements})
    frame = to_frame(statements)
    booked = int((~frame["status"].fillna("").isin(NOT_BOOKED)).sum())
    taken = take_in(session, path.read_bytes(), path.name, fmt, actor="test")
    stored = session.scalar(select(func.count()).select_from(StatementLine)
                            .where(StatementLine.statement_id.in_([s.id for s in taken.statements])))
    assert stored == booked == taken.file.line_count
    assert taken.skipped_pending == len(frame) - booked


def test_a_bank_statement_maps_to_its_channel_account_by_the_policy(app, session):
    use_accounts(app, {"6222020200112233445": "bank:ICBC01"})
    taken = take_in(session, MT940.encode(), "icbc.sta", "mt940", actor="test")
    [st] = taken.statements
    assert (st.channel, st.channel_account, st.statement_ref, st.number) == ("bank", "ICBC01", "STMT20261122",
                                                                             "00001/001")
    assert str(st.period_start) == str(st.period_end) == "2026-11-22"


def test_the_same_statement_in_another_file_is_refused_as_overlapping(app, session):
    use_accounts(app, {"6222020200112233445": "bank:ICBC01"})
    take_in(session, MT940.encode(), "icbc.sta", "mt940", actor="test")
    resent = MT940.replace("UNKNOWN PAYER", "UNKNOWN PAYER (resent)")
    with pytest.raises(Conflict, match="overlaps"):
        take_in(session, resent.encode(), "icbc-again.sta", "mt940", actor="test")
    assert session.scalar(select(func.count()).select_from(Statement)) == 1


def test_a_bank_day_matches_by_reference_and_text_and_puts_the_rest_in_suspense(app, recovery, tmp_path):
    use_accounts(app, {"6222020200112233445": "bank:ICBC01"})
    load(recovery, tmp_path, customers=[customer("C1"), customer("C7"), customer("C9")],
         payments=[payment("PAY-1", "C1", "885.00", "2026-11-22T09:00:00+08:00", account="ICBC01"),
                   payment("PAY-2", "C7", "120.50", "2026-11-22T10:00:00+08:00", account="ICBC01")])
    file = tmp_path / "icbc.sta"
    file.write_text(MT940, encoding="utf-8")
    result = recovery("reconcile", "run", "--date", "2026-11-22", "--statement", file, "--format", "mt940")
    assert result.exit_code == 0, result.output
    report = json.loads(recovery("reconcile", "report", "--date", "2026-11-22", "--json").stdout)
    [bank] = [c for c in report["channels"] if c["channel"] == "bank"]
    assert (bank["channel_account"], bank["matched"]) == ("ICBC01", 2)
    assert bank["statement_total"] == "1305.50"  # credits only: the bank's charge is no collection
    assert [(b["kind"], b["statement_amount"], b["status"]) for b in bank["breaks"]] == [
        ("missing_in_ledger", "300.00", "open")]
    [item] = db.session.scalars(select(SuspenseItem)).all()
    assert (item.amount_fen, item.channel_account, item.status) == (30000, "ICBC01", "open")
    # Reconciling another channel of the day leaves the bank's suspense credits alone.
    assert recovery("reconcile", "run", "--date", "2026-11-22", "--channel", "agent").exit_code == 0
    assert [i.id for i in db.session.scalars(select(SuspenseItem))] == [item.id]


def test_a_statement_in_another_currency_than_its_account_is_refused_naming_both(app, session):
    use_accounts(app, {"6222020200112233445": "bank:ICBC01"})  # kept in CNY, the default
    with pytest.raises(Invalid, match=r"statement 1 of eur\.sta \(account 6222020200112233445\) is in EUR, but "
                                      r"its account is kept in CNY \(set in \[reconcile.accounts\]\); nothing was "
                                      r"taken in"):
        take_in(session, MT940.replace("CNY", "EUR").encode(), "eur.sta", "mt940", actor="test")
    assert session.scalar(select(func.count()).select_from(StatementLine)) == 0


def test_an_account_kept_in_another_currency_takes_its_statements_and_refuses_yuan(app, session):
    use_accounts(app, {"6222020200112233445": {"channel_account": "bank:HK01", "currency": "HKD"}})
    taken = take_in(session, MT940.replace("CNY", "HKD").encode(), "hkd.sta", "mt940", actor="test")
    assert [(s.channel, s.channel_account, s.line_count) for s in taken.statements] == [("bank", "HK01", 4)]
    # A channel CSV is in yuan: for the HKD account it is refused, found by the channel account it maps to.
    csv = "channel_ref,customer_id,amount,paid_at\nR1,C1,10.00,2026-11-23T09:00:00+08:00\n"
    with pytest.raises(Invalid, match=r"\(bank:HK01\) is in CNY, but its account is kept in HKD"):
        take_in(session, csv.encode(), "hk.csv", "csv", channel="bank", account="HK01", actor="test")


def test_a_currency_that_is_no_code_stops_the_policy(app):
    with pytest.raises(Invalid, match=r"\[reconcile\].*currency: an ISO 4217 code such as CNY, got 'yuan'"):
        policy.section("reconcile", {"reconcile": {"accounts": {"X": {"currency": "yuan"}}}})


def test_the_command_line_refuses_a_statement_in_another_currency_in_one_line(recovery, tmp_path):
    file = tmp_path / "eur.sta"
    file.write_text(MT940.replace("CNY", "EUR"), encoding="utf-8")
    result = recovery("reconcile", "run", "--date", "2026-11-22", "--statement", file, "--format", "mt940")
    assert result.exit_code == 1
    assert result.stderr == (f"error: statement 1 of {file} (account 6222020200112233445) is in EUR, but its account "
                             "is kept in CNY (set in [reconcile.accounts]); nothing was taken in\n")
