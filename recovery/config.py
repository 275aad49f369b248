"""Settings, read from the environment when the app is created (never at import time)."""

from __future__ import annotations

import os
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from recovery.policy import read_policy_file


def instance_secret(path: Path, make) -> str:
    """The secret kept in `path`, created with `make()` on first use.

    Several processes may start at once (web workers, test workers): the secret is written to a
    private temporary file and hard-linked into place, so exactly one wins and nobody ever reads a
    half-written file. Owner-only permissions: these sign sessions and encrypt agents' secrets.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(make())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won; use its secret
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated into the instance folder on first run."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    return instance_secret(instance / "secret_key", lambda: secrets.token_hex(32))


def _encryption_keys(instance: Path) -> list[str]:
    """Fernet keys for secrets at rest: RECOVERY_ENCRYPTION_KEYS (comma-separated, newest first, so
    keys can be rotated), else one generated into the instance folder on first run."""
    if keys := os.environ.get("RECOVERY_ENCRYPTION_KEYS"):
        return [k.strip() for k in keys.split(",") if k.strip()]
    from cryptography.fernet import Fernet

    return [instance_secret(instance / "encryption_key", lambda: Fernet.generate_key().decode())]


def _ratio(text: str) -> Decimal:
    """A non-negative decimal ratio from the environment (never a float: it multiplies money)."""
    try:
        ratio = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"RECOVERY_AGENT_LIMIT_RATIO must be a decimal number, not {text!r}") from None
    if not ratio.is_finite() or ratio < 0:
        raise ValueError(f"RECOVERY_AGENT_LIMIT_RATIO must be a non-negative number, not {text!r}")
    return ratio


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
        "AGENT_LIMIT_RATIO": _ratio(os.environ.get("RECOVERY_AGENT_LIMIT_RATIO", "1")),
        # The largest request body taken (bytes): a bigger one is refused with 413 before it is read.
        # JSON calls are tiny; the ceiling is for uploaded bank files.
        "MAX_CONTENT_LENGTH": int(os.environ.get("RECOVERY_MAX_CONTENT_LENGTH", str(16 * 1024 * 1024))),
        # The utility's policy (rating scales, rates, rules): RECOVERY_POLICY or instance/policy.toml.
        "POLICY": read_policy_file(instance),
    }
