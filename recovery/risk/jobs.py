"""The nightly scoring job."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from recovery.audit import service as audit
from recovery.errors import NotFound
from recovery.risk import registry
from recovery.risk.service import drift, scores, train_model
from scoring.model import InsufficientOutcomes


def nightly_score(session: Session, day: dt.date) -> dict:
    """Score every customer as of `day` with the active model and store the run (a rerun replaces it).

    A new installation has no model yet: the first night trains one on what is known at `day`, so the
    officer pages have scores the next morning without anyone running a command. The drift check runs
    beside it and its verdict goes into the run's summary (`recovery jobs history`).
    """
    trained = None
    try:
        registry.active()
    except NotFound:
        try:
            trained, evaluation = train_model(session, day)
        except InsufficientOutcomes as e:
            # A young installation: no customer has yet defaulted (or none paid). Nothing to score with until
            # the history has both; the night goes on and the job says why it scored nobody.
            return {"model_version": None, "trained": None, "scored": 0, "skipped": f"no model yet: {e}"}
        audit.record(session, "model.train", "model", trained, actor="system", as_of=day.isoformat(),
                     auc=evaluation.get("model", {}).get("roc_auc"))
    version, _model = registry.active()
    frame = scores(session, day)
    check = drift(session, day)
    return {"model_version": version, "trained": trained, "scored": len(frame),
            "stale": check["stale"], "drifted_features": check["drifted_features"]}
