"""The pure rules (rating, penalties, assessment scores) take their policy, time zone and day as arguments:
they import neither Flask nor the database, never reach for an application, and give fixed answers without one."""

from __future__ import annotations

import ast
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from recovery.assessment import scoring
from recovery.billing import penalty_rules
from recovery.credit.rating import engine

RECOVERY = Path(__file__).resolve().parents[1] / "recovery"
RULES = {
    "credit/rating/engine.py": engine,
    "billing/penalty_rules.py": penalty_rules,
    "assessment/scoring.py": scoring,
}
# What a pure rule may import: the standard library, numpy and pandas, and other pure rules.
ALLOWED = {"numpy", "pandas"}


def _imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("name", sorted(RULES))
def test_a_pure_rule_imports_only_the_standard_library_numpy_and_pandas(name):
    path = RECOVERY / name
    foreign = {m for m in _imported(path)
               if m.split(".")[0] not in ALLOWED and m.split(".")[0] not in sys.stdlib_module_names}
    assert foreign == set(), f"{name} imports {sorted(foreign)}"
    assert "current_app" not in path.read_text(encoding="utf-8")


def test_the_purity_check_sees_a_service_import(tmp_path):
    sample = tmp_path / "rule.py"
    sample.write_text("from recovery.timeutil import business_tz\nimport flask\nimport numpy\n")
    assert {m for m in _imported(sample) if m.split(".")[0] not in ALLOWED | set(sys.stdlib_module_names)} == {
        "recovery.timeutil", "flask"}


def test_penalty_totals_without_an_application():
    """A commercial bill of 1,000.00 of period 2025-11 due 20 December 2025, unpaid on 10 January 2026, at 0.2 % a
    day in its own year and 0.3 % after, no grace: 11 days of 2025 and 10 of 2026, 22.00 + 30.00 = 52.00. Of it, 600.00
    paid at 15:30 UTC on 24 December is paid on the 24th in Beijing (23:30): it accrues the 21st to the 24th, 4 days
    (4.80), and the other 400.00 the whole time (8.80 + 12.00): 25.60. In Tokyo that instant is the 25th: 5 days on
    the 600.00 (6.00), 26.80."""
    rules = {"grace_days": 0, "year_of": "period", "minimum_fen": 100,
             "rates_ppm": {"commercial": (2_000, 3_000)}}
    bills = pd.DataFrame({"bill_id": [1], "customer_id": [7], "customer_class": ["commercial"], "period": ["2025-11"],
                          "amount_fen": [100_000], "due_on": ["2025-12-20"]})
    nothing = pd.DataFrame({"bill_id": pd.Series(dtype="int64"), "amount_fen": pd.Series(dtype="int64"),
                            "allocated_at": pd.Series(dtype=object)})
    day = dt.date(2026, 1, 10)
    assert penalty_rules.totals(bills, nothing, day, rules, tz="Asia/Shanghai")["penalty_fen"].tolist() == [5_200]
    paid = pd.DataFrame({"bill_id": [1], "amount_fen": [60_000], "allocated_at": ["2025-12-24T15:30:00+00:00"]})
    assert penalty_rules.totals(bills, paid, day, rules, tz="Asia/Shanghai")["penalty_fen"].tolist() == [2_560]
    assert penalty_rules.totals(bills, paid, day, rules, tz="Asia/Tokyo")["penalty_fen"].tolist() == [2_680]
    with pytest.raises(penalty_rules.NoRate):
        penalty_rules.totals(bills.assign(customer_class="industrial"), nothing, day, rules, tz="Asia/Shanghai")


def test_assessment_scores_without_an_application():
    """Recovery measured 0.85 against a floor of 0.5 and a target of 0.9 (weight 60): 0.875 of the way, 52.5 points;
    promises not measured: the score is 52.5 of the 60 possible, 87.5. At 87.5 the pay factor is proportional."""
    frame = pd.DataFrame({"recovery": [0.85], "promises": [float("nan")]}, index=["G1"])
    measures = {"recovery": {"floor": Decimal("0.5"), "target": Decimal("0.9"), "weight": 60},
                "promises": {"floor": Decimal("0.5"), "target": Decimal("0.9"), "weight": 40}}
    out = scoring.score(frame, measures)
    assert out.loc["G1", "recovery_points"] == 52.5
    assert out.loc["G1", "score"] == 87.5
    factor = scoring.pay_factor(out["score"], {"full_at": 95, "proportional_from": 60, "below": 0.5})
    assert factor.loc["G1"] == 0.875
