"""`recovery model train|score|evaluate` on the service's own data, on both databases."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from tests.factories import customer, load

AS_OF = "2026-11-23"


@pytest.fixture
def utility(app, recovery, tmp_path):
    app.config["MODELS_DIR"] = str(tmp_path / "models")
    result = recovery("demo", "--customers", "1500", "--months", "24", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output


def test_scoring_before_any_training_is_a_clear_error(recovery, app, tmp_path):
    app.config["MODELS_DIR"] = str(tmp_path / "models")
    load(recovery, tmp_path, customers=[customer("C1")])
    result = recovery("model", "score", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "run `recovery model train --as-of D` first" in result.stderr


def test_train_score_every_customer_evaluate_held_out_and_give_reasons_in_english(recovery, utility, tmp_path):
    trained = recovery("model", "train", "--as-of", "2026-08-01")
    assert trained.exit_code == 0, trained.output
    report = json.loads(trained.stdout)
    assert report["evaluation"]["model"]["roc_auc"] > report["evaluation"]["baseline"]["roc_auc"]

    out = tmp_path / "scores.csv"
    assert recovery("model", "score", "--as-of", AS_OF, "--out", out).exit_code == 0
    scores = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(scores.columns) == ["customer_id", "pd", "expected_loss", "rating", "reasons"]
    assert len(scores) >= 1400 and scores["customer_id"].is_unique
    probability = scores["pd"].astype(float)
    assert probability.between(0, 1).all()
    assert scores["expected_loss"].str.fullmatch(r"\d+\.\d{2}").all()
    riskiest = scores.loc[probability.idxmax()]
    assert riskiest["reasons"] and float(riskiest["expected_loss"]) > 0

    # The run is stored too: one row per scored customer, matching the CSV, and rescoring replaces it.
    from sqlalchemy import func, select

    from recovery.extensions import db
    from recovery.risk.models import RiskScore

    stored = db.session.execute(select(func.count(), func.max(RiskScore.pd))).one()
    assert stored[0] == len(scores) and abs(stored[1] - probability.max()) < 1e-6
    assert recovery("model", "score", "--as-of", AS_OF, "--out", out).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(RiskScore)) == len(scores)

    evaluated = json.loads(recovery("model", "evaluate", "--as-of", "2026-08-01").stdout)
    assert evaluated["held_out"] is True and evaluated["note"] is None
    assert evaluated["model"]["roc_auc"] > 0.8
    assert evaluated["model"]["roc_auc"] > evaluated["baseline"]["roc_auc"]
    earlier = json.loads(recovery("model", "evaluate", "--as-of", "2026-05-01").stdout)
    assert earlier["held_out"] is False and "overlap" in earlier["note"]

    # The reasons come in English on request (Chinese is the default).
    text = recovery("model", "score", "--as-of", AS_OF, "--lang", "en").stdout
    reasons = " ".join(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)["reasons"])
    assert "late" in reasons and not any("\u4e00" <= ch <= "\u9fff" for ch in reasons)


def test_drift_flags_the_district_sliding_into_trouble_after_training(recovery, utility):
    # The demo's troubled district turns late in its last months: grid stress shifts after training.
    assert recovery("model", "train", "--as-of", "2026-08-01").exit_code == 0
    result = recovery("model", "drift", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["threshold"] == 0.25 and len(report["psi"]) > 30
    assert report["stale"] is True
    assert "grid_late_share_3m" in report["drifted_features"]
    assert report["psi"]["grid_late_share_3m"] > 0.25
    assert "warning: the active model is stale" in result.stderr


def test_evaluate_gives_the_oracle_gap_on_a_utility_whose_true_probabilities_are_known(recovery, app, tmp_path):
    import datetime as dt

    from scoring import synthetic

    app.config["MODELS_DIR"] = str(tmp_path / "models")
    world = synthetic.generate(customers=800, months=24, seed=3)
    as_of = world.end - dt.timedelta(days=90)
    synthetic.write_csv(world, tmp_path, truth={as_of: synthetic.true_pd(world, as_of, replicates=100)})
    for kind in ("customers", "bills", "payments", "events"):
        imported = recovery("import", kind, tmp_path / f"{kind}.csv")
        assert imported.exit_code == 0, imported.output
    assert recovery("model", "train", "--as-of", as_of.isoformat()).exit_code == 0
    truth = tmp_path / f"truth_{as_of.isoformat()}.csv"

    result = recovery("model", "evaluate", "--as-of", as_of.isoformat(), "--truth", truth)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["held_out"] is True
    oracle, model = figures["oracle"], figures["model"]
    assert oracle["n"] == model["n"] > 600 and oracle["defaulters"] == model["defaulters"]
    assert oracle["roc_auc"] > 0.85 and oracle["roc_auc"] > model["roc_auc"]
    assert figures["oracle_gap"]["roc_auc"] == pytest.approx(oracle["roc_auc"] - model["roc_auc"])
    assert figures["oracle_gap"]["brier"] == pytest.approx(oracle["brier"] - model["brier"])

    # a truth file that leaves out a customer of the window is refused in one line
    lines = truth.read_text(encoding="utf-8").splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines[:1] + lines[2:]) + "\n", encoding="utf-8")
    refused = recovery("model", "evaluate", "--as-of", as_of.isoformat(), "--truth", short)
    assert refused.exit_code == 1 and "no true probability for 1 customer" in refused.stderr
