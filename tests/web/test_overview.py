"""The customer page reads everything through one overview before it renders; the worklist and the dashboard
gather the other domains' parts the same way. No statement reaches the database while a template renders."""

from __future__ import annotations

import pytest
from flask import before_render_template, template_rendered
from sqlalchemy import event

from recovery import sections
from recovery.extensions import db
from recovery.portfolio.queries import CustomerOverview
from tests.web.test_customer_page import story  # noqa: F401  the customer with a part in every section
from tests.web.test_pages import page, sign_in

CUSTOMER_PARTS = {"security", "collections", "worklist", "disputes", "big_customer", "building", "debit", "writeoff"}


class Statements:
    """Counts the statements sent to the database while a template renders, and in all."""

    def __init__(self, app):
        self.app, self.rendering, self.while_rendering, self.total = app, 0, [], 0

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._statement)
        before_render_template.connect(self._begin, self.app)
        template_rendered.connect(self._end, self.app)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._statement)
        before_render_template.disconnect(self._begin, self.app)
        template_rendered.disconnect(self._end, self.app)

    def _begin(self, *_args, **_kw):
        self.rendering += 1

    def _end(self, *_args, **_kw):
        self.rendering -= 1

    def _statement(self, _conn, _cursor, statement, *_args):
        self.total += 1
        if self.rendering:
            self.while_rendering.append(statement.split("\n")[0][:120])


@pytest.mark.parametrize("url", ["/customers/C1", "/worklist", "/dashboard"])
def test_a_page_reads_nothing_while_it_renders(app, client, story, url):  # noqa: F811
    sign_in(client, "li")
    with Statements(app) as seen:
        html = page(client, url + "?lang=en")
    assert seen.total > 0  # the page did read the database, before it rendered
    assert seen.while_rendering == []
    assert "<html" in html


def test_the_counter_sees_a_statement_made_while_rendering(app, story):  # noqa: F811
    """The check above can fail: a template that reads the database is caught."""
    from flask import render_template_string

    with app.test_request_context(), Statements(app) as seen:
        render_template_string("{{ count() }}", count=lambda: db.session.execute(db.select(1)).scalar())
    assert len(seen.while_rendering) == 1


def test_the_overview_holds_every_domains_part_of_the_customer(app, client, story):  # noqa: F811
    from recovery.auth.models import User
    from recovery.auth.service import get_customer
    from recovery.timeutil import today

    assert sections.names("customer") == CUSTOMER_PARTS
    li = db.session.scalar(db.select(User).where(User.username == "li"))
    with app.test_request_context():
        from flask_login import login_user

        login_user(li)
        overview = CustomerOverview.read(db.session, get_customer(db.session, li, "C1"), today())
    assert set(overview.parts) == CUSTOMER_PARTS
    # The parts use the page's own figures: the write-off part's overdue balance is the position's.
    assert overview.parts["writeoff"]["overdue_fen"] == overview.position["overdue_fen"] > 0
    assert overview.parts["security"]["held_guarantees_fen"] == 500_000  # the story's guarantee of 5,000.00
    assert overview.credit["grade"] == "C" and [c.grade for c in overview.credit_changes] == ["C", "A"]
