"""The demo as a new user meets it: each role signs in and finds work on its pages, in English on a laptop
and in Chinese on a 390-pixel phone. The worklist holds no more than the officer's day, one row per customer.
The screenshots are the README's (written to $RECOVERY_SCREENSHOTS when set)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from playwright.sync_api import Page, expect

from recovery.timeutil import today
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_journeys import shot, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "demo-password-123"
# The default [worklist] capacity: 40 calls and 6 visits a day.
MOST_ROWS = 46


@pytest.fixture
def demo(recovery, monkeypatch):
    """A small demo utility with its recent work staged and this morning's worklist built."""
    monkeypatch.setenv("RECOVERY_DEMO_PASSWORD", PASSWORD)
    result = recovery("demo", "--customers", "400", "--months", "15")
    assert result.exit_code == 0, result.output
    assert recovery("jobs", "run", "collections.worklist", "--date", today().isoformat()).exit_code == 0
    if os.environ.get("RECOVERY_SCREENSHOTS"):
        # The README's dashboard shows the risk charts too: score the customers as the night does.
        assert recovery("jobs", "run", "risk.score", "--date", today().isoformat()).exit_code == 0


def fits(page: Page) -> None:
    """Nothing reaches past the screen's edge (a wide table scrolls inside its own box)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_every_role_finds_work_on_first_sign_in(visit, demo, tmp_path):
    # One demo, seen twice: in English on a laptop, then in Chinese on a phone.
    for english, viewport in ((True, DESKTOP), (False, PHONE)):
        _every_role_finds_work(visit, tmp_path, english, viewport)


def _every_role_finds_work(visit, tmp_path, english: bool, viewport) -> None:
    phone = viewport is PHONE
    prefix = "demo-" if english else "demo-phone-zh-"

    officer = visit.open(viewport, phone=phone)
    sign_in(officer, "officer01", english=english, password=PASSWORD)
    officer.goto("/worklist")
    rows = officer.locator("table.worklist tbody tr[data-customer]")
    expect(rows.first).to_be_visible()
    customers = [rows.nth(i).get_attribute("data-customer") for i in range(rows.count())]
    assert 0 < len(customers) <= MOST_ROWS and len(set(customers)) == len(customers)
    progress = officer.locator('[data-progress="left"] strong')
    assert int(progress.inner_text()) == len(customers)
    fits(officer)
    shot(officer, tmp_path, f"{prefix}worklist")
    officer.goto("/dashboard", timeout=30_000)  # the heaviest page, on a machine running the suite beside it
    expect(officer.locator("#ageing-chart[data-drawn] svg")).to_have_count(1)
    fits(officer)
    if english:
        shot(officer, tmp_path, f"{prefix}dashboard")

    clerk = visit.open(viewport, phone=phone)
    sign_in(clerk, "clerk", english=english, password=PASSWORD)
    clerk.goto("/reconcile")
    open_breaks = clerk.locator("table.recon-channels td.late a")
    expect(open_breaks.first).to_be_visible()  # yesterday's statements left breaks to work
    assert sum(int(t) for t in open_breaks.all_inner_texts()) > 0
    fits(clerk)
    shot(clerk, tmp_path, f"{prefix}reconcile")

    supervisor = visit.open(viewport, phone=phone)
    sign_in(supervisor, "supervisor", english=english, password=PASSWORD)
    supervisor.goto("/approvals")
    waiting = supervisor.locator("table.approvals tbody tr[data-request]")
    expect(waiting).to_have_count(3)  # a write-off, a disconnection and a confirmed theft's charges
    fits(supervisor)
    shot(supervisor, tmp_path, f"{prefix}approvals")
    supervisor.goto("/worklist")
    expect(supervisor.locator("table.team-load tr[data-officer]").first).to_be_visible()
    fits(supervisor)
    supervisor.goto("/assessment?month=" + (today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m"))
    expect(supervisor.locator('[data-field="closed"]')).to_contain_text("Closed on" if english else "已于")
    fits(supervisor)

    inspector = visit.open(viewport, phone=phone)
    sign_in(inspector, "inspector01", english=english, password=PASSWORD)
    inspector.goto("/loss/suspects")
    expect(inspector.locator("table.suspects tbody tr[data-customer]").first).to_be_visible()
    fits(inspector)
    inspector.goto("/loss/inspections")
    expect(inspector.locator("table.inspections tbody tr[data-inspection]").first).to_be_visible()
    fits(inspector)
    assert visit.foreign_requests() == []
