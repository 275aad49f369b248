"""Training and scoring on a Dask cluster, for a utility whose history outgrows one machine.

The frames are split into partitions by grid: every row of a customer, and every customer of a grid, falls in
one partition, so the per-customer and per-grid features of a partition are exactly those of the whole
(build_features is run per partition, unchanged). Training stacks each partition's windows into one
dask.dataframe and fits the trees with xgboost.dask; the probability calibration, the points baseline and the
figures are fitted on the gathered validation window, as train() does. The model saved is the same format as
a single machine's, and a model trained either way scores either way.

    client = connect("local")                  # or "tcp://scheduler:8786"
    result = train_on_cluster(client, frames, as_of)
    scores = score_on_cluster(client, result.model, frames, as_of)
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scoring.baseline import DEFAULT_RULE, PointsBaseline, PointsRule
from scoring.drift import reference_bins
from scoring.evaluate import compare
from scoring.features import FEATURES
from scoring.frames import DEFAULT_TZ, Frames
from scoring.labels import GRACE_DAYS, HORIZON_DAYS
from scoring.model import ArrearsModel
from scoring.scores import score_customers
from scoring.training import TrainingResult, rolling_origins, stack_windows

if TYPE_CHECKING:
    from distributed import Client

DRIFT_SAMPLE = 200_000   # training rows the drift reference is taken from


def connect(address: str, *, workers: int | None = None) -> Client:
    """A client of the scheduler at `address`, or of a new LocalCluster on this machine for "local"."""
    from distributed import Client

    if address == "local":   # the client owns the cluster: closing it stops the workers
        return Client(n_workers=workers, threads_per_worker=1, dashboard_address=None)
    return Client(address)


def partitions(frames: Frames, parts: int) -> list[Frames]:
    """The frames in `parts` pieces by grid (largest grids first, each to the smallest piece so far)."""
    frames = Frames.of(frames)
    sizes = frames.customers["grid"].value_counts()
    load = np.zeros(max(1, parts), dtype=np.int64)
    piece_of_grid = {}
    for grid, size in sizes.items():
        piece = int(load.argmin())
        piece_of_grid[grid] = piece
        load[piece] += size
    piece = pd.Series(frames.customers["grid"].map(piece_of_grid).to_numpy(),
                      index=pd.Index(frames.customers["customer_id"]))
    out = []
    for k in range(len(load)):
        if not load[k]:
            continue
        ids = piece.index[piece.to_numpy() == k]
        out.append(dataclasses.replace(frames, **{
            f.name: _rows_of(getattr(frames, f.name), ids) for f in dataclasses.fields(Frames)}))
    return out


def _rows_of(frame: pd.DataFrame | None, ids: pd.Index) -> pd.DataFrame | None:
    if frame is None:
        return None
    return frame.loc[frame["customer_id"].isin(ids)].reset_index(drop=True)


def _windows_frame(frames: Frames, origins: list, options: dict) -> pd.DataFrame:
    """One partition's stacked windows as one flat frame: features, default, unpaid_fen, points."""
    w = stack_windows(frames, origins, **options)
    return w.X.assign(default=w.y, unpaid_fen=w.unpaid_fen, points=w.points).reset_index()


