"""The engine is pure: no web framework, database driver or service code, and nothing pickled."""

from __future__ import annotations

import ast
import pathlib

import pytest

SCORING = pathlib.Path(__file__).resolve().parents[2] / "scoring"
FORBIDDEN = {"flask", "flask_sqlalchemy", "flask_smorest", "flask_migrate", "flask_login", "flask_babel",
             "sqlalchemy", "psycopg", "psycopg2", "alembic", "recovery", "pickle", "cloudpickle", "joblib", "dill"}


def _imports(path: pathlib.Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


MODULES = sorted(SCORING.glob("*.py"))


def test_the_engine_has_its_named_modules():
    names = {p.stem for p in MODULES}
    assert {"features", "labels", "model", "training", "baseline", "evaluate", "explain", "loss", "drift"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_imports_nothing_from_the_service_or_the_database(path):
    assert not _imports(path) & FORBIDDEN

