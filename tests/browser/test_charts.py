"""The dashboard's charts in a real browser: drawn by the vendored chart library under the self-only content
policy, with axes people can read, in both languages, on a laptop and on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_journeys import sign_in
from tests.web.test_dashboard import figures  # noqa: F401 (a fixture: bills due last month, scores, breaks)

pytestmark = pytest.mark.browser
CHARTS = ["ageing-chart", "risk-chart", "loss-chart", "trend-chart", "breaks-chart"]


def _texts(page, chart_id: str) -> list[str]:
    return page.locator(f"#{chart_id} svg text").all_text_contents()


@pytest.mark.parametrize(("english", "viewport"), [(True, DESKTOP), (False, PHONE)], ids=["en-laptop", "zh-phone"])
def test_dashboard_charts_render_with_readable_axes(visit, figures, tmp_path, english, viewport):  # noqa: F811
    page = visit.open(viewport, phone=viewport is PHONE)
    refused = []
    page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
    sign_in(page, "li", english=english)
    page.goto("/dashboard")
    for chart_id in CHARTS:
        expect(page.locator(f"#{chart_id}[data-drawn] svg")).to_have_count(1)
        texts = _texts(page, chart_id)
        assert texts, chart_id
        # No exponent notation, no label cut short.
        assert not [t for t in texts if re.search(r"\de[+-]\d|‥|…", t)], (chart_id, texts)
    ageing = _texts(page, "ageing-chart")
    assert ("yuan" if english else "元") in ageing
    assert ("over 180" if english else "180 天以上") in ageing
    trend = _texts(page, "trend-chart")
    assert "100%" in trend and any(re.fullmatch(r"[A-Z][a-z]{2} \d{4}" if english else r"\d{4}年\d{1,2}月", t)
                                   for t in trend)
    # Each chart fits its box: nothing drawn outside the page's width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=tmp_path / "charts.png", full_page=True)
    assert refused == [] and visit.foreign_requests() == []
