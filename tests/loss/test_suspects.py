"""The monthly suspect list: every customer with an area, scored by explainable evidence, most suspect first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from recovery.jobs import runner
from recovery.jobs.table import job
from recovery.loss.models import Suspect
from tests.factories import BILL_COLUMNS, CUSTOMER_COLUMNS, EVENT_COLUMNS, customer, write_csv

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01", "2026-02", "2026-03"]
RECENT = MONTHS[-3:]


def _district(recovery, tmp_path):
    """Two areas of six residential customers using 100 kWh a month for 15 months. In B1, R1 meters 40 kWh from
    January 2026 and the area meter keeps seeing the same 630 kWh go in; in B2, V1's flat stands empty from January
    (0 kWh) and the area's loss stays 4.76 %. V2 was caught stealing in June 2025; V3's violation is older than
    36 months. N1 has no area."""
    people = [f"R{i}" for i in range(1, 7)] + [f"V{i}" for i in range(1, 7)]
    rows = [customer(c, area="B1" if c[0] == "R" else "B2", line="L1") for c in people] + [customer("N1")]
    write_csv(tmp_path / "c.csv", [*CUSTOMER_COLUMNS, "area", "line"], rows)
    kwh = {c: {m: 100 for m in MONTHS} for c in people}
    kwh["R1"].update(dict.fromkeys(RECENT, 40))
    kwh["V1"].update(dict.fromkeys(RECENT, 0))
    bills = [{"bill_id": f"{c}-{m}", "customer_id": c, "period": m, "kwh": str(k), "amount": "50.00",
              "issued_on": f"{m}-28", "due_on": f"{m}-28"} for c in people for m, k in kwh[c].items()]
    write_csv(tmp_path / "b.csv", BILL_COLUMNS, bills)
    readings = [{"area": "B1", "period": m, "kwh_delivered": "630"} for m in MONTHS]
    readings += [{"area": "B2", "period": m, "kwh_delivered": "525" if m in RECENT else "630"} for m in MONTHS]
    write_csv(tmp_path / "r.csv", ["area", "period", "kwh_delivered"], readings)
    write_csv(tmp_path / "e.csv", EVENT_COLUMNS, [
        {"customer_id": "V2", "kind": "theft", "occurred_on": "2025-06-10", "amount": "80.00"},
        {"customer_id": "V3", "kind": "violation", "occurred_on": "2023-01-15", "amount": ""}])
    for kind, name in (("customers", "c"), ("bills", "b"), ("area-readings", "r"), ("events", "e")):
        result = recovery("import", kind, tmp_path / f"{name}.csv")
        assert result.exit_code == 0, result.output


def test_suspects_rank_the_drop_the_area_meter_sees_above_an_empty_flat_and_explain_every_score(
        recovery, session, tmp_path):
    _district(recovery, tmp_path)
    out = tmp_path / "suspects.csv"
    result = recovery("loss", "suspects", "--period", "2026-03", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines() == [
        "customer_id,score,reasons",
        # 60 % below the same months of 2025 (30 points, in full from a 50 % drop), and below the peers, who did not
        # drop (15); B1 is flagged (14.29 % against 10 %: 25) and its loss rose from 4.76 % as R1 dropped (20).
        "R1,90.0,drop_vs_history;high_loss_area;loss_rise_at_drop;drop_vs_peers",
        # An empty flat: zero on a live account (25) and unlike its peers (15); its area's loss did not move.
        "V1,40.0,zero_while_active;drop_vs_peers",
        "R2,25.0,high_loss_area", "R3,25.0,high_loss_area", "R4,25.0,high_loss_area", "R5,25.0,high_loss_area",
        "R6,25.0,high_loss_area",
        "V2,25.0,past_theft",
        # V3's violation lies before April 2023, out of the 36 months looked back over.
        "V3,0.0,", "V4,0.0,", "V5,0.0,", "V6,0.0,",
    ]
    stored = session.execute(select(Suspect.rank, Suspect.score_tenths, Suspect.reasons)
                             .where(Suspect.period == "2026-03").order_by(Suspect.rank)).all()
    assert [tuple(r) for r in stored[:2]] == [
        (1, 900, "drop_vs_history;high_loss_area;loss_rise_at_drop;drop_vs_peers"),
        (2, 400, "zero_while_active;drop_vs_peers")]
    assert len(stored) == 8  # the customers who scored at all

    # Screening the month again replaces its list rather than adding to it.
    assert recovery("loss", "suspects", "--period", "2026-03").stdout.splitlines()[1].startswith("R1,90.0,")
    assert len(session.scalars(select(Suspect.id).where(Suspect.period == "2026-03")).all()) == 8


def test_the_monthly_job_screens_the_month_before_once_from_the_screening_day(recovery, session, tmp_path):
    _district(recovery, tmp_path)
    screening = job("loss.screening")

    early = runner.run(session, screening, dt.date(2026, 4, 9), trigger="test", actor="test")
    assert early.summary == {"period": "2026-03", "screened": False, "reason": "before the screening day"}
    assert session.scalars(select(Suspect.id)).all() == []

    # From the 10th ([loss] screen_day) the month before is screened: the same list as the command's.
    done = runner.run(session, screening, dt.date(2026, 4, 10), trigger="test", actor="test")
    assert done.summary == {"period": "2026-03", "screened": True, "customers": 12, "suspects": 8}
    assert session.execute(select(Suspect.customer_id, Suspect.score_tenths).order_by(Suspect.rank)
                           .limit(2)).all()[1][1] == 400

    later = runner.run(session, screening, dt.date(2026, 4, 11), trigger="test", actor="test")
    assert later.summary == {"period": "2026-03", "screened": False, "reason": "screened already"}
