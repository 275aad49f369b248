"""The clerks' reconciliation pages on both databases: dashboard, filtered breaks, one-click resolutions,
the daily payment report and its CSV; officers are kept out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from recovery.auth.service import create_user
from recovery.extensions import db
from recovery.reconcile.models import ReconBreak
from tests.reconciliation.test_breaks import DAY, agent_day  # noqa: F401  (the fixture)
from tests.web.data import PASSWORD, cheap_password_hashing


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def clerk(client, app):
    create_user(db.session, "qian", role="clerk", password=PASSWORD, display_name="钱会计")
    db.session.commit()
    assert client.post("/login", data={"username": "qian", "password": PASSWORD}).status_code == 302
    return client


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_officers_cannot_open_the_reconciliation_pages(client, agent_day):  # noqa: F811
    create_user(db.session, "li", role="officer", password=PASSWORD, display_name="李明", grids=["G1"])
    db.session.commit()
    client.post("/login", data={"username": "li", "password": PASSWORD})
    assert client.get(f"/reconcile?date={DAY}").status_code == 403
    assert client.get(f"/reconcile/payments.csv?date={DAY}").status_code == 403


def test_the_dashboard_shows_the_day_by_channel_and_account(clerk, agent_day):  # noqa: F811
    html = _page(clerk, f"/reconcile?date={DAY}&lang=en")
    assert "AG01" in html and "Collection agent" in html
    assert "1,000.00" in html and "750.00" in html  # the ledger's day (R1-R3, OTHER-REF) and the statement's
    assert "4 open of 4" in html
    assert "<svg" in html


def test_the_break_list_filters_by_kind_and_resolves_in_one_click(clerk, agent_day):  # noqa: F811
    html = _page(clerk, f"/reconcile/breaks?date={DAY}&kind=amount_mismatch&lang=en")
    # As cells: the page's CSRF token is random text that may hold "R3" anywhere.
    assert 'class="code">R2<' in html and 'class="code">R3<' not in html
    bid = agent_day["missing_in_statement"]
    response = clerk.post(f"/reconcile/breaks/{bid}/accept",
                          data={"reason": "agent will resend", "next": f"/reconcile/breaks?date={DAY}"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/reconcile/breaks")
    db.session.expire_all()
    b = db.session.get(ReconBreak, bid)
    assert (b.status, b.resolution, b.resolved_by) == ("resolved", "accepted", "qian")
    resolved = _page(clerk, f"/reconcile/breaks?date={DAY}&status=resolved&lang=en")
    assert "agent will resend" in resolved
    # Clicking again reports the break as resolved already and changes nothing.
    again = clerk.post(f"/reconcile/breaks/{bid}/accept", data={"reason": "twice"}, follow_redirects=True)
    assert "already resolved" in again.get_data(as_text=True)


def test_a_bad_filter_is_a_bad_request(clerk, agent_day):  # noqa: F811
    assert clerk.get("/reconcile/breaks?kind=nonsense").status_code == 400


def test_the_daily_payment_report_page_and_csv(clerk, agent_day):  # noqa: F811
    html = _page(clerk, f"/reconcile/payments?date={DAY}&lang=en")
    assert "AG01" in html
    response = clerk.get(f"/reconcile/payments.csv?date={DAY}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == ("date,channel,channel_account,collected_count,collected,settled_count,settled,"
                        "outstanding_count,outstanding,statement_total,open_breaks")
    # Imported payments are settled; the statement holds R1, R2 (250.00) and R4.
    assert lines[1] == f"{DAY},agent,AG01,4,1000.00,4,1000.00,0,0.00,750.00,4"


def test_the_suspense_page_lists_nothing_for_an_agent_day(clerk, agent_day):  # noqa: F811
    assert "Nothing in suspense" in _page(clerk, "/reconcile/suspense?lang=en")
    assert db.session.scalar(select(ReconBreak.id).limit(1)) is not None
