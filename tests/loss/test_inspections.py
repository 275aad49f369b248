"""Inspections and tip-offs: a confirmed theft is back-billed (kWh x tariff) and penalised (3 x the back-billing)
only once a supervisor approves; the theft then caps the credit grade and the tip-off's reward is paid."""

from __future__ import annotations

from sqlalchemy import func, select

from recovery.approvals import service as approvals
from recovery.audit.models import AuditEntry
from recovery.auth.service import create_user
from recovery.billing.models import Bill
from recovery.credit.rating.ratings import current_ratings
from recovery.customers.models import Customer
from recovery.events.models import Event
from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.loss import inspections, rates
from recovery.loss.models import Inspection, TipOff
from recovery.loss.policy import loss_policy
from recovery.timeutil import today
from tests.factories import CUSTOMER_COLUMNS, bill, customer, load, write_csv
from tests.web.data import PASSWORD


def _district(recovery, tmp_path) -> None:
    write_csv(tmp_path / "c.csv", [*CUSTOMER_COLUMNS, "area", "line"],
              [customer("C1", area="A1", line="L1"), customer("C2", area="A1", line="L1")])
    assert recovery("import", "customers", tmp_path / "c.csv").exit_code == 0
    load(recovery, tmp_path, bills=[bill("B1", "C1", "100.00", period="2026-01", kwh="180"),
                                    bill("B2", "C2", "120.00", period="2026-01", kwh="220")])
    write_csv(tmp_path / "r.csv", ["area", "period", "kwh_delivered"],
              [{"area": "A1", "period": "2026-01", "kwh_delivered": "500"}])
    assert recovery("import", "area-readings", tmp_path / "r.csv").exit_code == 0
    create_user(db.session, "wu", role="inspector", password=PASSWORD, display_name="吴检查")
    create_user(db.session, "zhao", role="supervisor", password=PASSWORD, display_name="赵主任")
    create_user(db.session, "li", role="officer", password=PASSWORD, display_name="李明", grids=["G1"])
    db.session.commit()


def test_confirmed_theft_is_back_billed_and_penalised_three_times_once_a_supervisor_approves(
        recovery, session, tmp_path):
    _district(recovery, tmp_path)
    p, day = loss_policy(), today()
    c1 = session.scalar(select(Customer).where(Customer.code == "C1"))
    tip = inspections.record_tip(session, c1, channel="phone", received_on=day, note="a cable around the meter",
                                 tipster="138 0000 0000", recorded_by="zhao", role="supervisor", inspector="wu",
                                 day=day, p=p)
    task = session.scalar(select(Inspection).where(Inspection.tip_id == tip.id))
    assert (task.status, task.due_on.toordinal() - day.toordinal()) == ("open", 10)
    done = inspections.record_outcome(session, task, outcome="theft_confirmed", inspected_on=day,
                                      finding="meter bypassed", recorded_by="wu", role="inspector", day=day, p=p,
                                      stolen_kwh=1234, tariff="0.5383")
    session.commit()
    # 1234 kWh x 0.5383 yuan = 664.2622 yuan -> 664.26; the penalty is three times that: 1992.78.
    assert (done["backbill"], done["penalty"]) == ("664.26", "1992.78")
    assert (task.backbill_fen, task.penalty_fen, task.status) == (66426, 199278, "theft_pending")
    # Nothing is charged before a supervisor approves.
    assert session.scalar(select(func.count()).select_from(Bill).where(Bill.code.like("THEFT-%"))) == 0
    assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "theft")) == 0

    approvals.decide(session, done["request_id"], approve=True, decided_by="zhao", role="supervisor")
    session.commit()
    charged = {b.code: (b.kwh, b.amount_fen) for b in session.scalars(select(Bill).where(Bill.customer_id == c1.id))}
    assert charged == {"B1": (180.0, 10000), f"THEFT-{task.id}-BACKBILL": (1234.0, 66426),
                       f"THEFT-{task.id}-PENALTY": (0.0, 199278)}
    assert session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.customer_id == c1.id)) \
        == 10000 + 66426 + 199278
    assert [(e.kind, e.occurred_on, e.amount_fen) for e in session.scalars(select(Event))] == [("theft", day, 66426)]
    assert current_ratings(session, [c1.id]).loc[c1.id, "grade"] == "C"  # theft caps the grade
    session.refresh(tip)
    assert (tip.status, tip.reward_fen, tip.reward_paid_on) == ("confirmed", 50000, day)
    assert {"tip.recorded", "inspection.assigned", "inspection.recorded", "approval.requested", "approval.approved",
            "theft.charged", "tip.reward_paid"} <= set(session.scalars(select(AuditEntry.action)))
    # The back-billed energy belongs to earlier months: the month's loss still counts metered kWh only.
    area = rates.report(session, "2026-01", p)["areas"][0]
    assert (area["kwh_billed"], area["loss_rate"]) == (400, "0.2000")
    assert session.get(Inspection, task.id).status == "done"


