"""Draw the service's layers from its imports, as a Mermaid diagram in docs/architecture.md.

    .venv/bin/python scripts/architecture_graph.py          # rewrite the diagram in docs/architecture.md
    .venv/bin/python scripts/architecture_graph.py --check  # exit 1 when the diagram is out of date

Each module of `recovery`, `scoring` and `reconciliation` is put in a layer by its name; an arrow from one layer to
another counts the modules' imports between them (grimp, the import graph import-linter reads). An arrow that
points up the layers would be drawn dashed; the contracts in pyproject.toml keep there being none that matter.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import grimp

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
PACKAGE = DOC.parents[1] / "recovery"
BEGIN, END = "<!-- layers: begin (scripts/architecture_graph.py) -->", "<!-- layers: end -->"

# Top to bottom: a layer may import the layers below it.
LAYERS = (
    ("app", "create_app and each domain's registration"),
    ("commands", "commands (click) and the demo builder"),
    ("pages", "pages and the JSON API"),
    ("jobs", "the job runner and scheduler"),
    ("queries", "queries: the reads"),
    ("services", "services: the rules"),
    ("ledger", "recovery.ledger: the one writer of money"),
    ("models", "models"),
    ("base", "money, time, policy, errors, db"),
    ("engines", "engines: scoring, reconciliation"),
)
BASE = {"unitofwork", "extensions", "money", "timeutil", "policy", "errors", "bounds", "types", "config", "models",
        "crypto", "bulk", "locks", "progress", "csvexport", "inputguard", "apidoc", "context", "csvfile", "columns",
        "sections"}


def layer(module: str) -> str | None:
    """The layer a module belongs to by its name; None for the migrations (Alembic's own)."""
    parts = module.split(".")
    last = parts[-1]
    if parts[0] in ("scoring", "reconciliation"):
        return "engines"
    if "migrations" in parts:
        return None
    if parts[1:2] == ["ledger"] and not (last == "models" or last.endswith("_models")):
        return "ledger"
    if module in ("recovery", "recovery.domains") or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()):
        return "app"  # the app factory, and each domain package's registration of its views and commands
    if last == "models" or last.endswith("_models"):
        return "models"
    if last in ("cli", "cliutil") or last.endswith("_cli") or parts[1:2] == ["demo"]:
        return "commands"
    if last in ("views", "forms") or last.endswith("_views"):
        return "pages"
    if parts[1:2] == ["jobs"]:
        return "jobs"
    if last == "queries":
        return "queries"
    if len(parts) == 2 and last in BASE:
        return "base"
    return "services"


def diagram() -> str:
    """The Mermaid source of the layers and the imports between them."""
    graph = grimp.build_graph("recovery", "scoring", "reconciliation")
    order = {name: i for i, (name, _) in enumerate(LAYERS)}
    edges: Counter[tuple[str, str]] = Counter()
    for importer in graph.modules:
        source = layer(importer)
        for imported in graph.find_modules_directly_imported_by(importer):
            target = layer(imported)
            if source and target and source != target:
                edges[source, target] += 1
    lines = ["```mermaid", "flowchart TB"]
    lines += [f'    {name}["{label}"]' for name, label in LAYERS]
    for (source, target), count in sorted(edges.items(), key=lambda e: (order[e[0][0]], order[e[0][1]])):
        arrow = "-->" if order[source] < order[target] else "-.->"
        lines.append(f"    {source} {arrow}|{count}| {target}")
    lines.append("```")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    updated = f"{head}{BEGIN}\n{diagram()}\n{END}{tail}"
    if "--check" in argv:
        if updated != text:
            print(f"{DOC} is out of date: run .venv/bin/python scripts/architecture_graph.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
