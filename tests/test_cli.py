"""The command line's contract: every command listed, one-line errors, non-zero exits."""

from __future__ import annotations

from click.testing import CliRunner

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
