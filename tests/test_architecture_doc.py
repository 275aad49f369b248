"""docs/architecture.md's picture of the layers is the code's: redrawn from the imports, it is unchanged."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "architecture_graph.py"


def _script():
    spec = importlib.util.spec_from_file_location("architecture_graph", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_layers_picture_is_current():
    assert _script().main(["--check"]) == 0, "run .venv/bin/python scripts/architecture_graph.py"


def test_modules_fall_in_the_layers_their_names_say():
    layer = _script().layer
    assert layer("recovery.collections.views") == "pages"
    assert layer("recovery.payments.direct_debit.views") == "pages"
    assert layer("recovery.payments.direct_debit.cli") == "commands"
    assert layer("recovery.jobs.models") == "models"
    assert layer("recovery.ledger.allocations") == "ledger"
    assert layer("recovery.loss.queries") == "queries"
    assert layer("recovery.credit.rating.ratings") == "services"
    assert layer("recovery.money") == "base"
    assert layer("scoring.features") == "engines"
    assert layer("recovery.migrations.env") is None
    assert layer("recovery.payments") == "app"  # a domain package registers its views and commands
