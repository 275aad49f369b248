"""Concurrent kiosk postings through a real threaded server: one payment per key, receipts without gaps."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from recovery.extensions import db
from recovery.payments.channels import kiosks
from recovery.payments.models import Payment, Receipt
from tests.factories import bill, customer, load
from tests.payments.agent_client import payment_body, signed_headers
from tests.payments.kiosk_clock import PAID, the_next_morning  # noqa: F401  (autouse)

PATH = "/api/v1/kiosk-payments"



@pytest.fixture
def secret(app, recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")], bills=[bill("B1", "C1", "5000.00")])
    new = kiosks.register_kiosk(db.session, "K01", location="营业厅")
    db.session.commit()
    return new.secret


def _post_all(base_url: str, requests: list[tuple[bytes, str]], secret: str) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(requests))

    def send(item: tuple[bytes, str]) -> tuple[int, dict]:
        body, key = item
        headers = signed_headers("K01", secret, "POST", PATH, body, key)
        headers["X-Kiosk-Id"] = headers.pop("X-Agent-Id")
        request = urllib.request.Request(base_url + PATH, data=body, method="POST", headers=headers)
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def test_concurrent_kiosk_payments_get_consecutive_receipts(live_server, secret):
    requests = [(payment_body(amount="10.00", channel_ref=f"R-{i}", tender="cash", paid_at=PAID), f"key-{i}")
                for i in range(12)]
    results = _post_all(live_server, requests, secret)

    assert [status for status, _ in results] == [201] * 12, results
    numbers = sorted(answer["receipt_no"] for _, answer in results)
    assert numbers == [f"KK01-20260310-{n:05d}" for n in range(1, 13)]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 12


def test_concurrent_retries_with_one_key_post_one_payment(live_server, secret):
    body = payment_body(amount="10.00", tender="card", paid_at=PAID)
    results = _post_all(live_server, [(body, "same")] * 20, secret)

    assert {status for status, _ in results} <= {201, 409}
    assert len({answer["payment_id"] for status, answer in results if status == 201}) == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
