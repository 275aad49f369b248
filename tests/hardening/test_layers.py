"""Reads apart from writes: a view asks its domain's queries and services; it never builds a query itself."""

from __future__ import annotations

import ast
from pathlib import Path

RECOVERY = Path(__file__).resolve().parents[2] / "recovery"
VIEWS = sorted([*RECOVERY.rglob("views.py"), *RECOVERY.rglob("*_views.py"), RECOVERY / "forms.py"])


def _builds_a_query(path: Path) -> list[str]:
    """Where the module calls sqlalchemy's select() or imports anything from sqlalchemy."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found.append(f"line {node.lineno}: from {node.module} import …")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "select":
            found.append(f"line {node.lineno}: select(…)")
    return found


def test_the_view_modules_are_found():
    names = {p.relative_to(RECOVERY).as_posix() for p in VIEWS}
    assert {"web/views.py", "collections/views.py", "credit/security/views.py", "payments/direct_debit/views.py",
            "payments/channels/views.py"} <= names
    assert len(VIEWS) >= 20


def test_no_view_builds_a_query():
    offenders = {p.relative_to(RECOVERY).as_posix(): found for p in VIEWS if (found := _builds_a_query(p))}
    assert offenders == {}


def test_the_check_sees_a_query_built_in_a_view(tmp_path):
    sample = tmp_path / "views.py"
    sample.write_text("from sqlalchemy import select\n\ndef page(s):\n    return s.scalars(select(1))\n")
    assert _builds_a_query(sample) == ["line 1: from sqlalchemy import …", "line 4: select(…)"]
