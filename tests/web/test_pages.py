"""The officer pages through HTTP, as a browser without JavaScript would use them."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from recovery.auth.models import User
from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.portfolio import service
from recovery.risk.models import RiskScore
from recovery.timeutil import today
from recovery.web.views import yuan_filter
from tests.web.data import PASSWORD, load_district


@pytest.fixture
def district(recovery, tmp_path):
    load_district(recovery, tmp_path)


def sign_in(client, username: str, password: str = PASSWORD, next_: str | None = None):
    query = {} if next_ is None else {"next": next_}
    return client.post("/login", query_string=query, data={"username": username, "password": password})


def page(client, url: str, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def listed(html: str) -> list[str]:
    """Customer codes in the order the list shows them."""
    return re.findall(r'<td data-label="[^"]*" class="code"><a href="/customers/([^"]+)">', html)


def field(html: str, name: str) -> str:
    """A value of the account position on the customer page."""
    return re.search(rf'data-field="{name}">([^<]*)<', html).group(1)


def table(html: str, name: str) -> str:
    return re.search(rf'<table class="cards {name}">.*?</table>', html, re.S).group(0)


# ---------------------------------------------------------------- signing in


def test_officer_signs_in_to_the_customer_list_and_out_again(client, district):
    response = sign_in(client, "li")
    assert response.status_code == 302
    assert response.headers["Location"] == "/customers"
    assert "李明" in page(client, "/customers")
    assert client.get("/login").headers["Location"] == "/customers"  # already signed in

    assert client.post("/logout").headers["Location"] == "/login"
    assert client.get("/customers").status_code == 302


def test_wrong_password_or_unknown_user_answers_401_with_the_form_again(client, district):
    for username, password in (("li", "not the password"), ("nobody", PASSWORD)):
        response = sign_in(client, username, password)
        assert response.status_code == 401
        html = response.get_data(as_text=True)
        assert "用户名或密码错误" in html
        assert 'name="password"' in html and f'value="{username}"' in html
    assert client.get("/customers").status_code == 302


def test_a_page_asks_for_sign_in_first_and_returns_there_afterwards(client, district):
    response = client.get("/customers/C1")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/customers/C1"]
    assert "请先登录" in page(client, "/login")
    assert sign_in(client, "li", next_="/customers/C1").headers["Location"] == "/customers/C1"


def test_next_after_sign_in_never_leaves_the_site(client, district):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "/\t/evil.example",
                   "javascript:alert(1)", "evil.example"):
        response = sign_in(client, "li", next_=target)
        assert response.headers["Location"] == "/customers", target
        client.post("/logout")


# ---------------------------------------------------------------- who sees which customers


def test_officer_sees_only_the_customers_of_their_grid(client, district):
    sign_in(client, "li")
    html = page(client, "/customers")
    assert sorted(listed(html)) == ["C1", "C2", "C3", "C5"]
    assert "我的网格：G1" in html
    assert "共 4 户" in html
    assert 'name="grid"' not in html  # one grid: nothing to choose
    assert listed(page(client, "/customers?q=C4")) == []


def test_officer_cannot_open_a_customer_of_another_grid(client, district):
    sign_in(client, "li")
    other_grid, missing = client.get("/customers/C4"), client.get("/customers/NO-SUCH")
    assert other_grid.status_code == missing.status_code == 404
    assert other_grid.mimetype == "text/html"
    html = other_grid.get_data(as_text=True)
    assert "不在您负责的网格内" in html
    assert "西城超市" not in html
    # Whether it exists elsewhere or not at all is not given away.
    # CSRF tokens carry a timestamp: two requests a second apart differ there and nowhere else.
    def tokenless(text: str) -> str:
        return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', text)

    assert tokenless(html) == tokenless(missing.get_data(as_text=True).replace("NO-SUCH", "C4"))


def test_officer_with_two_grids_can_filter_by_grid(client, district):
    sign_in(client, "wang")
    html = page(client, "/customers")
    assert sorted(listed(html)) == ["C1", "C2", "C3", "C4", "C5"]
    assert '<option value="G2">G2</option>' in html and '<option value="G3">' not in html
    filtered = page(client, "/customers?grid=G2")
    assert listed(filtered) == ["C4"]
    assert '<option value="G2" selected>' in filtered
    # A grid that is not theirs shows nothing rather than another officer's customers.
    assert listed(page(client, "/customers?grid=G3")) == []


def test_supervisor_sees_every_grid(client, district):
    sign_in(client, "zhao")
    html = page(client, "/customers")
    assert sorted(listed(html)) == ["C1", "C2", "C3", "C4", "C5", "C6"]
    assert "全部网格" in html and '<option value="G3">G3</option>' in html
    assert "南郊农场" in page(client, "/customers/C6")


# ---------------------------------------------------------------- the list


def test_sorting_by_overdue_puts_the_most_overdue_first(client, district):
    sign_in(client, "li")
    html = page(client, "/customers?sort=overdue&order=desc")
    assert listed(html) == ["C3", "C1", "C2", "C5"]
    assert listed(page(client, "/customers")) == listed(html)  # the default order
    assert listed(page(client, "/customers?sort=overdue&order=asc")) == ["C5", "C2", "C1", "C3"]


def test_the_list_sorts_by_each_column(client, district):
    sign_in(client, "li")
    assert listed(page(client, "/customers?sort=customer_id&order=asc")) == ["C1", "C2", "C3", "C5"]
    assert listed(page(client, "/customers?sort=balance&order=desc")) == ["C3", "C1", "C2", "C5"]
    # C1 owes since February, C2 since March, C3 since May; C5 owes nothing and comes last either way.
    assert listed(page(client, "/customers?sort=days_overdue&order=desc")) == ["C1", "C2", "C3", "C5"]
    assert listed(page(client, "/customers?sort=days_overdue&order=asc")) == ["C3", "C2", "C1", "C5"]
    by_name = listed(page(client, "/customers?sort=name&order=asc"))
    assert sorted(by_name) == ["C1", "C2", "C3", "C5"]
    assert listed(page(client, "/customers?sort=name&order=desc")) == by_name[::-1]

    html = page(client, "/customers?sort=balance&order=desc")
    assert re.search(r'<th scope="col" class="num" aria-sort="descending"><a href="/customers\?sort=balance&amp;'
                     r'order=asc&amp;page=1"', html)
    for key in ("customer_id", "name", "overdue", "days_overdue"):
        assert f'href="/customers?sort={key}&amp;order=desc&amp;page=1"' in html


def test_the_list_is_paginated(client, district):
    sign_in(client, "li")
    first = page(client, "/customers?page_size=3")
    assert listed(first) == ["C3", "C1", "C2"]
    assert "第 1 页，共 2 页" in first
    assert 'rel="next" href="/customers?page_size=3&amp;page=2"' in first
    assert 'rel="prev"' not in first
    second = page(client, "/customers?page_size=3&page=2")
    assert listed(second) == ["C5"]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert 'class="pager"' not in page(client, "/customers")  # one page: no pager


def test_search_finds_a_customer_by_number_or_name(client, district):
    sign_in(client, "li")
    assert listed(page(client, "/customers?q=C2")) == ["C2"]
    assert listed(page(client, "/customers?q=机械")) == ["C3"]
    assert "没有符合条件的客户" in page(client, "/customers?q=nobody")


def test_amounts_are_shown_in_yuan_exactly(client, district):
    sign_in(client, "li")
    html = page(client, "/customers")
    assert 'class="num late">1,234.56<' in html  # 123456 fen overdue
    assert ">3,000.00<" in html and ">50.00<" in html and ">0.00<" in html


def test_yuan_filter_groups_thousands_and_keeps_the_sign():
    assert yuan_filter(123456) == "1,234.56"
    assert yuan_filter(-5) == "-0.05"
    assert yuan_filter(123456789012) == "1,234,567,890.12"
    assert yuan_filter(None) == ""


# ---------------------------------------------------------------- languages


def test_pages_are_in_simplified_chinese_unless_the_browser_asks_for_english(client, district):
    sign_in(client, "li")
    html = page(client, "/customers")
    assert '<html lang="zh-CN">' in html
    for text in ("客户", "余额（元）", "欠费（元）", "逾期天数", "网格", "退出"):
        assert text in html
    assert "Days overdue" not in html
    assert "Days overdue" in page(client, "/customers", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "逾期天数" in page(client, "/customers", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})


def test_lang_parameter_gives_english(client, district):
    sign_in(client, "li")
    html = page(client, "/customers?lang=en&sort=name")
    assert '<html lang="en">' in html
    assert "Days overdue" in html and "Sign out" in html and "逾期天数" not in html
    assert "4 customers" in html
    # The switch back to Chinese must not land on a URL that forces English again.
    assert 'name="next" value="/customers?sort=name"' in html
    detail = page(client, "/customers/C1?lang=en")
    for text in ("Account position", "Bills", "Payments", "Ledger", "Running balance (yuan)", "Collection agent",
                 "Residential"):
        assert text in detail


def test_language_switch_is_remembered_and_returns_to_the_same_page(client, district):
    client.post("/lang/en", data={"next": "/login"})
    assert "User name" in page(client, "/login")
    sign_in(client, "li")  # the choice survives signing in
    response = client.post("/lang/en", data={"next": "/customers/C1"})
    assert response.headers["Location"] == "/customers/C1"
    assert "Account position" in page(client, "/customers/C1")
    assert "Days overdue" in page(client, "/customers")
    assert client.post("/lang/zh", data={"next": "https://evil.example/"}).headers["Location"] == "/customers"
    assert "逾期天数" in page(client, "/customers")


# ---------------------------------------------------------------- the customer page


def test_list_links_each_customer_to_their_page(client, district):
    sign_in(client, "li")
    assert '<a href="/customers/C3">C3</a>' in page(client, "/customers")
    html = page(client, "/customers/C1")
    for text in ("王建国", "C1", "居民生活", "G1", 'href="tel:13800000001"', "2019-05-06"):
        assert text in html
    assert field(html, "balance") == "1,234.56"
    assert field(html, "overdue") == "1,234.56"
    assert field(html, "oldest_due_on") == "2025-02-20"
    assert field(html, "days_overdue") == str((today() - dt.date(2025, 2, 20)).days)


def test_customer_page_shows_bills_and_payments_in_business_time(client, district):
    sign_in(client, "li")
    html = page(client, "/customers/C1")
    bills = table(html, "bills")
    assert bills.index("B1-02") < bills.index("B1-01")  # newest first
    assert "2,100" in bills and "180.5" in bills and "1,234.56" in bills
    # B1-01 was settled by the payment made at 23:30 UTC, 07:30 the next morning in Shanghai.
    assert "2025-01-16 07:30" in bills
    assert "未结清" in bills  # B1-02
    payments = table(html, "payments")
    for text in ("2025-01-16 07:30", "代收点", "AG-17", "WX-0001", "100.00", "已清算", "B1-01 (100.00)"):
        assert text in payments


def test_ledger_running_balance_ends_at_the_account_balance(client, district):
    sign_in(client, "li")
    html = page(client, "/customers/C1")
    ledger = table(html, "ledger")
    running = re.findall(r'class="num running">([^<]*)<', ledger)
    # Newest first; read upwards: bill 100.00, payment -100.00, bill 1,234.56.
    assert running == ["1,234.56", "0.00", "100.00"]
    assert running[0] == field(html, "balance")
    officer = db.session.scalar(select(User).where(User.username == "li"))
    position = service.position(db.session, service.get_customer(db.session, officer, "C1"), today())
    assert running[0] == yuan_filter(position["balance_fen"])
    assert "-100.00" in ledger and "应收电费" in ledger and "缴费" in ledger


def test_customer_page_without_history_says_so(client, district):
    sign_in(client, "li")
    html = page(client, "/customers/C5")
    for text in ("暂无电费账单", "暂无缴费记录", "暂无账户流水"):
        assert text in html
    assert field(html, "balance") == "0.00" and field(html, "days_overdue") == "–"


# ---------------------------------------------------------------- error pages


def test_errors_get_pages_for_people_and_json_for_the_api(client, district):
    unknown = client.get("/no-such-page")
    assert (unknown.status_code, unknown.mimetype) == (404, "text/html")
    assert "页面不存在" in unknown.get_data(as_text=True)
    wrong_method = client.get("/logout")
    assert (wrong_method.status_code, wrong_method.mimetype) == (405, "text/html")

    sign_in(client, "li")
    malformed = client.get("/customers?sort=phone")
    assert (malformed.status_code, malformed.mimetype) == (400, "text/html")
    assert "请求无法处理" in malformed.get_data(as_text=True)

    api_unknown = client.get("/api/v1/no-such-thing")
    assert api_unknown.status_code == 404 and api_unknown.is_json
    api_other_grid = client.get("/api/v1/customers/C4")
    assert api_other_grid.status_code == 404 and api_other_grid.json["code"] == "customer_not_found"


def test_risk_scores_show_on_the_list_sorted_by_probability_and_with_reasons_on_the_customer_page(
        client, recovery, tmp_path):
    load_district(recovery, tmp_path)
    ids = dict(db.session.execute(select(Customer.code, Customer.id)).all())
    for code, pd_, loss in (("C1", 0.12, 15_000), ("C2", 0.81, 4_000), ("C3", 0.45, 90_000)):
        db.session.add(RiskScore(customer_id=ids[code], as_of=dt.date(2026, 11, 23), model_version="v1", pd=pd_,
                                 exposure_fen=loss * 2, expected_loss_fen=loss, rating="B",
                                 reasons_zh=["近12期平均逾期38天"],
                                 reasons_en=["last 12 bills 38 days late on average"]))
    db.session.commit()
    sign_in(client, "li")

    page = client.get("/customers?sort=pd&order=desc&lang=en").get_data(as_text=True)
    # The rows' links, not the bare codes: a random CSRF token in the page header may contain "C3".
    row = '/customers/{}"'.format
    assert page.index(row("C2")) < page.index(row("C3")) < page.index(row("C1"))
    assert "81.0%" in page
    by_loss = client.get("/customers?sort=expected_loss&order=desc").get_data(as_text=True)
    assert by_loss.index(row("C3")) < by_loss.index(row("C1")) < by_loss.index(row("C2"))

    detail = client.get("/customers/C2").get_data(as_text=True)
    assert "欠费风险" in detail and "近12期平均逾期38天" in detail and "81.0%" in detail
    assert "last 12 bills 38 days late" in client.get("/customers/C2?lang=en").get_data(as_text=True)
    assert "尚未评分" in client.get("/customers/C5").get_data(as_text=True)
