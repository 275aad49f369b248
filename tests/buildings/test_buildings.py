"""Property-managed buildings and clearance sites: residents imported and linked to the company that pays for
them, the company's arrears with the residents behind them, direct billing, and a demolition flag that stops
penalties, takes its customers off the dunning ladder and puts their arrears on a track of their own."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from sqlalchemy import func, select

from recovery.audit.models import AuditEntry
from recovery.auth.service import create_user
from recovery.billing.penalties import accrue
from recovery.buildings import service
from recovery.buildings.models import BuildingResident, PayerLink
from recovery.collections import dunning
from recovery.collections.models import DunningState
from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.ledger.models import EntryKind, LedgerEntry
from tests.factories import bill, customer, load, payment, write_csv
from tests.web.data import PASSWORD, cheap_password_hashing

D = dt.date


@pytest.fixture
def estate(app, recovery, tmp_path, monkeypatch):
    """G1: building B1 managed by 幸福物业 (PC1, its own account PM1), residents R1 and R2 billed through it;
    building B2 (no company) with R3; G2: R4. Bills of 2026-01 due 20 February: R1 1,000.00, R4 1,000.00,
    R2 250.00 (50.00 paid on 10 February) and R2's February bill of 80.00 due 20 March; R3 40.00.
    Officer li (G1), supervisor zhao."""
    cheap_password_hashing(monkeypatch)
    load(recovery, tmp_path,
         customers=[customer("R1", "G1"), customer("R2", "G1"), customer("R3", "G1"), customer("R4", "G2"),
                    customer("PM1", "G1", name="幸福物业", customer_class="property_mgmt")],
         bills=[bill("B-R1", "R1", "1000.00"), bill("B-R2", "R2", "250.00"), bill("B-R3", "R3", "40.00"),
                bill("B-R4", "R4", "1000.00"),
                bill("B-R2-02", "R2", "80.00", "2026-02", "2026-03-03", "2026-03-20")],
         payments=[payment("P-R2", "R2", "50.00", paid_at="2026-02-10T10:00:00+08:00")])
    buildings = write_csv(tmp_path / "buildings.csv", ["building", "name", "grid", "company", "company_name",
                                                       "company_customer_id"],
                          [{"building": "B1", "name": "1号楼", "grid": "G1", "company": "PC1",
                            "company_name": "幸福物业", "company_customer_id": "PM1"},
                           {"building": "B2", "name": "2号楼", "grid": "G1"}])
    assert recovery("buildings", "import", "buildings", buildings).exit_code == 0
    residents = write_csv(tmp_path / "residents.csv", ["customer_id", "building", "payer", "linked_on"],
                          [{"customer_id": "R1", "building": "B1", "linked_on": "2026-01-01"},
                           {"customer_id": "R2", "building": "B1", "payer": "company", "linked_on": "2026-01-01"},
                           {"customer_id": "R3", "building": "B2"}])
    result = recovery("buildings", "import", "residents", residents)
    assert result.exit_code == 0, result.output
    create_user(db.session, "li", role="officer", password=PASSWORD, grids=["G1"])
    create_user(db.session, "zhao", role="supervisor", password=PASSWORD)
    db.session.commit()
    return {"buildings": buildings, "residents": residents}


def sign_in(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def code(customer_id: int) -> str:
    return db.session.get(Customer, customer_id).code


def test_the_companys_arrears_are_shown_with_the_residents_behind_them_until_they_are_billed_directly(
        estate, recovery, client, tmp_path):
    # 1 March: R1 owes 1,000.00, all overdue since 20 February (9 days); R2 owes the 200.00 left of its
    # January bill (its February bill comes on 3 March). R3 is billed directly: not the company's.
    result = recovery("buildings", "arrears", "PC1", "--as-of", "2026-03-01", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["residents"], report["owing"], report["balance"], report["overdue"]) == (
        2, 2, "1200.00", "1200.00")
    assert [(r["customer_id"], r["overdue"], r["days_overdue"]) for r in report["behind"]] == [
        ("R1", "1000.00", 9), ("R2", "200.00", 9)]
    sign_in(client, "li")
    page = client.get("/buildings/companies/PC1?as_of=2026-03-01").get_data(as_text=True)
    assert 'data-key="R1"' in page and 'data-key="R2"' in page and 'data-key="R3"' not in page
    assert '<dd data-field="overdue">1,200.00</dd>' in page
    listed = client.get("/api/v1/property-companies?as_of=2026-03-01").get_json()
    assert [(c["code"], c["residents"], c["overdue"]) for c in listed] == [("PC1", 2, "1200.00")]

    # Imports are atomic and line-precise; the same rows again change nothing.
    bad = write_csv(tmp_path / "bad.csv", ["customer_id", "building", "payer"],
                    [{"customer_id": "R4", "building": "B1"}, {"customer_id": "R5", "building": "B9"},
                     {"customer_id": "R3", "building": "B2", "payer": "company"}])
    result = recovery("buildings", "import", "residents", bad)
    assert result.exit_code == 1
    assert f"{bad}:2: building: building B1 lies in another grid than R4" in result.output
    assert f"{bad}:3: building: unknown building B9" in result.output
    assert f"{bad}:3: customer_id: unknown customer R5" in result.output
    assert f"{bad}:4: payer: building B2 has no property company" in result.output
    assert db.session.scalar(select(func.count()).select_from(BuildingResident)) == 3  # nothing of it stored
    assert "residents 0" in recovery("buildings", "import", "residents", estate["residents"]).output
    assert "buildings 0, companies 0" in recovery("buildings", "import", "buildings", estate["buildings"]).output
    moved = write_csv(tmp_path / "moved.csv", ["building", "name", "grid", "company"],
                      [{"building": "B2", "name": "2号楼", "grid": "G1", "company": "PC1"},
                       {"building": "B3", "name": "3号楼", "grid": "G1", "company": "PC7"}])
    result = recovery("buildings", "import", "buildings", moved)
    assert result.exit_code == 1
    assert f"{moved}:2: building: B2 already imported with a different name, grid or company" in result.output
    assert f"{moved}:3: company_name: company PC7 is new: give its name" in result.output

    # R2 is billed directly from 1 March: the company's arrears that day are R1's alone.
    moved = client.post("/api/v1/customers/R2/direct-billing", json={"reason": "业主委员会与物业纠纷",
                                                                       "on": "2026-03-01"})
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["company"], moved.get_json()["ended_on"]) == ("PC1", "2026-03-01")
    report = service.company_arrears(db.session, None, service.get_company(db.session, "PC1"), D(2026, 3, 1))
    assert [r["code"] for r in report["residents"]] == ["R1"] and report["totals"]["overdue_fen"] == 100_000
    assert client.post("/api/v1/customers/R2/direct-billing", json={"reason": "again"}).status_code == 409
    refused = client.post("/api/v1/property-companies/PC1/stop-collecting", json={"reason": "物业退出"})
    assert refused.status_code == 403  # an officer may not
    sign_in(client, "zhao")
    stopped = client.post("/api/v1/property-companies/PC1/stop-collecting",
                          json={"reason": "物业公司停止代收", "on": "2026-03-02"})
    assert stopped.get_json() == {"company": "PC1", "moved": 1, "stopped_on": "2026-03-02"}
    assert db.session.scalar(select(func.count()).select_from(PayerLink).where(PayerLink.ended_on.is_(None))) == 0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "company.stop_collecting"))
    assert (entry.actor, entry.details["customers"]) == ("zhao", ["R1"])
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "payer.direct_billing")) == 1
    relink = client.post("/api/v1/buildings/B1/residents", json={"customer_id": "R2"})
    assert (relink.status_code, relink.get_json()["code"]) == (409, "company_stopped")


def _penalties() -> dict[str, int]:
    rows = db.session.execute(select(LedgerEntry.customer_id, func.sum(LedgerEntry.amount_fen))
                              .where(LedgerEntry.kind == EntryKind.penalty).group_by(LedgerEntry.customer_id)).all()
    return {code(c): int(f) for c, f in rows}


def test_a_demolition_flag_stops_penalties_takes_the_site_off_the_ladder_onto_its_own_track(estate, recovery,
                                                                                              client, tmp_path):
    sign_in(client, "zhao")
    flagged = client.post("/api/v1/clearance-flags", json={"kind": "demolition", "building": "B1",
                                                           "flagged_on": "2026-03-01", "reason": "旧城改造"})
    assert flagged.status_code == 201, flagged.get_json()
    load(recovery, tmp_path, payments=[payment("P-R2-2", "R2", "30.00", paid_at="2026-03-05T10:00:00+08:00")])
    accrue(db.session, D(2026, 3, 10))
    db.session.commit()
    # 0.1 % a day from 21 February. R4 (not flagged): 18 days to 10 March on 1,000.00 = 18.00. R1: 8 days
    # (21-28 February) = 8.00. R2: 8 days on the 200.00 left of its bill = 1.60 (the 30.00 of 5 March falls
    # in the flag's days). R3: 18 days on 40.00 = 0.72, charged the 1.00 minimum.
    assert _penalties() == {"R1": 800, "R2": 160, "R4": 1800, "R3": 100}

    dunning.nightly(db.session, D(2026, 3, 25))
    db.session.commit()
    assert {code(c) for c in db.session.scalars(select(DunningState.customer_id))} == {"R3", "R4"}
    out = tmp_path / "track.csv"
    result = recovery("buildings", "track", "--as-of", "2026-03-10", "--out", out)
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == ("customer_id,name,grid,building,kind,flagged_on,owed_at_flag,balance,overdue,days_overdue,"
                        "paid_since,penalty")
    # R1 owed 1,000.00 when flagged and 1,008.00 now (8.00 of penalty, frozen); R2 owed 200.00 and now
    # 250 + 80 - 50 - 30 + 1.60 = 251.60, of which 171.60 overdue (the 80.00 falls due on 20 March), 30.00 paid.
    assert lines[1:] == ["R1,客户R1,G1,B1,demolition,2026-03-01,1000.00,1008.00,1008.00,18,0.00,8.00",
                         "R2,客户R2,G1,B1,demolition,2026-03-01,200.00,251.60,171.60,18,30.00,1.60"]
    page = client.get("/buildings?as_of=2026-03-05&lang=en").get_data(as_text=True)
    assert 'data-key="B1"' in page and page.count('data-field="flagged"') == 1
    track = client.get("/clearance?as_of=2026-03-05")
    assert track.status_code == 200 and 'data-key="R1"' in track.get_data(as_text=True)
    csv = client.get("/clearance.csv?as_of=2026-03-05")
    assert csv.mimetype == "text/csv" and "R2,客户R2" in csv.get_data(as_text=True)

    db.session.rollback()  # the reads above end here: the night's accrual below runs in a transaction of its own
    lifted = client.post(f"/api/v1/clearance-flags/{flagged.get_json()['id']}/lift", json={"lifted_on": "2026-03-06"})
    assert lifted.status_code == 200
    accrue(db.session, D(2026, 3, 10))
    db.session.commit()
    # Lifted from 6 March: R1 accrues 8 days before the flag and 5 days from 6 to 10 March = 13.00; R2 adds
    # 5 days on the 170.00 left after 5 March: 1.60 + 0.85 = 2.45.
    assert (_penalties()["R1"], _penalties()["R2"]) == (1300, 245)


def test_a_clearance_stop_takes_its_days_off_the_penalty_on_both_sides_of_the_new_year():
    """Pure: a commercial bill of 1,000.00 of period 2025-11 due 20 December 2025, unpaid on 10 January 2026,
    accrues 0.2 % a day in 2025 (11 days) and 0.3 % in 2026 (10 days): 22.00 + 30.00 = 52.00. A site flagged from
    30 December to 4 January (lifted on the 5th) takes 2 days off 2025 and 4 off 2026: 18.00 + 18.00 = 36.00."""
    from recovery import policy
    from recovery.billing.penalty_rules import totals

    bills = pd.DataFrame({"bill_id": [1], "customer_id": [7], "customer_class": ["commercial"], "period": ["2025-11"],
                          "amount_fen": [100_000], "due_on": ["2025-12-20"]})
    unpaid = pd.DataFrame({"bill_id": pd.Series(dtype="int64"), "amount_fen": pd.Series(dtype="int64"),
                           "allocated_at": pd.Series(dtype=object)})
    stops = pd.DataFrame({"customer_id": [7], "start": [pd.Timestamp("2025-12-30")],
                          "end": [pd.Timestamp("2026-01-05")]})
    rules = policy.section("penalty", {})
    assert totals(bills, unpaid, D(2026, 1, 10), rules, tz="Asia/Shanghai")["penalty_fen"].tolist() == [5200]
    assert totals(bills, unpaid, D(2026, 1, 10), rules, None, stops, tz="Asia/Shanghai")["penalty_fen"].tolist() == [
        3600]
