"""Prometheus metrics: requests by route, payments posted when they commit, and who may read them."""

from __future__ import annotations

from prometheus_client import REGISTRY

from recovery.extensions import db
from recovery.payments.channels import agents
from tests.credit.security_helpers import set_policy
from tests.factories import bill, customer, load, write_csv
from tests.payments.agent_client import payment_body, signed_headers


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_request_is_counted_by_route_method_and_status(client):
    before = _value("recovery_http_requests_total", endpoint="/healthz", method="GET", status="200")
    client.get("/healthz")
    assert _value("recovery_http_requests_total", endpoint="/healthz", method="GET", status="200") == before + 1
    scraped = client.get("/metrics")
    assert scraped.status_code == 200
    assert 'recovery_http_request_duration_seconds_count{endpoint="/healthz",method="GET"}' in scraped.text


def test_a_posted_payment_is_counted_with_its_amount_and_a_refused_one_is_not(app, client, recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20")])
    # The limit is what this test is about: its agent's agreement asks a deposit of 100.00 yuan only.
    set_policy(app, {"agents": {"min_deposit": "100.00"}})
    agent = agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=10_000)
    db.session.commit()
    count, fen = _value("recovery_payments_posted_total", channel="agent"), \
        _value("recovery_payments_posted_fen_total", channel="agent")

    def post(body: bytes, key: str):
        return client.post("/api/v1/payments", data=body,
                           headers=signed_headers("AG01", agent.secret, "POST", "/api/v1/payments", body, key))

    assert post(payment_body(amount="40.50", channel_ref="R-1"), "k-1").status_code == 201
    # Over the agent's limit (a 100-yuan deposit): refused and rolled back, so not counted.
    assert post(payment_body(amount="90.00", channel_ref="R-2"), "k-2").status_code == 403

    assert _value("recovery_payments_posted_total", channel="agent") == count + 1
    assert _value("recovery_payments_posted_fen_total", channel="agent") == fen + 4050


def test_metrics_are_refused_to_other_addresses_and_need_the_token_when_one_is_set(app, client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    app.config["METRICS_TOKEN"] = "scrape-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-token"},
                      environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200


def test_a_job_run_and_the_reconciliation_breaks_it_found_are_counted(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")],
         payments=[{"payment_id": "", "customer_id": "C1", "channel": "agent", "channel_account": "AG01",
                    "channel_ref": "R1", "amount": "10.00", "paid_at": "2026-11-22T10:00:00+08:00"}])
    statement = write_csv(tmp_path / "ag01.csv", ["channel_ref", "customer_id", "amount", "paid_at"],
                          [{"channel_ref": "R1", "customer_id": "C1", "amount": "12.00",
                            "paid_at": "2026-11-22T10:00:30+08:00"}])
    runs = _value("recovery_job_runs_total", job="billing.penalties", outcome="succeeded")
    timed = _value("recovery_job_duration_seconds_count", job="billing.penalties", outcome="succeeded")
    mismatches = _value("recovery_reconciliation_breaks_found_total", kind="amount_mismatch")

    assert recovery("jobs", "run", "billing.penalties", "--date", "2026-11-22").exit_code == 0
    result = recovery("reconcile", "run", "--date", "2026-11-22", "--channel", "agent", "--statement", statement,
                      "--format", "csv", "--account", "AG01")
    assert result.exit_code == 0, result.output

    assert _value("recovery_job_runs_total", job="billing.penalties", outcome="succeeded") == runs + 1
    assert _value("recovery_job_duration_seconds_count", job="billing.penalties", outcome="succeeded") == timed + 1
    assert _value("recovery_reconciliation_breaks_found_total", kind="amount_mismatch") == mismatches + 1
