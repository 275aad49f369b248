"""Settings: instance secrets are created once, even when many processes start together."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from recovery.config import instance_secret


def _read(path: str) -> str:
    import secrets
    from pathlib import Path

    return instance_secret(Path(path), lambda: secrets.token_hex(32))


def test_processes_starting_together_share_one_instance_secret(tmp_path):
    path = tmp_path / "instance" / "secret_key"
    with ProcessPoolExecutor(max_workers=8) as pool:
        seen = set(pool.map(_read, [str(path)] * 32))
    assert len(seen) == 1 and len(seen.pop()) == 64
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary files left
