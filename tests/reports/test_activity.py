"""The officers' activity report: hand-counted visits, calls, notices, promises, warnings and complaints over a
week and a month, per officer and per grid, through the command, the page, the CSV and the API."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import select

from recovery.auth.service import create_user
from recovery.collections.models import Promise, PromiseStatus, WorkItem, WorkStatus
from recovery.collections.visits import record_visit
from recovery.customers.models import Customer
from recovery.disputes import service as disputes
from recovery.extensions import db
from recovery.notifications.models import Notification
from recovery.reports import activity
from tests.factories import customer, load
from tests.web.data import cheap_password_hashing

PASSWORD = "correct horse battery"
CST = dt.timezone(dt.timedelta(hours=8))
D = dt.date


def at(day: int, hour: int = 10, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CST)


@pytest.fixture
def march(recovery, tmp_path, monkeypatch):
    """Officers li (G1: C1) and wang (G2: C2) at work in March 2026; ISO week 10 is 2 to 8 March."""
    cheap_password_hashing(monkeypatch)
    load(recovery, tmp_path, customers=[customer("C1", "G1"), customer("C2", "G2")])
    create_user(db.session, "li", role="officer", password=PASSWORD, display_name="李明", grids=["G1"])
    create_user(db.session, "wang", role="officer", password=PASSWORD, display_name="王芳", grids=["G2"])
    create_user(db.session, "zhao", role="supervisor", password=PASSWORD, display_name="赵主任")
    c1, c2 = (db.session.scalar(select(Customer).where(Customer.code == c)) for c in ("C1", "C2"))
    s = db.session
    record_visit(s, c1, "li", "visit", "contacted", at=at(3))
    record_visit(s, c1, "li", "call", "promised", at=at(4))
    record_visit(s, c1, "li", "call", "not_home", at=at(9, 0, 30))  # Monday of week 11 (still Sunday in UTC)
    record_visit(s, c2, "wang", "visit", "contacted", at=at(2, 7))  # Monday of week 10 (Sunday in UTC)
    record_visit(s, c2, "wang", "visit", "refused", at=at(5))
    s.add_all([
        Promise(customer_id=c1.id, amount_fen=5000, made_on=D(2026, 3, 3), promised_on=D(2026, 3, 6),
                recorded_by="li", status=PromiseStatus.kept, checked_on=D(2026, 3, 6)),
        Promise(customer_id=c1.id, amount_fen=5000, made_on=D(2026, 2, 27), promised_on=D(2026, 3, 4),
                recorded_by="li", status=PromiseStatus.broken, checked_on=D(2026, 3, 4)),
        Promise(customer_id=c2.id, amount_fen=8000, made_on=D(2026, 3, 10), promised_on=D(2026, 3, 20),
                recorded_by="wang", status=PromiseStatus.kept, checked_on=D(2026, 3, 20)),
    ])
    for code, channel, sent in (("C1", "sms", at(4)), ("C1", None, at(4, 11)), ("C1", "letter", at(5)),
                                ("C1", "sms", None), ("C2", "sms", at(20))):
        s.add(Notification(recipient=f"customer:{code}", kind="dunning.overdue_notice", subject_type="customer",
                           subject_id=code, body="…", channel=channel, created_at=at(4), sent_at=sent))
    for cid, reason, status, who, done in ((c1.id, "early_warning_drop", WorkStatus.done, "li", at(6)),
                                           (c1.id, "early_warning_zero_consumption", WorkStatus.dismissed, "li", at(6)),
                                           (c2.id, "segment_call", WorkStatus.done, "wang", at(6))):
        s.add(WorkItem(customer_id=cid, due_on=D(2026, 3, 6), kind="call", reason=reason, status=status,
                       done_by=who, done_at=done, outcome="contacted"))
    with time_machine.travel(at(7), tick=False):
        answered = disputes.register(s, c2, kind="outage", channel="phone", description="no power for a day",
                                     registered_by="wang", at=at(6))
        disputes.resolve(s, answered, outcome="rejected", reason="planned work, announced", by="wang")
        disputes.register(s, c1, kind="service", channel="counter", description="queue", registered_by="li",
                          at=at(6))
    s.commit()


MEASURES = "visits,calls,sms,letters,promises_taken,promises_kept,warnings_followed,complaints_handled"


def test_a_weeks_activity_per_officer_counts_by_business_day(march, recovery):
    result = recovery("report", "activity", "--week", "2026-W10")
    assert result.exit_code == 0, result.output
    assert result.output == (f"period,by,key,name,grids,{MEASURES}\n"
                             "2026-W10,officer,li,李明,G1,1,1,2,1,1,1,1,0\n"
                             "2026-W10,officer,wang,王芳,G2,2,0,0,0,0,0,0,1\n")


def test_a_months_activity_per_grid_on_the_page_in_the_csv_and_the_api(march, recovery, client, tmp_path):
    out = tmp_path / "activity.csv"
    assert recovery("report", "activity", "--period", "2026-03", "--by", "grid", "--out", out).exit_code == 0
    assert out.read_text(encoding="utf-8") == (f"period,by,key,name,{MEASURES}\n"
                                               "2026-03,grid,G1,G1,1,2,2,1,1,1,1,0\n"
                                               "2026-03,grid,G2,G2,2,0,1,0,1,1,0,1\n")
    assert recovery("report", "activity", "--period", "2026-03", "--week", "2026-W10").exit_code == 1
    assert recovery("report", "activity", "--week", "2025-W53").exit_code == 1  # 2025 has 52 ISO weeks
    assert activity.period(week="2026-W53").last == D(2027, 1, 3)

    assert client.post("/login", data={"username": "li", "password": PASSWORD}).status_code == 302
    page = client.get("/reports/activity?period=2026-03&by=grid").get_data(as_text=True)
    assert 'data-key="G1"' in page and 'data-key="G2"' not in page  # an officer sees their own grids
    row = page[page.index('data-key="G1"'):page.index("</tr>", page.index('data-key="G1"'))]
    assert 'data-field="calls">2<' in row and 'data-field="sms">2<' in row and 'data-field="letters">1<' in row
    client.post("/logout")
    assert client.post("/login", data={"username": "zhao", "password": PASSWORD}).status_code == 302
    answer = client.get("/reports/activity.csv?week=2026-W10&by=officer")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.get_data(as_text=True).splitlines()[1:] == ["2026-W10,officer,li,李明,G1,1,1,2,1,1,1,1,0",
                                                              "2026-W10,officer,wang,王芳,G2,2,0,0,0,0,0,0,1"]
    rows = client.get("/api/v1/reports/activity?period=2026-03&by=officer").get_json()
    assert [(r["key"], r["calls"], r["sms"], r["promises_taken"], r["complaints_handled"]) for r in rows] == [
        ("li", 2, 2, 1, 0), ("wang", 0, 1, 1, 1)]
    assert client.get("/reports/activity?week=2026-W99").status_code == 400
