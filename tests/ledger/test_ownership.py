"""Only recovery.ledger writes money: no other module of the service constructs a ledger entry or an
allocation, inserts into, updates or deletes from their tables, or names them in raw SQL."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import recovery

OWNED = {"LedgerEntry", "Allocation", "PenaltyAllocation"}
TABLES = re.compile(r"\b(insert\s+into|update|delete\s+from|copy)\s+(ledger_entries|allocations|penalty_allocations)\b",
                    re.IGNORECASE)
WRITERS = {"insert", "update", "delete", "insert_frame", "stage"}
ROOT = Path(recovery.__file__).parent


def _owned(node: ast.AST) -> str | None:
    """The owned model a node names: `LedgerEntry`, `LedgerEntry.__table__`, `models.Allocation` …"""
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        node = node.value
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    return name if name in OWNED else None


def _writes(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if called in OWNED:
                found.append((node.lineno, f"constructs {called}"))
            elif called in WRITERS and any(_owned(a) for a in node.args):
                found.append((node.lineno, f"{called}({next(_owned(a) for a in node.args if _owned(a))})"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and TABLES.search(node.value):
            found.append((node.lineno, f"raw SQL {TABLES.search(node.value).group(0)!r}"))
    return found


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] not in ("ledger", "migrations"):
            yield relative, path


def test_no_module_outside_the_ledger_writes_entries_or_allocations():
    offenders = [f"recovery/{relative}:{line}: {what}"
                 for relative, path in _modules() for line, what in _writes(ast.parse(path.read_text()))]
    assert offenders == []


def test_the_check_finds_each_way_of_writing():
    source = '''
entry = LedgerEntry(customer_id=1, kind="payment", amount_fen=-100, effective_on=day)
session.execute(insert(LedgerEntry).from_select(columns, rows))
bulk.insert_frame(session, Allocation.__table__, frame)
session.execute(delete(PenaltyAllocation).where(PenaltyAllocation.customer_id == 1))
session.execute(text("INSERT INTO ledger_entries (customer_id) VALUES (1)"))
'''
    assert sorted(line for line, _ in _writes(ast.parse(source))) == [2, 3, 4, 5, 6]
    assert _writes(ast.parse("rows = session.execute(select(LedgerEntry.amount_fen))")) == []
