"""Settings, read from the environment when the app is created (never at import time)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated into the instance folder on first run."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        # Created with owner-only permissions: it signs every session.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def _encryption_keys(instance: Path) -> list[str]:
    """Fernet keys for secrets at rest: RECOVERY_ENCRYPTION_KEYS (comma-separated, newest first, so
    keys can be rotated), else one generated into the instance folder on first run."""
    if keys := os.environ.get("RECOVERY_ENCRYPTION_KEYS"):
        return [k.strip() for k in keys.split(",") if k.strip()]
    path = instance / "encryption_key"
    if not path.exists():
        from cryptography.fernet import Fernet

        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(Fernet.generate_key().decode())
    return [path.read_text().strip()]


def from_environment(instance: Path) -> dict:
    """The settings the contract names, with their defaults."""
    tz = os.environ.get("RECOVERY_TZ", "Asia/Shanghai")
    ZoneInfo(tz)  # fail at start-up, not at the first date computed
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'recovery.sqlite'}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we install.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "RECOVERY_TZ": tz,
        "SECRET_KEY": _secret_key(instance),
        "ENCRYPTION_KEYS": _encryption_keys(instance),
        # Trained model versions (XGBoost UBJ + manifest); default: the instance folder's `models`.
        "MODELS_DIR": os.environ.get("RECOVERY_MODELS_DIR"),
        # An agent may hold unremitted takings up to its deposit times this.
        "AGENT_LIMIT_RATIO": float(os.environ.get("RECOVERY_AGENT_LIMIT_RATIO", "1")),
    }
