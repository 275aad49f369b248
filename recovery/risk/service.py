"""Training, scoring and evaluating the arrears-risk model on the service's data."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.customers.models import Customer
from recovery.errors import Invalid
from recovery.money import format_yuan_array
from recovery.risk import registry
from recovery.risk.frames import load_frames
from recovery.risk.models import RiskScore
from recovery.timeutil import business_tz, now
from scoring import build_features, evaluate_window, psi, score_customers, stale, train

STALE_PSI = 0.25  # the usual line: above it a feature's population has shifted materially

SCORES_COLUMNS = ["customer_id", "pd", "expected_loss", "rating", "reasons"]


def train_model(session: Session, as_of: dt.date, *, tune: bool = False, dask: str | None = None) -> tuple[str, dict]:
    """Train on what was known at as_of, store the version and make it active; with tune, hyperparameters are
    first chosen by time-based cross-validation (its table is kept in the evaluation); with dask (a scheduler's
    address or "local"), the trees are trained on that Dask cluster."""
    tz = business_tz().key
    if dask:
        if tune:
            raise Invalid("--tune runs on one machine; train with --dask after choosing the parameters")
        from scoring.distributed import connect, train_on_cluster

        frames = load_frames(session)
        with connect(dask) as client:
            result = train_on_cluster(client, frames, as_of, tz=tz)
    else:
        result = train(load_frames(session), as_of, tz=tz, tune=tune)
    return registry.save(result), result.evaluation


def scores(session: Session, as_of: dt.date, *, dask: str | None = None) -> pd.DataFrame:
    """Score every customer with the active model and store the run (replacing that day's earlier run
    by the same version); returns the scores indexed by customer code. With dask (a scheduler's address or
    "local"), the partitions are scored on that Dask cluster."""
    version, model = registry.active()
    tz = business_tz().key
    if dask:
        from scoring.distributed import connect, score_on_cluster

        frames = load_frames(session)
        with connect(dask) as client:
            frame = score_on_cluster(client, model, frames, as_of, tz=tz)
    else:
        frame = score_customers(model, load_frames(session), as_of, tz=tz)
    session.execute(delete(RiskScore).where(RiskScore.as_of == as_of, RiskScore.model_version == version))
    ids = bulk.read_frame(session, select(Customer.code, Customer.id)).set_index("code")["id"]
    store_scores(session, frame, ids.reindex(frame.index).to_numpy(), as_of, version)
    return frame


def store_scores(session: Session, frame: pd.DataFrame, customer_ids, as_of: dt.date, version: str,
                 table=None) -> int:
    """Write a scoring run's frame (score_customers) as risk_scores rows for the given customer ids, in one COPY
    on PostgreSQL; table: another table of the same columns (the benchmark's). Returns the rows written."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    rows = pd.DataFrame({
        "customer_id": customer_ids, "as_of": pd.Timestamp(as_of),
        "model_version": version, "pd": frame["pd"].to_numpy(), "exposure_fen": frame["exposure_fen"].to_numpy(),
        "expected_loss_fen": frame["expected_loss_fen"].to_numpy(), "rating": frame["rating"].astype(str).to_numpy(),
        "reasons_zh": [encode(r) for r in frame["reasons_zh"].tolist()],
        "reasons_en": [encode(r) for r in frame["reasons_en"].tolist()], "created_at": pd.Timestamp(now()),
    })
    return bulk.insert_frame(session, RiskScore.__table__ if table is None else table, rows)


def scores_csv(session: Session, as_of: dt.date, *, lang: str = "zh", dask: str | None = None) -> str:
    """Score, store, and render the contract's scores CSV."""
    frame = scores(session, as_of, dask=dask)
    out = pd.DataFrame({
        "customer_id": frame.index,
        "pd": frame["pd"].map(lambda p: f"{p:.6f}").to_numpy(),
        "expected_loss": format_yuan_array(frame["expected_loss_fen"].to_numpy()).to_numpy(),
        "rating": frame["rating"].to_numpy(),
        "reasons": frame[f"reasons_{lang}"].map(lambda items: ";".join(items)).to_numpy(),
    }, columns=SCORES_COLUMNS)
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def evaluate(session: Session, as_of: dt.date, *, truth: pd.Series | None = None) -> dict:
    """The active model's and the baseline's figures on outcomes after as_of (which must be complete); with the
    customers' true probabilities of default (a simulated utility's), the oracle's figures and the gap too."""
    version, model = registry.active()
    try:
        figures = evaluate_window(model, load_frames(session), as_of, truth=truth,
                                  tz=business_tz().key)
    except ValueError as e:
        if truth is None:
            raise
        raise Invalid(f"--truth: {e}") from e
    trained_at = dt.date.fromisoformat(model.manifest_["training_window"]["as_of"])
    # The model learnt outcomes up to its training date; only windows from then on are unseen.
    held_out = as_of >= trained_at
    note = None if held_out else (f"outcomes overlap the model's training data (trained as of {trained_at}); "
                                  "evaluate from that date on for held-out figures")
    return {"version": version, "trained_as_of": trained_at.isoformat(), "held_out": held_out, "note": note,
            **figures}


def read_truth(path) -> pd.Series:
    """True probabilities of default from a CSV with customer_id and pd (0-1), indexed by customer_id."""
    frame = pd.read_csv(path, dtype={"customer_id": str}, encoding="utf-8-sig")
    missing = {"customer_id", "pd"} - set(frame.columns)
    if missing:
        raise Invalid(f"{path}: lacks column(s) {', '.join(sorted(missing))}")
    pd_ = pd.to_numeric(frame["pd"], errors="coerce")
    bad = pd_.isna() | (pd_ < 0) | (pd_ > 1) | frame["customer_id"].duplicated()
    if bad.any():
        line = int(bad.to_numpy().argmax()) + 2
        raise Invalid(f"{path}:{line}: pd: not a probability, or the customer is listed twice")
    return pd.Series(pd_.to_numpy(), index=pd.Index(frame["customer_id"], name="customer_id"), name="pd")


def drift(session: Session, as_of: dt.date) -> dict:
    """Population stability of every feature: the active model's training data against the customers at as_of."""
    version, model = registry.active()
    features = build_features(load_frames(session), as_of, tz=business_tz().key)
    values = psi(model.manifest_["drift_reference"], features)
    drifted = stale(values, threshold=STALE_PSI)
    return {"version": version, "as_of": as_of.isoformat(), "threshold": STALE_PSI, "stale": bool(drifted),
            "drifted_features": drifted, "psi": {name: round(float(v), 4) for name, v in values.items()}}