def test_inspectors_work_their_list_on_the_pages_in_both_languages_and_officers_stay_out(recovery, client, session,
                                                                                       tmp_path, app):
    _district(recovery, tmp_path)
    assert recovery("loss", "suspects", "--period", "2026-01").exit_code == 0
    assert client.post("/login", data={"username": "li", "password": PASSWORD}).status_code == 302
    assert client.get("/loss").status_code == 403
    client.post("/logout")
    assert client.post("/login", data={"username": "wu", "password": PASSWORD}).status_code == 302

    areas = client.get("/loss?period=2026-01&lang=zh").get_data(as_text=True)
    assert "线损" in areas and 'data-area="A1"' in areas and "20.00%" in areas  # (500 - 400) / 500
    chart = client.get("/loss/areas/A1?lang=zh").get_data(as_text=True)
    assert 'id="area-loss-chart"' in chart and "各月线损率" in chart
    listed = client.get("/loss/suspects?period=2026-01&lang=en").get_data(as_text=True)
    assert 'data-customer="C1"' in listed and "In a high-loss area" in listed

    # The inspector takes C2 from the list and finds a violation: the event is stored, the task is done.
    taken = client.post("/loss/inspections", data={"customer_id": "C2", "period": "2026-01",
                                                   "next": "/loss/suspects?period=2026-01"})
    assert taken.status_code == 302 and taken.headers["Location"].startswith("/loss/suspects")
    task = session.scalar(select(Inspection).where(Inspection.customer_id == select(Customer.id).where(
        Customer.code == "C2").scalar_subquery()))
    assert (task.source, task.period) == ("suspect", "2026-01")
    recorded = client.post(f"/loss/inspections/{task.id}/outcome",
                           data={"outcome": "violation", "inspected_on": today().isoformat(), "finding": "load over"})
    assert recorded.status_code == 302
    page = client.get("/loss/inspections?lang=en").get_data(as_text=True)
    assert f'data-inspection="{task.id}"' in page and "Violation" in page
    session.expire_all()
    assert session.get(Inspection, task.id).status == "done"
    assert [e.kind for e in session.scalars(select(Event))] == ["violation"]
    assert session.scalar(select(func.count()).select_from(TipOff)) == 0

    # The supervisor's dashboard draws the flagged area's loss: live, and over many customers as screened.
    client.post("/logout")
    assert client.post("/login", data={"username": "zhao", "password": PASSWORD}).status_code == 302
    live = client.get("/dashboard?lang=zh").get_data(as_text=True)
    assert 'id="line-loss-chart"' in live and "高损台区线损率" in live and 'data-area="A1"' in live
    app.config["DASHBOARD_LIVE_LIMIT"] = 1
    kept = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert 'data-area="A1"' in kept and "as the screening of" in kept
    assert "筛查时读取" not in live  # computed live: no screening named
