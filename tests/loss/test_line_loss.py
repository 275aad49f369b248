"""Areas and lines come in with the customers, area meters' readings with their own import, and the month's loss
rate per area and line is (delivered - billed) / delivered to four places, half up, flagged against the policy's
threshold and against the area's own usual loss."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from recovery.loss.models import Area, AreaReading
from tests.factories import CUSTOMER_COLUMNS, bill, customer, load, write_csv

COLUMNS = [*CUSTOMER_COLUMNS, "area", "line"]
READINGS = ["area", "period", "kwh_delivered"]


def _customers(recovery, tmp_path, rows, name="customers.csv"):
    return recovery("import", "customers", write_csv(tmp_path / name, COLUMNS, rows))


def _readings(recovery, tmp_path, rows, name="readings.csv"):
    return recovery("import", "area-readings", write_csv(tmp_path / name, READINGS,
                                                         [dict(zip(READINGS, r, strict=True)) for r in rows]))


def test_loss_rate_per_area_and_line_is_exact_half_up_and_flagged_by_threshold_and_history(recovery, tmp_path):
    assert _customers(recovery, tmp_path, [
        customer("C1", area="A1", line="L1"), customer("C2", area="A1"),
        customer("C3", customer_class="commercial", area="A2", line="L1"),
        customer("C4", "G2", area="A3", line="L2"), customer("C6", "G2", area="A4", line="L2"),
        customer("C5", "G2"),  # no area: in no area's figures
    ]).exit_code == 0
    load(recovery, tmp_path, bills=[
        bill("B1", "C1", period="2026-01", kwh="300"), bill("B2", "C2", period="2026-01", kwh="250.5"),
        bill("B3", "C3", period="2026-01", kwh="19999"), bill("B5", "C5", period="2026-01", kwh="100"),
        bill("B6", "C6", period="2026-01", kwh="50"),
        *[bill(f"B4-{m}", "C4", period=f"2025-{m}", kwh="960", issued_on=f"2025-{m}-28", due_on=f"2025-{m}-28")
          for m in ("10", "11", "12")],
        bill("B4-01", "C4", period="2026-01", kwh="900"),
    ])
    assert _readings(recovery, tmp_path, [
        ("A1", "2026-01", "620"), ("A2", "2026-01", "20000"), ("A4", "2026-01", "0"),
        ("A3", "2025-10", "1000"), ("A3", "2025-11", "1000"), ("A3", "2025-12", "1000"), ("A3", "2026-01", "1000"),
    ]).exit_code == 0

    result = recovery("loss", "areas", "--period", "2026-01", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    areas = {a["area"]: a for a in report["areas"]}
    assert [a["area"] for a in report["areas"]] == ["A1", "A2", "A3", "A4"]
    # A1: (620 - 550.5) / 620 = 0.11209…, above the 10 % threshold.
    assert areas["A1"] == {"area": "A1", "line": "L1", "kwh_delivered": 620, "kwh_billed": 550.5,
                                "loss_rate": "0.1121", "flagged": True, "flags": ["above_threshold"],
                                "history_median": None}
    # A2: 1 / 20000 = 0.00005 exactly, half up to 0.0001 (half-even would give 0.0000).
    assert (areas["A2"]["loss_rate"], areas["A2"]["flagged"]) == ("0.0001", False)
    # A3: 0.1000 is not above the threshold, but 6 points above its usual 0.0400 (more than 5).
    assert (areas["A3"]["loss_rate"], areas["A3"]["history_median"], areas["A3"]["flags"], areas["A3"]["flagged"]) \
        == ("0.1000", "0.0400", ["above_history"], True)
    # A4: the meter read 0: no rate, no flag.
    assert (areas["A4"]["kwh_delivered"], areas["A4"]["kwh_billed"], areas["A4"]["loss_rate"], areas["A4"]["flagged"]) \
        == (0, 50, None, False)
    lines = {ln["line"]: ln for ln in report["lines"]}
    # L1 = A1 + A2: (20620 - 20549.5) / 20620 = 0.003419…; L2 = A3 + A4: (1000 - 950) / 1000.
    assert (lines["L1"]["kwh_delivered"], lines["L1"]["kwh_billed"], lines["L1"]["loss_rate"]) == (20620, 20549.5,
                                                                                                   "0.0034")
    assert (lines["L2"]["loss_rate"], lines["L2"]["history_median"], lines["L2"]["flagged"]) == ("0.0500", "0.0400",
                                                                                                 False)


def test_area_readings_import_is_atomic_idempotent_and_refuses_a_changed_reading_or_an_unknown_area(
        recovery, session, tmp_path):
    assert _customers(recovery, tmp_path, [customer("C1", area="A1", line="L1")]).exit_code == 0
    first = _readings(recovery, tmp_path, [("A1", "2026-01", "620"), ("A1", "2026-02", "700.25")])
    assert first.exit_code == 0 and "2 new" in first.stdout
    again = _readings(recovery, tmp_path, [("A1", "2026-01", "620"), ("A1", "2026-02", "700.25")])
    assert again.exit_code == 0 and "0 new, 2 already present" in again.stdout

    bad = _readings(recovery, tmp_path, [("A1", "2026-03", "10"), ("A1", "2026-01", "621"), ("A9", "2026-01", "5"),
                                         ("A1", "2026-13", "-1")], name="bad.csv")
    assert bad.exit_code != 0
    assert f"{tmp_path / 'bad.csv'}:3: kwh_delivered" not in bad.stderr  # the file is refused before the database
    assert f"{tmp_path / 'bad.csv'}:5: period: not a period (YYYY-MM)" in bad.stderr
    assert f"{tmp_path / 'bad.csv'}:5: kwh_delivered: not a number" in bad.stderr
    checked = _readings(recovery, tmp_path, [("A1", "2026-03", "10"), ("A1", "2026-01", "621"), ("A9", "2026-01", "5")],
                        name="checked.csv")
    assert checked.exit_code != 0
    assert f"{tmp_path / 'checked.csv'}:3: kwh_delivered: A1 2026-01 already imported with kwh_delivered 620" \
        in checked.stderr
    assert f"{tmp_path / 'checked.csv'}:4: area: unknown area A9" in checked.stderr
    assert session.scalar(select(func.count()).select_from(AreaReading)) == 2  # 2026-03 was not stored either


def test_customers_import_gives_areas_and_lines_once_and_refuses_other_ones(recovery, session, tmp_path):
    assert _customers(recovery, tmp_path, [customer("C1"), customer("C2")]).exit_code == 0
    assigned = _customers(recovery, tmp_path, [customer("C1", area="A1", line="L1"), customer("C2", area="A1"),
                                               customer("C3", area="A1")], name="assign.csv")
    assert assigned.exit_code == 0, assigned.output
    assert "3 rows, 1 new, 0 already present, 2 given their area or line" in assigned.stdout
    assert session.scalar(select(Area.line).where(Area.code == "A1")) == "L1"

    refused = _customers(recovery, tmp_path, [
        customer("C7", area="A7", line="L1"), customer("C8", area="A7", line="L3"),  # one area, two lines
        customer("C9", area="bad area"),
    ], name="refused.csv")
    name = tmp_path / "refused.csv"
    assert refused.exit_code != 0
    assert refused.stderr.splitlines()[:2] == [
        f"{name}:3: line: area A7 is on line L1 (line 2)",
        f"{name}:4: area: not an identifier (letters, digits, _ . : / -, at most 32): 'bad area'"]
    conflicts = _customers(recovery, tmp_path, [customer("C1", area="A2"), customer("C2", area="A1", line="L2")],
                           name="conflicts.csv")
    assert conflicts.exit_code != 0
    assert conflicts.stderr.splitlines()[:2] == [f"{tmp_path / 'conflicts.csv'}:2: customer_id: C1 already imported "
                                             "with different area", f"{tmp_path / 'conflicts.csv'}:3: line: area A1 "
                                             "is on line L1"]
    assert session.scalar(select(func.count()).select_from(Area)) == 1
    assert _customers(recovery, tmp_path, [customer("C1", area="A1", line="L1")], name="same.csv").stdout.endswith(
        "1 rows, 0 new, 1 already present\n")

