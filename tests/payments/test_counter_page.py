"""The cashier's counter page: open the drawer, take payments with receipts, close it; zh and en."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from recovery.auth.service import create_user
from recovery.extensions import db
from recovery.payments.models import Payment
from recovery.timeutil import today
from tests.factories import bill, customer, load

PASSWORD = "correct horse battery"


@pytest.fixture
def cashier(app, recovery, tmp_path, client):
    load(recovery, tmp_path, customers=[customer("C1")], bills=[bill("B1", "C1", "100.00")])
    create_user(db.session, "wang", role="cashier", password=PASSWORD)
    create_user(db.session, "li", role="officer", password=PASSWORD, grids=["G1"])
    db.session.commit()
    assert client.post("/login", data={"username": "wang", "password": PASSWORD}).status_code == 302
    # This user works in English: the messages flashed after a form are in the session's language.
    client.post("/lang/en", data={"next": "/"})
    return client


def test_a_cashier_opens_takes_a_payment_and_closes_on_the_page(cashier):
    page = cashier.get("/counter?lang=en").get_data(as_text=True)
    assert "Open the drawer" in page and 'href="/counter"' in page

    assert cashier.post("/counter/open", data={"opening_float": "100.00"}).status_code == 302
    page = cashier.get("/counter?lang=en").get_data(as_text=True)
    token = re.search(r'name="form_token" value="(F[0-9A-F]+)"', page).group(1)
    form = {"customer_id": "C1", "amount": "60.00", "tender": "cash", "form_token": token}
    done = cashier.post("/counter/pay", data=form, follow_redirects=True).get_data(as_text=True)
    receipt = f"Cwang-{today():%Y%m%d}-00001"
    assert f"Payment taken: receipt {receipt}." in done
    assert f'data-receipt="{receipt}"' in done
    twice = cashier.post("/counter/pay", data=form, follow_redirects=True).get_data(as_text=True)
    assert "already posted" in twice
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1

    bad = cashier.post("/counter/pay", data={**form, "amount": "6,0", "form_token": "F1"}, follow_redirects=True)
    assert "Enter an amount in yuan" in bad.get_data(as_text=True)

    closed = cashier.post("/counter/close", data={"counted": "160.00"}, follow_redirects=True).get_data(as_text=True)
    assert "The drawer is closed." in closed
    assert re.search(r'data-field="difference">0\.00<', closed)
    assert "Take a payment" not in closed


def test_the_counter_page_is_for_cashiers_only(cashier, client):
    # (Its Chinese strings come with the catalogue merge; tests/web/test_translations.py checks them.)
    page = cashier.get("/counter?lang=zh")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.get_data(as_text=True)
    client.post("/logout")
    assert client.post("/login", data={"username": "li", "password": PASSWORD}).status_code == 302
    assert client.get("/counter").status_code == 403
