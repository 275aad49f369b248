"""The command line's contract: every command listed, one-line errors, non-zero exits."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from flask.cli import cli as flask_cli

from recovery import create_app
from recovery.cli import cli


def test_help_lists_the_contract_commands_present_so_far():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "demo", "import", "stats", "report", "serve", "user"):
        assert f"  {command} " in result.output


def test_unreachable_database_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(cli, ["stats", "--json"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: database unavailable:")
    assert result.stderr.count("\n") == 1


def test_missing_import_file_is_a_one_line_error(recovery, tmp_path):
    result = recovery("import", "bills", tmp_path / "nope.csv")
    assert result.exit_code == 1
    assert "nope.csv:0: file: cannot read" in result.stderr


def test_a_database_without_the_schema_says_to_run_init(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    result = CliRunner().invoke(cli, ["stats", "--json"])
    assert result.exit_code == 1
    assert "run `recovery init`" in result.stderr


# The commands contracts.md names; `flask --app wsgi …` must reach each of them as `recovery …` does.
CONTRACT_COMMANDS = [("init",), ("demo",), ("import",), ("stats",), ("report", "ageing"), ("agent", "create"),
                     ("reconcile", "run"), ("reconcile", "report"), ("statement", "show"), ("model", "train"),
                     ("model", "score"), ("model", "evaluate"), ("serve",), ("night",)]


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under the group, groups included."""
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _paths(command, (*prefix, name))
    return found


@pytest.fixture(scope="module")
def bare_app():
    """An application that never opens its database: enough to resolve commands and print their help."""
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test-only-secret", "TESTING": True})


def test_flask_reaches_every_recovery_command_and_each_contract_command(bare_app):
    runner = bare_app.test_cli_runner()
    paths = _paths(cli)
    assert set(CONTRACT_COMMANDS) <= set(paths)
    for path in paths:
        result = runner.invoke(flask_cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert f"Usage: flask {' '.join(path)} " in result.output, path


def test_an_error_through_flask_is_the_same_one_line_error(bare_app):
    result = bare_app.test_cli_runner().invoke(flask_cli, ["jobs", "run", "no.such.job"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no job 'no.such.job'; jobs: billing.penalties, ")
    assert result.stderr.count("\n") == 1


def test_flask_and_recovery_print_the_same_stats(app, recovery):
    through_flask = app.test_cli_runner().invoke(flask_cli, ["stats", "--json"])
    assert through_flask.exit_code == 0
    assert json.loads(through_flask.output) == json.loads(recovery("stats", "--json").output)
    assert json.loads(through_flask.output)["customers"] == 0


def test_recovery_version_is_fee_recoverys_own():
    with open(Path(__file__).parents[1] / "pyproject.toml", "rb") as f:
        declared = tomllib.load(f)["project"]["version"]
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == f"fee-recovery {declared}" == "fee-recovery 0.1.0"
