"""The reconciliation engine is pure: no web framework, database or service code, nothing pickled."""

from __future__ import annotations

import ast
import pathlib

import pytest

ENGINE = pathlib.Path(__file__).resolve().parents[2] / "reconciliation"
FORBIDDEN = {"flask", "flask_sqlalchemy", "flask_smorest", "flask_migrate", "flask_login", "flask_babel",
             "sqlalchemy", "psycopg", "psycopg2", "alembic", "recovery", "pickle", "cloudpickle", "joblib", "dill"}
MODULES = sorted(ENGINE.rglob("*.py"))


def _imports(path: pathlib.Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_engine_has_its_matcher_and_formats():
    assert {"matching.py", "channel_csv.py", "mt940.py", "camt.py"} <= {p.name for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ENGINE)))
def test_module_imports_nothing_from_the_service_or_the_database(path):
    assert not _imports(path) & FORBIDDEN
