"""Scoring benchmark: features, training and scoring on the demo utility, each against a floor.

    .venv/bin/python bench/score.py --customers 1000000
    .venv/bin/python bench/score.py --customers 1000000 --train-customers 300000   # within a 24 GB machine
    .venv/bin/python bench/score.py --customers 100000 --months 24
    .venv/bin/python bench/score.py --customers 100000 --dask local     # also on a Dask LocalCluster

The utility is the project's demo, generated in memory as the engine's frames (integer keys, as the
database's; allocations by the service's own FIFO rule), so the figures are the engine's, not the
database's. Floors, measured in the
same run on the same data:
- features: one group-by of the payments frame (sum of amount per customer) — the least any feature
  pass must do, since it reads every payment;
- training: a bare `xgboost.train` on the same stacked matrix, with the same parameters (monotone
  constraints included) and the number of trees the model kept, without the window stacking, early
  stopping and calibration;
- scoring: a bare booster predict on the ready feature matrix, without the features, exposure,
  expected loss, points and reasons;
- storing: the run written as the service writes it (recovery.risk.service.store_scores: one COPY on
  PostgreSQL) into a scratch database's table shaped like risk_scores, with its indexes (--store none skips
  it), against a bare COPY of the same number of rows of (customer, pd) into a table without indexes.
Each line prints seconds and the ratio (pipeline ÷ floor). With --dask ADDRESS (or `local`), training and
scoring run again on that Dask cluster (scoring.distributed) and are printed beside the single-process figures,
with the largest gap between the two paths' probabilities. Exits non-zero when a result is wrong: scores
missing for a customer, or a probability outside 0-1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402

from scoring import build_features, score_customers, train  # noqa: E402
from scoring.training import rolling_origins, stack_windows  # noqa: E402
from tests.scoring.demo import demo_frames  # noqa: E402

TZ = "Asia/Shanghai"


def timed(label: str, func):
    start = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"  {label:<44} {seconds:8.2f} s   (peak RSS so far {peak:.1f} GB)", flush=True)
    return value, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-23", help="the demo's today; training is as of 4 months earlier")
    parser.add_argument("--train-customers", type=int, help="train on a utility of this many customers (the same "
                        "generator), released before the scored one is generated; default: the scored utility")
    parser.add_argument("--dask", metavar="ADDRESS", help="also train and score on this Dask scheduler, or `local`")
    parser.add_argument("--store", choices=["postgresql", "sqlite", "none"], default="postgresql",
                        help="where the scoring run is stored (a scratch database, dropped afterwards)")
    args = parser.parse_args()
    today = dt.date.fromisoformat(args.as_of)
    train_as_of = (np.datetime64(today, "M") - np.timedelta64(4, "M")).astype("datetime64[D]").item()

    trained_on = args.train_customers or args.customers
    frames = None
    if trained_on != args.customers:
        # Training on a utility of its own size first, released before the scored one is generated: memory
        # holds one utility at a time (training stacks a row per customer and training window).
        print(f"training utility: {trained_on:,} customers x {args.months} months (in memory, the same generator)")
        training_frames, _ = timed("generate + allocate", lambda: demo_frames(
            customers=trained_on, seed=args.seed, as_of=today, months=args.months, compact=True))
        model, result, t_train, t_train_floor = train_with_floor(training_frames, train_as_of)
        del training_frames
        gc.collect()

    print(f"demo utility: {args.customers:,} customers x {args.months} months (in memory)", flush=True)
    frames, _ = timed("generate + allocate", lambda: demo_frames(customers=args.customers, seed=args.seed,
                                                                 as_of=today, months=args.months, compact=True))
    print(f"  {len(frames.bills):,} bills, {len(frames.payments):,} payments, {len(frames.allocations):,} "
          f"allocations, {len(frames.events):,} events", flush=True)

    print("features (as of today, every customer)")
    features, t_features = timed("build_features", lambda: build_features(frames, today, tz=TZ))
    _, t_groupby = timed("floor: payments.groupby(customer).sum()",
                         lambda: frames.payments.groupby("customer_id", sort=False)["amount_fen"].sum())
    if trained_on == args.customers:
        model, result, t_train, t_train_floor = train_with_floor(frames, train_as_of)
    names = list(model.feature_names_in_)

    print("scoring (as of today, every customer: pd, exposure, expected loss, points, reasons)")
    scored, t_score = timed("score_customers", lambda: score_customers(model, frames, today, tz=TZ))
    ready = xgb.DMatrix(features[names].to_numpy(dtype=np.float32), feature_names=names)
    _, t_predict = timed("floor: bare booster predict on the ready matrix",
                         lambda: model.booster_.predict(ready))

    if len(scored) != len(features) or not scored["pd"].between(0, 1).all():
        sys.exit("wrong result: a customer without a probability, or one outside 0-1")
    t_store = t_copy = None
    if args.store != "none":
        print(f"storing the run ({args.store})")
        (stored, t_store), t_copy = store(args.store, scored, today)
        if stored != len(scored):
            sys.exit(f"wrong result: {stored:,} rows stored for {len(scored):,} customers")

    cluster = None
    if args.dask:
        from scoring.distributed import connect, score_on_cluster, train_on_cluster

        print(f"on Dask ({args.dask})")
        client, _ = timed("connect", lambda: connect(args.dask))
        with client:
            remote, t_train_dask = timed("train_on_cluster", lambda: train_on_cluster(client, frames, train_as_of,
                                                                                      tz=TZ))
            remote_scores, t_score_dask = timed("score_on_cluster (the cluster's model)",
                                                lambda: score_on_cluster(client, remote.model, frames, today, tz=TZ))
        if len(remote_scores) != len(scored):
            sys.exit("wrong result: the cluster scored another set of customers")
        gap = (remote_scores["pd"] - scored["pd"].reindex(remote_scores.index)).abs()
        cluster = (t_train_dask, t_score_dask, gap, remote.evaluation["model"]["roc_auc"])

    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print()
    print(f"customers scored: {len(scored):,}; trained on {trained_on:,} customers; training rows: "
          f"{result.evaluation['training']['rows']:,}; "
          f"validation AUC {result.evaluation['model']['roc_auc']:.3f} (baseline "
          f"{result.evaluation['baseline']['roc_auc']:.3f}); peak RSS {peak_gb:.1f} GB")
    print(f"features: {t_features:.2f} s vs group-by floor {t_groupby:.2f} s -> ratio {t_features / t_groupby:.1f}x")
    print(f"training: {t_train:.2f} s vs bare xgboost.train {t_train_floor:.2f} s -> ratio "
          f"{t_train / t_train_floor:.1f}x")
    print(f"scoring:  {t_score:.2f} s vs bare predict {t_predict:.2f} s -> ratio {t_score / t_predict:.1f}x")
    # score_customers builds the features itself: the run is scoring plus storing, features included once
    if t_store is None:
        print(f"the run (features, pd, expected loss, reasons): {t_score:.2f} s (storing not measured: --store none)")
    else:
        print(f"storing:  {t_store:.2f} s vs bare COPY {t_copy:.2f} s -> ratio {t_store / t_copy:.1f}x")
        print(f"the run (features, pd, expected loss, reasons) + storing: {t_score + t_store:.2f} s")
    if cluster:
        t_train_dask, t_score_dask, gap, auc = cluster
        print(f"dask:     training {t_train_dask:.2f} s ({t_train_dask / t_train:.2f}x the single process), scoring "
              f"{t_score_dask:.2f} s ({t_score_dask / t_score:.2f}x); validation AUC {auc:.3f}; probabilities "
              f"differ by {gap.mean():.4f} on average, {gap.max():.3f} at most")


def train_with_floor(frames, train_as_of: dt.date):
    """Train as the service does, then the bare xgboost.train floor on the same stacked matrix and parameters."""
    print(f"training (as of {train_as_of}: rolling origins, validation window, calibration)")
    result, t_train = timed("train", lambda: train(frames, train_as_of, tz=TZ))
    model = result.model
    origins, _validation = rolling_origins(train_as_of)
    stacked, _ = timed("(stack the training windows again, for the floor)",
                       lambda: stack_windows(frames, origins, tz=TZ))
    names = list(model.feature_names_in_)
    params = model.booster_params(names, stacked.y.to_numpy())      # the very parameters, monotone constraints too
    dtrain = xgb.DMatrix(stacked.X[names].to_numpy(dtype=np.float32), label=stacked.y.to_numpy(),
                         feature_names=names)
    del stacked
    _, t_train_floor = timed(f"floor: bare xgboost.train, {model.best_iteration_ + 1} trees",
                             lambda: xgb.train(params, dtrain, num_boost_round=model.best_iteration_ + 1))
    return model, result, t_train, t_train_floor


def store(kind: str, scored, today: dt.date):
    """Store the run into a scratch database as the service does; returns ((rows, seconds), bare COPY seconds)."""
    import pandas as pd
    from sqlalchemy import Column, Float, Index, MetaData, Table, create_engine, func, select
    from sqlalchemy.orm import Session

    from bench.common import scratch_database
    from recovery import bulk
    from recovery.risk.models import RiskScore
    from recovery.risk.service import store_scores

    with scratch_database(kind, "bench_score") as url:
        engine = create_engine(url)
        meta = MetaData()
        table = Table("risk_scores", meta, *(Column(c.name, c.type, primary_key=c.primary_key)
                                             for c in RiskScore.__table__.columns))   # no customers table: no FK
        for index in RiskScore.__table__.indexes:
            Index(index.name, *(table.c[c.name] for c in index.columns))
        bare = Table("bare", meta, Column("customer_id", RiskScore.__table__.c.customer_id.type),
                     Column("pd", Float))
        meta.create_all(engine)
        with Session(engine) as session:
            (_, t_copy) = timed("floor: bare COPY of (customer, pd)", lambda: bulk.insert_frame(
                session, bare, pd.DataFrame({"customer_id": scored.index.to_numpy(), "pd": scored["pd"].to_numpy()})))
            written = timed("store_scores (rows, reasons as JSON, COPY)", lambda: store_scores(
                session, scored, scored.index.to_numpy(), today, "bench", table=table))
            session.commit()
            count = session.execute(select(func.count()).select_from(table)).scalar_one()
        engine.dispose()
    return (count, written[1]), t_copy


if __name__ == "__main__":
    main()
