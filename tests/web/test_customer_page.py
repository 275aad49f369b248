"""The customer page answers "what is going on with this customer": one section for each part of the story."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from recovery.billing.models import Bill
from recovery.collections.models import DisconnectionOrder
from recovery.credit.models import CreditRating
from recovery.credit.security import guarantees
from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.timeutil import today
from tests.web.data import load_district
from tests.web.test_pages import page, sign_in, table


@pytest.fixture
def story(recovery, tmp_path):
    """C1 of the page-test district with a penalty, two ratings, a guarantee and a disconnection order."""
    load_district(recovery, tmp_path)
    c1 = db.session.scalar(select(Customer).where(Customer.code == "C1"))
    b2 = db.session.scalar(select(Bill).where(Bill.code == "B1-02"))
    db.session.add(LedgerEntry(customer_id=c1.id, kind=EntryKind.penalty, amount_fen=1234, bill_id=b2.id,
                               effective_on=today() - dt.timedelta(days=1), note="late-payment penalty"))
    for days, points, grade in ((40, 85, "A"), (10, 55, "C")):
        db.session.add(CreditRating(customer_id=c1.id, rated_on=today() - dt.timedelta(days=days), points=points,
                                    points_grade=grade, grade=grade, cash_only=False, upgrade_blocked=False,
                                    reasons={"start": 100, "demerits": [], "rules": []}))
    guarantees.register(db.session, c1, kind="bank_guarantee", guarantor="工商银行", reference="LG-1",
                        amount_fen=500_000, valid_from=today() - dt.timedelta(days=30),
                        valid_until=today() + dt.timedelta(days=300), created_by="zhao")
    db.session.add(DisconnectionOrder(customer_id=c1.id, reason="arrears over 90 days", source="collections",
                                      ordered_on=today() - dt.timedelta(days=2)))
    db.session.commit()


def test_customer_page_shows_each_section_with_a_link_to_it(client, story):
    sign_in(client, "li")
    html = page(client, "/customers/C1?lang=en")
    links = re.findall(r'<nav class="sections"[^>]*>(.*?)</nav>', html, re.S)[0]
    for anchor in re.findall(r'href="#([^"]+)"', links):
        assert f'id="{anchor}"' in html, anchor
    for heading in ("Account position", "Risk of arrears", "Credit standing", "Security", "Disconnection orders",
                    "Bills", "Late-payment penalties", "Payments", "Ledger"):
        assert heading in html, heading

    # The rating in force and its latest changes; the chart stays on the credit page.
    assert re.search(r'data-field="grade">C<', html) and 'data-field="points">55<' in html
    history = table(html, "credit-history")
    assert history.index(">C<") < history.index(">A<")  # newest first
    assert 'href="/customers/C1/credit"' in html and "<svg" not in html
    # Deposits and guarantees: the security summary partial.
    assert re.search(r'data-field="security-guarantees">5,000.00<', html)
    penalties = table(html, "penalties")
    assert "B1-02" in penalties and "12.34" in penalties
    orders = table(html, "orders")
    assert "arrears over 90 days" in orders and "Open" in orders

    # A customer with none of these says so.
    html = page(client, "/customers/C5?lang=en")
    for text in ("No late-payment penalties.", "No disconnection orders.", "Not rated yet"):
        assert text in html, text