def _workers(client: Client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def train_on_cluster(client: Client, frames: Frames | dict, as_of, *, model: ArrearsModel | None = None,
                     windows: int = 6, step_months: int = 1, horizon_days: int = HORIZON_DAYS,
                     grace_days: int = GRACE_DAYS, tz: str = DEFAULT_TZ, rule: PointsRule = DEFAULT_RULE,
                     parts: int | None = None) -> TrainingResult:
    """train() on a Dask cluster: the same windows, model, calibration, baseline and figures."""
    import dask.dataframe as dd
    import xgboost as xgb
    import xgboost.dask  # the submodule is not loaded by `import xgboost`
    from sklearn.base import clone

    frames = Frames.of(frames)
    origins, validation = rolling_origins(as_of, windows=windows, step_months=step_months,
                                          horizon_days=horizon_days, grace_days=grace_days)
    options = {"horizon_days": horizon_days, "grace_days": grace_days, "tz": tz, "rule": rule}
    pieces = client.scatter(partitions(frames, parts or 2 * _workers(client)))
    fit_parts = client.map(_windows_frame, pieces, origins=origins, options=options)
    val_parts = client.map(_windows_frame, pieces, origins=[validation], options=options)
    meta = client.submit(lambda frame: frame.iloc[:0], fit_parts[0]).result()
    fit_on = dd.from_delayed(fit_parts, meta=meta, verify_meta=False)
    val = pd.concat(client.gather(val_parts), ignore_index=True)

    estimator = clone(model) if model is not None else ArrearsModel()
    names = [n for n in meta.columns if n in FEATURES]
    labels = fit_on[["default", "points"]].compute()
    params = estimator.booster_params(names, labels["default"].to_numpy())
    dtrain = xgb.dask.DaskDMatrix(client, fit_on[names].astype(np.float32), fit_on["default"],
                                  feature_names=names)
    dval = xgb.dask.DaskDMatrix(client, dd.from_pandas(val[names].astype(np.float32), npartitions=len(pieces)),
                                dd.from_pandas(val["default"], npartitions=len(pieces)), feature_names=names)
    trained = xgb.dask.train(client, params, dtrain, num_boost_round=estimator.n_estimators,
                             evals=[(dval, "validation")], early_stopping_rounds=estimator.early_stopping_rounds,
                             verbose_eval=False)
    local_val = xgb.DMatrix(val[names].to_numpy(np.float32), feature_names=names)
    estimator.fitted(trained["booster"], names, params, stopped=estimator.early_stopping_rounds is not None,
                     margin=None, target=val["default"].to_numpy(), calibrate_on=local_val)
    baseline = PointsBaseline().fit(labels["points"].to_numpy(), labels["default"])
    X_val = val.set_index(["origin", "customer_id"])[names]
    y_val = val["default"].to_numpy()
    evaluation = {
        "window": {"origin": validation.isoformat(), "kind": "validation"},
        "training": {"origins": [o.isoformat() for o in origins], "rows": len(labels),
                     "defaulters": int(labels["default"].sum()), "trees": estimator.best_iteration_ + 1,
                     "cluster": {"workers": _workers(client), "partitions": len(pieces)}},
        **compare(y_val, estimator.predict_proba(X_val)[:, 1],
                  baseline.predict_proba(val["points"].to_numpy())[:, 1], amount=val["unpaid_fen"].to_numpy()),
    }
    share = min(1.0, DRIFT_SAMPLE / max(len(labels), 1))
    sample = fit_on[names].sample(frac=share, random_state=0).compute() if share < 1 else fit_on[names].compute()
    return TrainingResult(model=estimator, baseline=baseline, evaluation=evaluation,
                          as_of=pd.Timestamp(as_of).date(), training_origins=origins, validation_origin=validation,
                          horizon_days=horizon_days, grace_days=grace_days, drift_reference=reference_bins(sample))


def score_on_cluster(client: Client, model: ArrearsModel, frames: Frames | dict, as_of, *, top_k: int = 3,
                     tz: str = DEFAULT_TZ, rule: PointsRule = DEFAULT_RULE, parts: int | None = None) -> pd.DataFrame:
    """score_customers() with each partition scored on a worker; rows in the order of the customers frame."""
    frames = Frames.of(frames)
    pieces = client.scatter(partitions(frames, parts or 2 * _workers(client)))
    shared = client.scatter(model, broadcast=True)
    futures = client.map(lambda f, m: score_customers(m, f, as_of, top_k=top_k, tz=tz, rule=rule), pieces,
                         m=shared)
    scored = pd.concat(client.gather(futures))
    order = pd.Index(frames.customers["customer_id"])
    return scored.reindex(order[order.isin(scored.index)])
