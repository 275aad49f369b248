"""Context passed in: a service reads its time zone, policy and clock from recovery.context, so it runs in a
script or a worker with a plain SQLAlchemy session and no Flask application at all."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

from flask import has_app_context
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from recovery import context, policy, timeutil
from recovery.billing.penalties import penalties_as_of
from recovery.context import Context, using
from tests.factories import bill, customer, load

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _elsewhere(work):
    """Run `work` in a fresh thread: it starts with no Flask application context and no recovery context."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def test_a_service_runs_with_a_plain_session_and_no_application(recovery, tmp_path, database_url):
    # 1234.56 yuan overdue from 2026-02-21 to 2026-03-02, residential: 10 days at the default 0.1 % = 12.3456
    # -> 12.35; at 0.2 % from the context's own policy, 24.6912 -> 24.69.
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20")])
    doubled = {"penalty": {"rates": {"residential": {"current_year": "0.002", "earlier_years": "0.002"}}}}

    def script() -> tuple[bool, list, list]:
        engine = create_engine(database_url)
        try:
            with Session(engine) as session:
                with using(Context(tz=SHANGHAI)):
                    default = penalties_as_of(session, dt.date(2026, 3, 2))
                with using(Context(tz=SHANGHAI, policy=doubled)):
                    higher = penalties_as_of(session, dt.date(2026, 3, 2))
            return has_app_context(), default[["penalty_fen", "posted_fen"]].values.tolist(), \
                higher[["penalty_fen", "posted_fen"]].values.tolist()
        finally:
            engine.dispose()

    in_an_app, default, higher = _elsewhere(script)
    assert not in_an_app
    assert default == [[1235, 0]]
    assert higher == [[2469, 0]]


def test_the_context_gives_the_zone_the_clock_and_the_policy_and_is_restored_after(app):
    noon = dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC)  # 00:30 on 2 March in Shanghai
    rules = {"penalty": {"grace_days": 5}}
    with using(Context(tz=SHANGHAI, policy=rules, clock=lambda: noon)) as given:
        assert context.active() is given
        assert timeutil.now() == noon and timeutil.today() == dt.date(2026, 3, 2)
        assert policy.section("penalty")["grace_days"] == 5
        assert policy.section("penalty") is policy.section("penalty")  # validated once per context
        with using(Context(tz=ZoneInfo("UTC"), clock=lambda: noon)):
            assert timeutil.today() == dt.date(2026, 3, 1) and policy.section("penalty")["grace_days"] == 0
        assert timeutil.business_tz() == SHANGHAI
    assert context.active() is None
    assert timeutil.business_tz() == ZoneInfo(app.config["RECOVERY_TZ"])
    assert policy.section("penalty")["grace_days"] == 0


def test_a_context_is_its_own_thread_s(app):
    with using(Context(tz=ZoneInfo("America/New_York"))):
        assert _elsewhere(context.active) is None
