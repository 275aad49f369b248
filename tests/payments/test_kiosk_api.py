"""Kiosks: signed postings with receipts numbered per kiosk per day, cash collections, the day's figures."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.payments.channels import agents, kiosks
from recovery.payments.models import KioskCollection, Payment, Receipt
from tests.factories import PAYMENT_COLUMNS, bill, customer, load, payment, write_csv
from tests.payments.agent_client import payment_body, signed_headers
from tests.payments.kiosk_clock import PAID, the_next_morning  # noqa: F401  (autouse)

PATH = "/api/v1/kiosk-payments"
DAY = dt.date(2026, 3, 10)



@pytest.fixture
def kiosk(app, recovery, tmp_path):
    """Kiosks K01 and K02; customer C1 with bills of 100 and 80 yuan."""
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2")],
         bills=[bill("B1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20"),
                bill("B2", "C1", "80.00", "2026-02", "2026-03-03", "2026-03-20")])
    first = kiosks.register_kiosk(db.session, "K01", location="营业厅一楼")
    second = kiosks.register_kiosk(db.session, "K02", location="社区服务中心")
    db.session.commit()
    return {"K01": first.secret, "K02": second.secret}


def kiosk_headers(kiosk_id: str, secret: str, method: str, path: str, body: bytes, key: str = "") -> dict:
    headers = signed_headers(kiosk_id, secret, method, path, body, key)
    headers["X-Kiosk-Id"] = headers.pop("X-Agent-Id")
    return headers


def post(client, secrets, body: bytes, key: str = "k-1", kiosk_id: str = "K01"):
    return client.post(PATH, data=body, headers=kiosk_headers(kiosk_id, secrets[kiosk_id], "POST", PATH, body, key))


def body(tender: str = "cash", **kw) -> bytes:
    return payment_body(tender=tender, **({"paid_at": PAID} | kw))


def test_a_kiosk_payment_is_provisional_allocated_oldest_first_and_has_a_receipt(client, kiosk):
    response = post(client, kiosk, body(amount="120.50", tender="card"))

    assert response.status_code == 201, response.json
    answer = response.json
    assert (answer["status"], answer["balance"], answer["tender"], answer["kiosk_id"]) == (
        "provisional", "59.50", "card", "K01")
    assert answer["allocations"] == [{"bill_id": "B1", "amount": "100.00"}, {"bill_id": "B2", "amount": "20.50"}]
    assert answer["receipt_no"] == "KK01-20260310-00001"
    stored = db.session.scalar(select(Payment).where(Payment.code == answer["payment_id"]))
    assert (stored.channel, stored.channel_account, stored.channel_ref) == ("kiosk", "K01", "R-1")
    assert db.session.scalar(select(func.count()).where(LedgerEntry.payment_id == stored.id)) == 1


def test_receipts_run_per_kiosk_per_day_without_gaps(client, kiosk):
    numbers = [post(client, kiosk, body(channel_ref=f"R-{i}"), key=f"k{i}").json["receipt_no"] for i in range(3)]
    numbers.append(post(client, kiosk, body(channel_ref="R-9", paid_at="2026-03-11T08:00:00+08:00"),
                        key="k9").json["receipt_no"])
    numbers.append(post(client, kiosk, body(channel_ref="R-1"), key="x", kiosk_id="K02").json["receipt_no"])

    assert numbers == ["KK01-20260310-00001", "KK01-20260310-00002", "KK01-20260310-00003",
                       "KK01-20260311-00001", "KK02-20260310-00001"]


def test_a_refused_posting_uses_no_receipt_number(client, kiosk):
    assert post(client, kiosk, body(customer_id="NOPE", channel_ref="R-1"), key="a").status_code == 404
    assert post(client, kiosk, body(channel_ref="R-2"), key="b").json["receipt_no"] == "KK01-20260310-00001"


def test_same_key_replays_the_answer_and_kiosk_keys_are_apart_from_agents(client, kiosk):
    first = post(client, kiosk, body())
    again = post(client, kiosk, body())
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    reused = post(client, kiosk, body(amount="1.00"))
    assert (reused.status_code, reused.json["code"]) == (409, "idempotency_key_reused")

    # An agent may use the same key string: each caller has its own key space.
    secret = agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=3_000_000).secret
    db.session.commit()
    agent_body = payment_body(channel_ref="R-1", paid_at=PAID)
    response = client.post("/api/v1/payments", data=agent_body,
                           headers=signed_headers("AG01", secret, "POST", "/api/v1/payments", agent_body, "k-1"))
    assert response.status_code == 201
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 2


def test_signatures_are_checked_with_the_kiosk_secret(client, kiosk):
    payload = body()
    missing = client.post(PATH, data=payload, headers=signed_headers("K01", kiosk["K01"], "POST", PATH, payload, "k"))
    assert (missing.status_code, missing.json["code"]) == (401, "missing_signature")
    assert "X-Kiosk-Id" in missing.json["message"]

    forged = client.post(PATH, data=payload, headers=kiosk_headers("K01", kiosk["K02"], "POST", PATH, payload, "k"))
    assert (forged.status_code, forged.json["code"]) == (401, "bad_signature")
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


@pytest.mark.parametrize(("field", "value"), [("tender", "cheque"), ("tender", None), ("amount", "1.234")])
def test_bad_fields_are_422_naming_the_field(client, kiosk, field, value):
    payload = json.loads(body())
    payload[field] = value
    response = post(client, kiosk, json.dumps(payload).encode())
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_kiosks_read_only_their_own_payments(client, kiosk):
    payment_id = post(client, kiosk, body()).json["payment_id"]
    path = f"{PATH}/{payment_id}"
    own = client.get(path, headers=kiosk_headers("K01", kiosk["K01"], "GET", path, b""))
    assert (own.status_code, own.json["receipt_no"]) == (200, "KK01-20260310-00001")
    other = client.get(path, headers=kiosk_headers("K02", kiosk["K02"], "GET", path, b""))
    assert (other.status_code, other.json["code"]) == (404, "payment_not_found")


def test_the_day_sets_counted_cash_against_cash_payments_with_cards_apart(client, kiosk, recovery):
    post(client, kiosk, body(amount="100.00", channel_ref="R-1"), key="a")
    post(client, kiosk, body(amount="30.00", channel_ref="R-2"), key="b")
    post(client, kiosk, body(amount="50.00", channel_ref="R-3", tender="card"), key="c")
    post(client, kiosk, body(amount="9.00", channel_ref="R-4", paid_at="2026-03-11T09:00:00+08:00"), key="d")
    result = recovery("kiosk", "collect", "K01", "120.00", "--by", "张三", "--reference", "BAG-7",
                      "--at", "2026-03-10T20:00:00+08:00")
    assert result.exit_code == 0, result.output

    day = kiosks.kiosk_day(db.session, DAY).set_index("kiosk_id")
    k01 = day.loc["K01"]
    assert (k01["cash_count"], k01["cash_fen"], k01["card_count"], k01["card_fen"]) == (2, 13000, 1, 5000)
    assert (k01["counted_fen"], k01["collections"], k01["cash_difference_fen"]) == (12000, 1, -1000)
    assert k01["location"] == "营业厅一楼"
    assert (day.loc["K02", "cash_fen"], day.loc["K02", "counted_fen"]) == (0, 0)
    row = db.session.scalar(select(KioskCollection))
    assert (row.collected_by, row.reference, row.collected_on) == ("张三", "BAG-7", DAY)

    again = recovery("kiosk", "collect", "K01", "120.00", "--reference", "BAG-7")
    assert again.exit_code != 0 and "already recorded" in again.output


def test_imported_kiosk_payments_get_receipts_and_a_reimport_adds_none(recovery, tmp_path, kiosk, session):
    rows = [payment("T-2", "C1", "20.00", "2026-03-10T11:00:00+08:00", channel="kiosk", account="K02"),
            payment("T-1", "C1", "10.00", "2026-03-10T10:00:00+08:00", channel="kiosk", account="K02"),
            payment("T-3", "C2", "5.00", "2026-03-10T10:00:00+08:00", channel="bank", account="ICBC")]
    path = write_csv(tmp_path / "kiosk.csv", PAYMENT_COLUMNS, rows)
    assert recovery("import", "payments", path).exit_code == 0
    assert recovery("import", "payments", path).exit_code == 0

    stored = session.execute(select(Payment.channel_ref, Receipt.receipt_no, Receipt.tender)
                             .join(Receipt, Receipt.payment_id == Payment.id).order_by(Receipt.seq)).all()
    assert [tuple(r) for r in stored] == [("T-1", "KK02-20260310-00001", None), ("T-2", "KK02-20260310-00002", None)]
    day = kiosks.kiosk_day(session, DAY).set_index("kiosk_id")
    assert (day.loc["K02", "unknown_count"], day.loc["K02", "unknown_fen"]) == (2, 3000)


def test_kiosk_register_prints_the_secret_once(recovery):
    result = recovery("kiosk", "register", "K09", "--location", "火车站", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["kiosk_id"] == "K09" and len(printed["secret"]) >= 32
    assert recovery("kiosk", "register", "K09", "--location", "x").exit_code != 0
    assert recovery("kiosk", "register", "bad id", "--location", "x").exit_code != 0


def test_a_day_without_kiosks_gives_an_empty_frame_with_the_columns(app, session):
    frame = kiosks.kiosk_day(session, DAY)
    assert frame.empty and list(frame.columns) == kiosks.KIOSK_DAY_COLUMNS
