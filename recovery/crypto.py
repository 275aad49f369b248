"""Secrets at rest: Fernet (AES-128-CBC with HMAC-SHA256) under keys that can be rotated."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k) for k in current_app.config["ENCRYPTION_KEYS"]])


def encrypt(plain: str) -> str:
    """Encrypt with the newest key."""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with whichever configured key made the token."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as e:
        raise RuntimeError("a stored secret cannot be decrypted with the configured encryption keys") from e
