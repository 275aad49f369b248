"""The main journeys in a real browser: an officer works a customer from the risk list to the worklist, a
supervisor approves the officer's write-off; in English and in Chinese. The screenshots are the README's
(written to $RECOVERY_SCREENSHOTS when set, e.g. docs/screenshots)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from recovery.timeutil import today
from tests.browser.conftest import PHONE
from tests.web.data import PASSWORD, load_district

pytestmark = pytest.mark.browser


@pytest.fixture
def district(recovery, tmp_path):
    load_district(recovery, tmp_path)
    result = recovery("worklist", "build", "--date", today().isoformat())
    assert result.exit_code == 0, result.output


def shot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=tmp_path / f"{name}.png", full_page=True)
    folder = os.environ.get("RECOVERY_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(folder) / f"{name}.png", full_page=True)


def sign_in(page: Page, username: str, *, english: bool = True, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="客户")).to_be_visible()
    if english:
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", name="Customers")).to_be_visible()


def open_rows(page: Page, code: str):
    return page.locator("table.worklist tbody tr", has=page.get_by_role("link", name=code, exact=True))


def test_officer_works_a_customer_from_the_risk_list_to_the_worklist(visit, district, recovery, tmp_path):
    page = visit.open()
    sign_in(page, "li")
    expect(page.locator("table.customers td.code a").first).to_have_text("C3")  # most overdue first
    shot(page, tmp_path, "risk-list")

    page.goto("/worklist")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    expect(open_rows(page, "C1")).to_have_count(1)  # C1 is in arrears and nobody has called yet: one row
    page.screenshot(path=tmp_path / "worklist.png", full_page=True)

    page.get_by_role("link", name="C1", exact=True).first.click()
    expect(page.get_by_role("heading", name="王建国")).to_be_visible()
    page.get_by_text("Record a visit or call").click()
    visit_form = page.locator('form[data-form="visit"]')
    visit_form.get_by_label("Kind").select_option("visit")
    visit_form.get_by_label("Outcome").select_option("promised")
    visit_form.get_by_label("Note", exact=True).fill("Met the owner at the shop; pays on the due date")
    visit_form.get_by_role("button", name="Record").click()
    expect(page.locator("table.visits")).to_contain_text("Met the owner at the shop")

    page.get_by_text("Record a promise to pay").click()
    promise_form = page.locator('form[data-form="promise"]')
    promise_form.get_by_label("Amount (yuan)").fill("500.00")
    promise_form.get_by_label("Pay by").fill(today().isoformat())
    promise_form.get_by_role("button", name="Record").click()
    expect(page.locator("table.promises")).to_contain_text("500.00")
    shot(page, tmp_path, "customer")

    # The morning's list is built again (as the scheduler does at 05:00): the promise falling due today is
    # on it, to be followed up.
    assert recovery("worklist", "build", "--date", today().isoformat()).exit_code == 0
    page.goto("/worklist")
    row = open_rows(page, "C1")
    expect(row).to_have_count(1)  # one row for the customer, carrying every reason
    expect(row).to_contain_text("Promise to pay falls due today")
    row.get_by_label("Outcome").select_option(index=0)
    row.get_by_role("button", name="Done").click()
    expect(page.locator("table.worklist-done")).to_contain_text("C1")
    expect(open_rows(page, "C1")).to_have_count(0)
    assert visit.foreign_requests() == []


def test_supervisor_approves_the_write_off_an_officer_asked_for(visit, district, tmp_path):
    officer = visit.open()
    sign_in(officer, "li")
    officer.goto("/customers/C3")
    section = officer.locator('[data-section="writeoff"]')
    section.get_by_text("Request a write-off").click()
    section.get_by_label("Reason").fill("the factory closed; the owner cannot be found")
    section.get_by_label("Evidence that the debt cannot be collected").fill("court notice of 2025-09-01")
    section.get_by_role("button", name="Send for approval").click()
    expect(officer.locator('[data-field="write-off-pending"]')).to_contain_text("3,000.00")

    supervisor = visit.open()
    sign_in(supervisor, "zhao")
    supervisor.goto("/approvals")
    request = supervisor.locator("tr", has_text="C3")
    expect(request).to_contain_text("3,000.00")
    supervisor.screenshot(path=tmp_path / "approvals.png", full_page=True)
    request.get_by_role("button", name="Approve").click()
    supervisor.goto("/customers/C3")
    expect(supervisor.locator('[data-field="balance"]')).to_have_text("0.00")
    expect(supervisor.locator('[data-section="writeoff"]')).to_contain_text("3,000.00")
    assert visit.foreign_requests() == []


def test_the_main_pages_in_chinese_on_a_phone(visit, district, tmp_path):
    page = visit.open(PHONE, phone=True)
    sign_in(page, "li", english=False)
    for path, heading, name in [("/worklist", "工作清单", "phone-worklist-zh"), ("/dashboard", "总览", "dashboard-zh"),
                                ("/customers/C1", "王建国 C1", "phone-customer-zh")]:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        assert not re.search(r"\b(Worklist|Dashboard|Collection work)\b", page.locator("main").inner_text())
        shot(page, tmp_path, name)
    assert visit.foreign_requests() == []
