"""The dashboard's charts: a spec for the vendored chart library and a table under each, of the user's grids only."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re

import pytest
from sqlalchemy import delete, select

from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.reconcile.models import ReconBreak, ReconRun
from recovery.reports.dashboard import money_axis
from recovery.reports.models import GridFigure
from recovery.risk.models import RiskScore
from recovery.timeutil import today
from tests.factories import bill, load, payment
from tests.web.data import load_district
from tests.web.test_pages import page, sign_in


@pytest.fixture
def figures(recovery, tmp_path):
    """The page-test district with a bill due last month in G1 (half paid) and in G2, scores and two breaks."""
    load_district(recovery, tmp_path)
    due = (today().replace(day=1) - dt.timedelta(days=1)).replace(day=15)  # the 15th of last month
    issued = due - dt.timedelta(days=12)
    load(recovery, tmp_path,
         bills=[bill("B5-01", "C5", "200.00", issued.strftime("%Y-%m"), issued.isoformat(), due.isoformat()),
                bill("B4-09", "C4", "300.00", issued.strftime("%Y-%m"), issued.isoformat(), due.isoformat())],
         payments=[payment("WX-0002", "C5", "100.00", paid_at=f"{due.isoformat()}T10:00:00+08:00")])
    ids = dict(db.session.execute(select(Customer.code, Customer.id)).all())
    for code, pd_, rating in (("C1", 0.12, "A"), ("C2", 0.81, "C"), ("C3", 0.45, "B"), ("C4", 0.95, "C")):
        db.session.add(RiskScore(customer_id=ids[code], as_of=today(), model_version="v1", pd=pd_,
                                 exposure_fen=20_000, expected_loss_fen=int(pd_ * 20_000), rating=rating,
                                 reasons_zh=[], reasons_en=[]))
    run = ReconRun(day=today() - dt.timedelta(days=2), channel="bank", channel_account="ICBC", state="closed",
                   matched=0, statement_lines=2, ledger_payments=0, statement_total_fen=0, ledger_total_fen=0,
                   run_by="clerk")
    db.session.add(run)
    db.session.flush()  # the breaks need the run's id
    for code, fingerprint in (("C1", "a"), ("C4", "b")):
        db.session.add(ReconBreak(run_id=run.id, day=run.day, channel="bank", channel_account="ICBC",
                                  kind="missing_in_ledger", fingerprint=fingerprint, customer_code=code,
                                  statement_amount_fen=100))
    db.session.commit()


def _rows(html: str, name: str) -> str:
    return re.search(rf'<table class="[^"]*\b{name}\b[^"]*">.*?</table>', html, re.S).group(0)


def test_dashboard_charts_show_an_officer_only_their_grid(client, figures):
    sign_in(client, "li")
    html = page(client, "/dashboard?lang=en")
    assert html.count('role="img"') == 5 and html.count("<details>") == 5
    # Scripts only from the app's own files: the content policy refuses inline ones.
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/vendor/echarts/echarts.common.min.js" defer>', '<script src="/static/charts.js" defer>']
    ageing = _rows(html, "ageing")
    # C1 1,234.56 + C2 50.00 + C3 3,000.00 are over 180 days; C4's 999.00 is another grid's.
    assert re.search(r'data-bucket="180\+">.*?4,284.56</td><td[^>]*>3<', ageing, re.S)
    assert re.search(r'data-bucket="0-30">.*?100.00</td><td[^>]*>1<', ageing, re.S)  # C5's unpaid half
    # The chart draws the table's figures: the risk list's four age buckets, amounts in fen, texts as shown.
    chart = _spec(html, "ageing-chart")
    assert chart["categories"] == ["0–30", "31–90", "91–180", "over 180"]
    assert chart["series"][0]["values"] == [10_000, 0, 0, 428_456]
    assert chart["series"][0]["texts"] == ["100.00", "0.00", "0.00", "4,284.56"]
    assert chart["axis"]["unit"] == "yuan" and chart["axis"]["divisor"] == 100
    assert "G2" not in _rows(html, "trend") and 'data-grid="G1"' in html
    assert "50.0%" in _rows(html, "trend")  # 100.00 collected of 200.00 due last month
    assert "3 customers scored" in html
    assert re.search(r'data-channel="bank">.*?>1<', _rows(html, "breaks"), re.S)  # C1's break, not C4's


def test_dashboard_shows_a_supervisor_every_grid(client, figures):
    sign_in(client, "zhao")
    html = page(client, "/dashboard?lang=en")
    # C4 owes 999.00 from 2025 and 300.00 from last month: the oldest unpaid bill ages all of it.
    assert re.search(r'data-bucket="180\+">.*?5,593.56</td><td[^>]*>5<', _rows(html, "ageing"), re.S)
    assert 'data-grid="G1"' in html and 'data-grid="G2"' in html
    assert "4 customers scored" in html
    assert re.search(r'data-channel="bank">.*?>2<', _rows(html, "breaks"), re.S)
    assert 'href="/dashboard"' in html  # the nav link


def _spec(html: str, chart_id: str) -> dict:
    found = re.search(rf'id="{chart_id}" data-spec=\'([^\']*)\'', html)
    return json.loads(htmllib.unescape(found.group(1)))


def test_money_axes_read_in_yuan_below_a_hundred_thousand_and_in_ten_thousands_above(app):
    with app.test_request_context("/?lang=zh"):
        assert money_axis(9_999_999) == {"unit": "yuan", "divisor": 100, "name": "元"}
        assert money_axis(10_000_000) == {"unit": "wan_yuan", "divisor": 1_000_000, "name": "万元"}


def test_trend_chart_names_months_in_the_readers_language(client, figures):
    sign_in(client, "li")
    en = _spec(page(client, "/dashboard?lang=en"), "trend-chart")
    zh = _spec(page(client, "/dashboard?lang=zh"), "trend-chart")
    last = today().replace(day=1) - dt.timedelta(days=1)
    assert en["categories"][-2] == last.strftime("%b %Y")
    assert zh["categories"][-2] == f"{last.year}年{last.month}月"
    assert en["axis"]["unit"] == "percent" and en["series"][0]["texts"][-2] == "50.0%"


def test_over_many_customers_the_dashboard_reads_the_nights_figures_per_grid(client, figures, recovery, app):
    """A supervisor's view of a million customers would take minutes live: the figures the morning's job kept
    per grid are read (and, above DASHBOARD_LIVE_LIMIT, the last night's), and they are the figures computed
    live."""
    sign_in(client, "zhao")
    live = page(client, "/dashboard?lang=en")
    assert 'data-field="figures-as-of"' not in live
    assert recovery("jobs", "run", "reports.dashboard", "--date", today().isoformat()).exit_code == 0
    kept = page(client, "/dashboard?lang=en")  # this morning's figures: read, whatever the number of customers
    assert f'data-field="figures-as-of">Ageing and recovery trend as of the night\'s figures of {today()}' in kept
    assert _rows(kept, "ageing") == _rows(live, "ageing")
    assert _rows(kept, "trend") == _rows(live, "trend")
    assert _rows(kept, "risk-bands") == _rows(live, "risk-bands") and _rows(kept, "losses") == _rows(live, "losses")
    assert "352.00" in _rows(live, "losses")  # the figures compared are not empty ones (C2 and C4, rated C)
    # Over the limit, the last night's figures are read even when they are not this morning's.
    assert recovery("jobs", "run", "reports.dashboard", "--date", (today() - dt.timedelta(days=1)).isoformat()
                    ).exit_code == 0
    db.session.execute(delete(GridFigure).where(GridFigure.as_of == today()))
    db.session.commit()
    assert 'data-field="figures-as-of"' not in page(client, "/dashboard?lang=en")
    app.config["DASHBOARD_LIVE_LIMIT"] = 0
    assert f"the night's figures of {today() - dt.timedelta(days=1)}" in page(client, "/dashboard?lang=en")
    # An officer over the limit sees only their grids' rows of the same figures.
    client.post("/logout")
    sign_in(client, "li")
    assert "999.00" not in _rows(page(client, "/dashboard?lang=en"), "ageing")  # C4 is in G2
