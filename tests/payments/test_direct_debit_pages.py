"""The clerks' direct-debit pages on both databases: create, send, download, import results; officers kept out."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from recovery.auth.service import create_user
from recovery.extensions import db
from recovery.payments.models import Payment
from tests.payments.test_direct_debit import NS, mandated  # noqa: F401  (the fixture)
from tests.web.data import PASSWORD, cheap_password_hashing


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def clerk(client, mandated):  # noqa: F811
    create_user(db.session, "qian", role="clerk", password=PASSWORD, display_name="钱会计")
    db.session.commit()
    assert client.post("/login", data={"username": "qian", "password": PASSWORD}).status_code == 302
    # This user works in English: the messages flashed after a form are in the session's language.
    client.post("/lang/en", data={"next": "/"})
    return client


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_a_clerk_creates_sends_downloads_and_imports_results(clerk):
    answer = clerk.post("/direct-debit/batches", data={"date": "2026-11-20"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/direct-debit/DD20261120")
    html = _page(clerk, "/direct-debit/DD20261120?lang=en")
    assert "DD20261120-000001" in html and "120.50" in html and "Not sent" in html
    assert "DD20261120" in _page(clerk, "/direct-debit")

    xml = clerk.get("/direct-debit/DD20261120/file.xml")
    assert xml.status_code == 200
    assert ET.fromstring(xml.data).find("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", NS).text == "208.50"
    assert clerk.get("/direct-debit/DD20261120/file.csv").data.decode().startswith("end_to_end_id,")

    assert clerk.post("/direct-debit/DD20261120/send").status_code == 302
    assert "Sent to the bank" in _page(clerk, "/direct-debit/DD20261120?lang=en")
    body = b"end_to_end_id,status,reason_code,amount\nDD20261120-000002,returned,AM04,88.00\n"
    answer = clerk.post("/direct-debit/results", data={"format": "csv", "next": "/direct-debit/DD20261120",
                                                       "file": (io.BytesIO(body), "results.csv")},
                        content_type="multipart/form-data")
    assert answer.status_code == 302
    html = _page(clerk, "/direct-debit/DD20261120?lang=en")
    assert "Returned (AM04)" in html and "0 collected, 1 returned, 0 already known." in html
    db.session.expire_all()
    assert db.session.scalar(select(Payment.state).where(Payment.channel_ref == "DD20261120-000002")) == "reversed"


def test_a_bad_result_file_changes_nothing_and_says_why(clerk):
    clerk.post("/direct-debit/batches", data={"date": "2026-11-20"})
    clerk.post("/direct-debit/DD20261120/send")
    body = b"end_to_end_id,status,reason_code,amount\nNOPE-1,returned,AM04,\n"
    clerk.post("/direct-debit/results", data={"format": "csv", "file": (io.BytesIO(body), "bank.csv")},
               content_type="multipart/form-data")
    html = _page(clerk, "/direct-debit?lang=en")
    assert "Nothing was imported: bank.csv:2: end_to_end_id: unknown debit NOPE-1" in html
    db.session.expire_all()
    assert set(db.session.scalars(select(Payment.state))) == {"provisional"}


def test_officers_cannot_open_the_direct_debit_pages(client, mandated):  # noqa: F811
    create_user(db.session, "li", role="officer", password=PASSWORD, display_name="李明", grids=["G1"])
    db.session.commit()
    client.post("/login", data={"username": "li", "password": PASSWORD})
    assert client.get("/direct-debit").status_code == 403
    assert client.post("/direct-debit/batches", data={"date": "2026-11-20"}).status_code == 403


def test_the_customer_page_shows_the_mandate_and_each_bills_penalty(clerk, mandated):  # noqa: F811
    import datetime as dt

    from recovery.billing.penalties import accrue

    accrue(mandated, dt.date(2026, 11, 30))  # C1's 120.50 unpaid for 10 days: 1.205 yuan -> 1.21
    mandated.commit()
    html = _page(clerk, "/customers/C1?lang=en")
    assert "Direct-debit mandate M-C1: bank ICBC, account CN12ICBC000012345678, signed 2026-01-05" in html
    assert "1.21" in html
    assert "No direct-debit mandate." in _page(clerk, "/customers/C3?lang=en")
