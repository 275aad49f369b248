"""Agents' terms: a deposit of at least 30,000 yuan, a monthly commission on what each agent collects (rounded
half up to the fen per agent and month), distributors with areas assessed like agents, and the assessment's
volume and service parts (60 / 40)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import select

from recovery.assessment import scoring, service
from recovery.audit.models import AuditEntry
from recovery.auth.service import create_user
from recovery.errors import Invalid
from recovery.extensions import db
from recovery.payments import terms
from recovery.payments.channels import agents
from recovery.payments.models import Agent, CardBatch, CardSale, Distributor, DistributorRemittance, Payment
from recovery.payments.reversals import reverse_payment
from recovery.reconcile.models import ReconBreak, ReconRun
from tests.credit.security_helpers import set_policy
from tests.factories import customer, load, payment
from tests.web.data import PASSWORD, cheap_password_hashing

MONTH = "2026-03"


@pytest.fixture
def march(app, recovery, tmp_path):
    """AG1 collects 10,000.00 at 00:05 on 1 March (16:05 UTC the day before), 2,355.00 at 23:50 on 31 March,
    500.00 later reversed, and 777.00 at 00:10 on 1 April; AG2 (its own rate, 0.45 %) 333.33 in March."""
    set_policy(app, {"agents": {"commission_rates": {"AG2": "0.0045"}}})
    for code in ("AG1", "AG2"):
        agents.create_agent(db.session, code, name=f"代收点{code}", deposit_fen=3_000_000)
    db.session.commit()
    load(recovery, tmp_path, customers=[customer("C1", "G1")], payments=[
        payment("A-1", "C1", "10000.00", paid_at="2026-03-01T00:05:00+08:00", channel="agent", account="AG1"),
        payment("A-2", "C1", "2355.00", paid_at="2026-03-31T23:50:00+08:00", channel="agent", account="AG1"),
        payment("A-3", "C1", "500.00", paid_at="2026-03-12T10:00:00+08:00", channel="agent", account="AG1"),
        payment("A-4", "C1", "777.00", paid_at="2026-04-01T00:10:00+08:00", channel="agent", account="AG1"),
        payment("B-1", "C1", "333.33", paid_at="2026-03-15T10:00:00+08:00", channel="agent", account="AG2")])
    reverse_payment(db.session, db.session.scalar(select(Payment).where(Payment.channel_ref == "A-3")),
                    "paid twice by mistake", "DUP", actor="clerk", on=dt.date(2026, 3, 13))
    db.session.commit()


def test_an_agent_deposits_at_least_30000_yuan_and_is_paid_a_commission_rounded_half_up_per_month(
        march, recovery, tmp_path, client, monkeypatch):
    with pytest.raises(Invalid) as refused:
        agents.create_agent(db.session, "AG3", name="便民超市", deposit_fen=2_999_999)
    assert refused.value.code == "deposit_below_minimum" and "at least 30000.00 yuan" in refused.value.message
    result = recovery("agent", "create", "AG3", "--name", "便民超市", "--deposit", "29999.99")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: an agent's deposit is at least 30000.00 yuan ([agents] min_deposit); 29999.99 was given"]
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "zhao", role="supervisor", password=PASSWORD)
    db.session.commit()
    assert client.post("/login", data={"username": "zhao", "password": PASSWORD}).status_code == 302
    lowered = client.put("/api/v1/agents/AG1/deposit", json={"deposit": "20000.00", "reference": "退款-1"})
    assert (lowered.status_code, lowered.get_json()["code"]) == (422, "deposit_below_minimum")
    raised = client.put("/api/v1/agents/AG1/deposit", json={"deposit": "45000.00", "reference": "HZ-2026-77"})
    assert raised.status_code == 200 and (raised.get_json()["deposit"], raised.get_json()["limit"]) == (
        "45000.00", "45000.00")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "agent.deposit"))
    assert (entry.details["deposit_before_fen"], entry.details["deposit_fen"]) == (3_000_000, 4_500_000)

    # AG1: 10,000.00 + 2,355.00 = 12,355.00 collected in March (the reversed 500.00 and April's 777.00 left out);
    # x 0.003 = 37.065 yuan = 3,706.5 fen -> 3,707 fen (half up; half-even would give 3,706).
    # AG2: 333.33 x 0.0045 = 1.4999850 yuan = 149.9985 fen -> 150 fen.
    table = terms.compute(db.session, MONTH).set_index("agent")
    assert table.loc["AG1", ["payments", "collected_fen", "rate", "commission_fen"]].tolist() == [
        2, 1_235_500, "0.003", 3707]
    assert table.loc["AG2", ["collected_fen", "rate", "commission_fen"]].tolist() == [33_333, "0.0045", 150]

    closed = recovery("agent", "commission", "--month", MONTH, "--close", "--json")
    assert closed.exit_code == 0, closed.output
    document = json.loads(closed.output)
    assert document["closed"] and [(a["agent"], a["collected"], a["commission"]) for a in document["agents"]] == [
        ("AG1", "12355.00", "37.07"), ("AG2", "333.33", "1.50")]
    # A payment arriving late for March changes the live figures, not the closed month's.
    load(recovery, tmp_path, payments=[payment("A-5", "C1", "100.00", paid_at="2026-03-20T10:00:00+08:00",
                                               channel="agent", account="AG1")])
    assert terms.commissions(db.session, MONTH).set_index("agent").loc["AG1", "commission_fen"] == 3707
    out = tmp_path / "commission.csv"
    assert recovery("agent", "commission", "--month", MONTH, "--out", out).exit_code == 0
    assert out.read_text(encoding="utf-8-sig").splitlines() == [
        "agent,name,month,payments,collected,rate,commission",
        "AG1,代收点AG1,2026-03,2,12355.00,0.003,37.07", "AG2,代收点AG2,2026-03,1,333.33,0.0045,1.50"]
    page = client.get(f"/agents?month={MONTH}").get_data(as_text=True)
    assert '<td class="num" data-field="total">38.57</td>' in page and "结账" in page


def test_score_in_parts_gives_each_part_its_share_over_what_could_be_measured():
    """Volume 60 (one measure), service 40 (timeliness 40, breaks 20, complaints 20 by weight)."""
    measures = {"volume": {"weight": 100, "floor": Decimal("0"), "target": Decimal("100"), "part": "volume"},
                "timeliness": {"weight": 40, "floor": Decimal("80"), "target": Decimal("100"), "part": "service"},
                "breaks": {"weight": 20, "floor": Decimal("2"), "target": Decimal("0"), "part": "service"},
                "complaints": {"weight": 20, "floor": Decimal("2"), "target": Decimal("0"), "part": "service"}}
    frame = pd.DataFrame({"volume": [50.0, 120.0], "timeliness": [90.0, float("nan")], "breaks": [1.0, float("nan")],
                          "complaints": [float("nan"), float("nan")]}, index=["A", "B"])
    out = scoring.score_parts(frame, measures, {"volume": 60, "service": 40})
    # A: volume 0.5 x 60 = 30; service (0.5 x 40 + 0.5 x 20) / 60 = 0.5 x 40 = 20 (complaints unmeasured).
    assert (out.loc["A", "volume_part"], out.loc["A", "service_part"], out.loc["A", "score"]) == (30.0, 20.0, 50.0)
    # Points of the 40 by weight within the part (40, 20, 20 of 80): half of 20 and half of 10.
    assert (out.loc["A", "timeliness_points"], out.loc["A", "breaks_points"]) == (10.0, 5.0)
    # B: nothing of its service could be measured: the score is its volume part over 60, capped at the target.
    assert (out.loc["B", "volume_part"], out.loc["B", "score"]) == (60.0, 100.0) and pd.isna(out.loc["B",
                                                                                                "service_part"])


def test_a_distributor_with_areas_is_assessed_on_volume_and_service_like_an_agent(app, recovery, tmp_path,
                                                                                 monkeypatch):
    """D1 serves G1 and G2; in March it bought 10 cards of 100.00 on the 2nd and 10 on the 10th, paid 1,000.00
    on the 3rd (within the day allowed) and 1,000.00 on the 20th (late), and had one break."""
    load(recovery, tmp_path, customers=[customer("C1", "G1"), customer("C2", "G2")])
    db.session.add(Distributor(code="D1", name="城东经销", manager_contact="13700000000", stock=20))
    db.session.add(CardBatch(code="CB1", face_value_fen=10_000, count=20, created_by="clerk"))
    db.session.flush()
    d1, batch = db.session.scalar(select(Distributor.id)), db.session.scalar(select(CardBatch.id))
    at = dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)
    db.session.add_all([
        CardSale(distributor_id=d1, batch_id=batch, count=10, amount_fen=100_000, sold_on=dt.date(2026, 3, 2),
                 sold_at=at, sold_by="clerk", reference="S1"),
        CardSale(distributor_id=d1, batch_id=batch, count=10, amount_fen=100_000, sold_on=dt.date(2026, 3, 10),
                 sold_at=at, sold_by="clerk", reference="S2"),
        DistributorRemittance(distributor_id=d1, amount_fen=100_000, remitted_on=dt.date(2026, 3, 3),
                              reference="R1", recorded_by="clerk"),
        DistributorRemittance(distributor_id=d1, amount_fen=100_000, remitted_on=dt.date(2026, 3, 20),
                              reference="R2", recorded_by="clerk")])
    run = ReconRun(day=dt.date(2026, 3, 5), channel="card", channel_account="distributor:D1", state="broken",
                   matched=0, statement_lines=0, ledger_payments=0, statement_total_fen=0, ledger_total_fen=0,
                   run_by="job")
    db.session.add(run)
    db.session.flush()
    db.session.add(ReconBreak(run_id=run.id, day=run.day, channel="card", channel_account="distributor:D1",
                              kind="amount_mismatch", fingerprint="d1"))
    db.session.commit()
    assert recovery("cards", "areas", "D1", "G2", "G1").exit_code == 0

    row = service.monthly(db.session, "distributors", MONTH).loc["D1"]
    # Volume: 20 cards against a target of 50 = 0.4 x 60 = 24. Service: timeliness 50 % (floor 80) earns
    # nothing, one break (floor 3, target 0) two thirds of its 25, no complaint all of its 25:
    # 41.67 / 100 x 40 = 16.67.
    assert (row["grids"], row["cards"], row["timeliness"], row["breaks"]) == ("G1 G2", 20, 50.0, 1.0)
    assert (row["volume_part"], row["service_part"], row["score"]) == (24.0, 16.67, 40.67)
    assert row["complaints"] == 0.0

    # A customer complains about D1 in March: one complaint per 20 cards = 5 per 100 (floor 2) earns nothing;
    # service 16.67 / 100 x 40 = 6.67. A complaint rejected as groundless would cost D1 nothing.
    from recovery.auth.service import create_user
    from recovery.customers.models import Customer
    from recovery.disputes import service as disputes

    create_user(db.session, "wang", role="supervisor", password="a-long-password-1")
    c1 = db.session.scalar(select(Customer).where(Customer.code == "C1"))
    for outcome in ("open", "rejected"):
        dispute = disputes.register(db.session, c1, kind="service", channel="phone", description="cards sold late",
                                    registered_by="wang", owner="wang", against_distributor="D1",
                                    at=dt.datetime(2026, 3, 12, 2, tzinfo=dt.UTC))
        if outcome == "rejected":
            dispute.status = "rejected"
    db.session.commit()
    row = service.monthly(db.session, "distributors", MONTH).loc["D1"]
    assert (row["complaints"], row["service_part"], row["score"]) == (5.0, 6.67, 30.67)
    assert db.session.scalar(select(Agent.id)) is None
