"""An officer's day in a real browser: sign in, sort, open a customer, switch language, on a phone too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.web.data import PASSWORD, load_district

pytestmark = pytest.mark.browser


@pytest.fixture
def district(recovery, tmp_path):
    load_district(recovery, tmp_path)


def sign_in(page: Page, username: str = "li") -> None:
    page.goto("/customers")
    assert "/login?next=" in page.url  # the list asks for sign-in first
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="客户")).to_be_visible()


def codes(page: Page) -> list[str]:
    return page.locator("table.customers td.code a").all_inner_texts()


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_officer_signs_in_sorts_by_overdue_and_opens_a_customers_ledger(visit, district, tmp_path):
    page = visit.open()
    sign_in(page)
    assert sorted(codes(page)) == ["C1", "C2", "C3", "C5"]

    page.get_by_role("link", name="户号").click()
    expect(page.locator("table.customers td.code a").first).to_have_text("C5")
    page.get_by_role("link", name="欠费（元）").click()  # most overdue first
    expect(page.locator("table.customers td.code a").first).to_have_text("C3")
    assert codes(page) == ["C3", "C1", "C2", "C5"]
    page.screenshot(path=tmp_path / "desktop-list.png", full_page=True)

    page.get_by_role("link", name="C1", exact=True).click()
    expect(page.get_by_role("heading", name="王建国")).to_be_visible()
    ledger = page.locator("table.ledger tbody tr")
    expect(ledger).to_have_count(3)
    running = page.locator("table.ledger td.running").first
    expect(running).to_have_text(page.locator('[data-field="balance"]').inner_text())
    expect(running).to_have_text("1,234.56")
    expect(page.locator("table.payments")).to_contain_text("2025-01-16 07:30")
    page.screenshot(path=tmp_path / "desktop-customer.png", full_page=True)

    assert visit.foreign_requests() == []


def test_phone_view_fits_the_screen_and_labels_every_value(visit, district, tmp_path):
    page = visit.open(PHONE, phone=True)
    sign_in(page)
    page.wait_for_load_state("load")  # the style sheet applied: until then every cell is visible
    cells = page.locator("table.customers tbody td:visible")
    expect(cells).to_have_count(4 * 7)  # four customers, seven visible fields each (the grid is hidden)
    assert no_horizontal_scroll(page)
    labels = cells.evaluate_all(
        "tds => tds.map(td => [td.dataset.label, getComputedStyle(td, '::before').content])")
    assert all(content == f'"{label}"' for label, content in labels), labels
    assert page.locator("table.customers thead").is_hidden()
    page.screenshot(path=tmp_path / "phone-list.png", full_page=True)

    page.get_by_role("link", name="C1", exact=True).click()
    expect(page.get_by_role("heading", name="王建国")).to_be_visible()
    assert no_horizontal_scroll(page)
    expect(page.locator("table.ledger td.running").first).to_be_visible()
    page.screenshot(path=tmp_path / "phone-customer.png", full_page=True)

    assert visit.foreign_requests() == []


def test_language_switch_to_english_and_back(visit, district):
    page = visit.open()
    sign_in(page)
    page.get_by_role("link", name="C1", exact=True).click()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Account position")).to_be_visible()
    assert page.url.endswith("/customers/C1")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("link", name="Customers", exact=True).first.click()
    expect(page.get_by_role("link", name="Days overdue")).to_be_visible()  # the choice is remembered
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("link", name="逾期天数")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    assert visit.foreign_requests() == []
