"""Long commands show progress on a terminal and nothing when piped (contracts.md, "Command line")."""

from __future__ import annotations

import io
import time

from recovery.progress import progress, working


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_step_shows_its_name_and_time_and_a_bar_its_count(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    with working("credit rate 2026-11-22"):
        time.sleep(0.6)  # the bar is refreshed twice a second while the step works
    assert screen.getvalue().count("credit rate 2026-11-22: 00:00") >= 2
    list(progress(range(4), desc="demo", unit="chunk"))
    assert "demo: 100%" in screen.getvalue() and "4/4" in screen.getvalue()


def test_piped_nothing_is_written(monkeypatch):
    piped = io.StringIO()
    monkeypatch.setattr("sys.stderr", piped)
    with working("import bills bills.csv"):
        time.sleep(0.6)
    list(progress(range(4), desc="demo"))
    assert piped.getvalue() == ""
