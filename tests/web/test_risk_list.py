"""The officer's risk list: filters by risk, loss, overdue amount and age, class and grade; the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select, update

from recovery.credit.models import CreditRating
from recovery.credit.rating.ratings import rating_policy
from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.risk.models import RiskScore
from recovery.timeutil import today
from tests.factories import bill, load
from tests.web.data import load_district
from tests.web.test_pages import listed, page, sign_in

FORMULA = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def scored(recovery, tmp_path):
    """The page-test district, with scores for C1-C3, a grade C for C1, a formula-like name for C2 and
    C5 owing a bill 45 days overdue (every other arrear is over 180 days old)."""
    load_district(recovery, tmp_path)
    due = today() - dt.timedelta(days=45)
    load(recovery, tmp_path, bills=[bill("B5-01", "C5", "80.00", (due - dt.timedelta(days=40)).strftime("%Y-%m"),
                                         (due - dt.timedelta(days=17)).isoformat(), due.isoformat())])
    ids = dict(db.session.execute(select(Customer.code, Customer.id)).all())
    for code, pd_, loss in (("C1", 0.12, 15_000), ("C2", 0.81, 4_000), ("C3", 0.45, 90_000), ("C4", 0.9, 1)):
        db.session.add(RiskScore(customer_id=ids[code], as_of=today(), model_version="v1", pd=pd_,
                                 exposure_fen=loss * 2, expected_loss_fen=loss, rating="B", reasons_zh=[],
                                 reasons_en=[]))
    db.session.add(CreditRating(customer_id=ids["C1"], rated_on=today() - dt.timedelta(days=3), points=40,
                                points_grade="C", grade="C", cash_only=False, upgrade_blocked=False, reasons={}))
    db.session.execute(update(Customer).where(Customer.code == "C2").values(name=FORMULA))
    db.session.commit()


def _csv(client, url: str) -> tuple[list[str], list[list[str]]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # a spreadsheet reads it as UTF-8
    header, *rows = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    return header, rows


def test_each_filter_narrows_the_officers_list(client, scored):
    sign_in(client, "li")
    assert listed(page(client, "/customers?min_pd=0.45")) == ["C3", "C2"]
    assert listed(page(client, "/customers?min_pd=0.9")) == []  # C4's 0.9 is another grid's
    assert listed(page(client, "/customers?min_expected_loss=150.00")) == ["C3", "C1"]
    assert listed(page(client, "/customers?min_expected_loss=150.01")) == ["C3"]
    html = page(client, "/customers?min_overdue=1234.56")
    assert listed(html) == ["C3", "C1"]
    assert "共 2 户" in html  # the total counts the filtered rows, not the grid
    assert listed(page(client, "/customers?min_overdue=0")) == ["C3", "C1", "C5", "C2"]
    assert listed(page(client, "/customers?age=31-90")) == ["C5"]
    assert listed(page(client, "/customers?age=180%2B")) == ["C3", "C1", "C2"]
    assert listed(page(client, "/customers?age=0-30")) == listed(page(client, "/customers?age=91-180")) == []
    assert listed(page(client, "/customers?customer_class=industrial")) == ["C3"]
    html = page(client, "/customers?grade=C")
    assert listed(html) == ["C1"]
    assert 'data-field="grade">C<' in html
    start = rating_policy().starting_grade
    assert listed(page(client, f"/customers?grade={start}")) == ["C3", "C5", "C2"]
    # Filters combine, and the pager keeps them.
    assert listed(page(client, "/customers?customer_class=residential&min_pd=0.5")) == ["C2"]
    assert 'rel="next" href="/customers?min_overdue=1&amp;page_size=1&amp;page=2"' in page(
        client, "/customers?min_overdue=1&page_size=1")


def test_malformed_filters_answer_400_and_a_supervisor_filters_every_grid(client, scored):
    sign_in(client, "li")
    for query in ("min_pd=2", "age=7-8", "min_overdue=12.345", "customer_class=castle"):
        assert client.get(f"/customers?{query}").status_code == 400, query
    client.post("/logout")
    sign_in(client, "zhao")
    assert listed(page(client, "/customers?min_pd=0.8")) == ["C4", "C2"]
    assert listed(page(client, "/customers?grid=G3&age=180%2B")) == ["C6"]


def test_csv_export_has_every_filtered_row_in_the_list_order_scoped_like_the_list(client, scored):
    sign_in(client, "li")
    header, rows = _csv(client, "/customers.csv?min_overdue=40&sort=overdue&order=desc&page_size=1&page=2")
    assert [r[0] for r in rows] == ["C3", "C1", "C5", "C2"]  # all rows, not the page
    by_code = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert by_code["C1"]["overdue"] == "1234.56" and by_code["C1"]["credit_grade"] == "C"
    assert by_code["C2"]["name"] == "'" + FORMULA
    assert by_code["C3"]["pd"] == "0.4500" and by_code["C5"]["days_overdue"] == "45"
    assert '<a class="export" href="/customers.csv?min_overdue=40"' in page(client, "/customers?min_overdue=40")
    assert sorted(r[0] for r in _csv(client, "/customers.csv")[1]) == ["C1", "C2", "C3", "C5"]
    assert _csv(client, "/customers.csv?grid=G2")[1] == []
    client.post("/logout")
    assert client.get("/customers.csv").status_code == 302
    sign_in(client, "zhao")
    assert sorted(r[0] for r in _csv(client, "/customers.csv")[1]) == ["C1", "C2", "C3", "C4", "C5", "C6"]


def test_api_list_takes_the_same_filters(client, scored):
    sign_in(client, "li")
    answer = client.get("/api/v1/customers?min_pd=0.4&min_overdue=100")
    assert answer.status_code == 200
    assert [c["customer_id"] for c in answer.json["items"]] == ["C3"]
    assert answer.json["total"] == 1 and answer.json["items"][0]["grade"] == rating_policy().starting_grade
    assert client.get("/api/v1/customers?age=old").status_code == 422


def test_the_age_filter_agrees_with_the_days_overdue_of_every_customer(recovery, app, tmp_path):
    """The age filter is computed from sums (no window over the bills): on a demo utility, and on customers
    whose oldest unpaid bill is due exactly on a bucket's edge (a younger bill beside it), each bucket holds
    exactly the customers whose days overdue fall in it."""
    from recovery.auth.models import User
    from recovery.portfolio import service
    from tests.factories import customer

    assert recovery("demo", "--customers", "150", "--months", "12", "--as-of", today().isoformat()).exit_code == 0
    edges = [2, 30, 31, 90, 91, 180, 181]
    young = today() - dt.timedelta(days=1)
    load(recovery, tmp_path, customers=[customer(f"E{n}", "G001") for n in edges], bills=[
        b for n in edges for b in (
            bill(f"E{n}-1", f"E{n}", "100.00", "2020-01", (today() - dt.timedelta(days=n + 20)).isoformat(),
                 (today() - dt.timedelta(days=n)).isoformat()),
            bill(f"E{n}-2", f"E{n}", "50.00", "2020-02", (young - dt.timedelta(days=20)).isoformat(),
                 young.isoformat()))])
    supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
    every = list(service.customer_rows(db.session, supervisor, today()))
    assert {r["code"]: r["days_overdue"] for r in every if r["code"].startswith("E")} == {f"E{n}": n for n in edges}
    assert sum(r["days_overdue"] is not None for r in every) > 20  # a demo with arrears of many ages
    for bucket, (first, last) in service.AGE_BUCKETS.items():
        expected = {r["code"] for r in every if r["days_overdue"] is not None and r["overdue_fen"] > 0
                    and first <= r["days_overdue"] and (last is None or r["days_overdue"] <= last)}
        found = {r["code"] for r in service.customer_rows(db.session, supervisor, today(), age=bucket)}
        assert found == expected, bucket
