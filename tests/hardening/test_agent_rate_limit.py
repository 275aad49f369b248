"""Partner agents' calls are rate limited per agent: 429 in the API's error shape, with Retry-After."""

from __future__ import annotations

from recovery.extensions import db
from recovery.payments.channels import agents, kiosks
from tests.payments.agent_client import signed_headers

PATH = "/api/v1/payments/PNONE"


def test_an_agent_over_its_limit_gets_429_with_retry_after_and_others_do_not(app, client):
    first = agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=3_000_000)
    second = agents.create_agent(db.session, "AG02", name="邮政代收", deposit_fen=3_000_000)
    db.session.commit()
    app.config["AGENT_RATE_LIMIT"] = "2/minute"

    def get(code: str, secret: str):
        return client.get(PATH, headers=signed_headers(code, secret, "GET", PATH, b""))

    assert [get("AG01", first.secret).status_code for _ in range(2)] == [404, 404]
    # A request signed with a wrong secret spends nobody's allowance.
    assert get("AG01", "not the secret").status_code == 401
    over = get("AG01", first.secret)
    assert over.status_code == 429
    assert over.json["status"] == 429 and over.json["code"] == "rate_limited" and "AG01" in over.json["message"]
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert get("AG02", second.secret).status_code == 404


def test_a_kiosk_over_its_limit_gets_429_too(app, client):
    new = kiosks.register_kiosk(db.session, "K01", location="营业厅")
    db.session.commit()
    app.config["KIOSK_RATE_LIMIT"] = "1/minute"
    path = "/api/v1/kiosk-payments/PNONE"

    def get():
        headers = signed_headers("K01", new.secret, "GET", path, b"")
        headers["X-Kiosk-Id"] = headers.pop("X-Agent-Id")
        return client.get(path, headers=headers)

    assert get().status_code == 404
    over = get()
    assert over.status_code == 429 and over.json["code"] == "rate_limited" and "Retry-After" in over.headers
