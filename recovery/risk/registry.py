"""Model versions: each trained model in its own folder (XGBoost UBJ + JSON manifest), one marked active."""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import current_app

from recovery.errors import NotFound
from recovery.timeutil import now
from scoring import ArrearsModel, TrainingResult


def root() -> Path:
    """Where versions live: RECOVERY_MODELS_DIR, else the instance folder's `models`."""
    return Path(current_app.config.get("MODELS_DIR") or Path(current_app.instance_path) / "models")


def save(result: TrainingResult) -> str:
    """Store a trained model as a new version and make it the active one; returns the version."""
    version = now().strftime("%Y%m%dT%H%M%S%fZ") + f"-asof-{result.as_of.isoformat()}"
    result.save(root() / version)
    activate(version)
    return version


def activate(version: str) -> None:
    """Mark a stored version as the one scoring uses (an atomic rename, safe against readers)."""
    if not (root() / version / "manifest.json").is_file():
        raise NotFound(f"no model version {version}", code="model_not_found")
    pointer = root() / "ACTIVE"
    temporary = pointer.with_suffix(".tmp")
    temporary.write_text(version)
    os.replace(temporary, pointer)


def active() -> tuple[str, ArrearsModel]:
    """The active version and its model."""
    pointer = root() / "ACTIVE"
    if not pointer.is_file():
        raise NotFound("no trained model yet: run `recovery model train --as-of D` first", code="no_active_model")
    version = pointer.read_text().strip()
    return version, ArrearsModel.load(root() / version)


def versions() -> list[dict]:
    """Every stored version with its training window and validation figures, newest first."""
    current = (root() / "ACTIVE").read_text().strip() if (root() / "ACTIVE").is_file() else None
    out = []
    for folder in sorted(root().glob("*/manifest.json"), reverse=True):
        manifest = json.loads(folder.read_text())
        out.append({"version": folder.parent.name, "active": folder.parent.name == current,
                    "training_window": manifest.get("training_window"), "metrics": manifest.get("metrics")})
    return out
