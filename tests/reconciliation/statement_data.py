"""Where the real statement files are: the shared folder beside the repository, and the public fixtures
kept in the repository (tests/data/statements, sources in its MANIFEST.tsv)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "statements"
REPO = Path(__file__).resolve().parents[1] / "data" / "statements"


def shared_statements() -> Path | None:
    """The shared folder, or None outside CI; under CI (CI=true) its absence fails the run, never skips."""
    if SHARED.is_dir():
        return SHARED
    if os.environ.get("CI") == "true":
        pytest.fail(f"the shared statement files are missing: {SHARED} (CI runs every statement test)",
                    pytrace=False)
    return None


def statement_files(folder: Path | None) -> list[Path]:
    if folder is None:
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "MANIFEST.tsv")


def fmt_of(path: Path) -> str:
    if path.parent.name == "mt940":
        return "mt940"
    return "camt054" if "camt054" in path.name else "camt053"
