"""Customer segments, recomputed for every customer in one INSERT … SELECT.

Value: the monthly bill is the average of the bills issued in the 365 days up to the day (integer fen,
rounded down; no bills: 0). Customers are ranked by it, then by their average kWh (the size of the
supply, which orders customers whose bills tie), then by id; the top share is high_value, the next
potential, the next medium, the rest low ([segments] shares, each boundary rounded up).
Risk: the probability of arrears from the latest scoring run (as the customer pages read it) in bands
high / medium / low; customers the run did not score are `unscored`.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import Integer, case, delete, func, insert, literal, null, select
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.risk.models import RiskScore, in_latest_run
from recovery.worklist.models import CustomerSegment, RiskSegment, ValueSegment
from recovery.worklist.policy import segments_policy


def latest_scores():
    """customer_id, pd, expected_loss_fen of the most recent scoring run (a subquery)."""
    return in_latest_run(select(RiskScore.customer_id, RiskScore.pd, RiskScore.expected_loss_fen)).subquery(
        "latest_scores")


def boundaries(count: int, rules: dict) -> tuple[int, int, int]:
    """The last rank of high_value, potential and medium among `count` customers (cumulative, rounded up)."""
    h = rules["high_value"]
    p = h + rules["potential"]
    m = p + rules["medium"]
    return tuple(min(count, math.ceil(count * share)) for share in (h, p, m))  # type: ignore[return-value]


def refresh(session: Session, day: dt.date) -> dict:
    """Recompute every customer's segments as of `day` (replaces the previous run's rows)."""
    rules = segments_policy()
    count = session.scalar(select(func.count()).select_from(Customer)) or 0
    high, potential, medium = boundaries(count, rules)
    billed = (
        select(Bill.customer_id, (func.sum(Bill.amount_fen) // func.count()).label("monthly_fen"),
               func.avg(Bill.kwh).label("kwh"))
        .where(Bill.issued_on > day - dt.timedelta(days=365), Bill.issued_on <= day)
        .group_by(Bill.customer_id)
        .subquery("billed")
    )
    monthly = func.coalesce(billed.c.monthly_fen, 0)
    ranked = (
        select(Customer.id.label("customer_id"), monthly.label("monthly_fen"),
               func.row_number().over(order_by=(monthly.desc(), func.coalesce(billed.c.kwh, 0).desc(),
                                                Customer.id)).label("rank"))
        .join(billed, billed.c.customer_id == Customer.id, isouter=True)
        .subquery("ranked")
    )
    scores = latest_scores()
    value = case((ranked.c.rank <= high, literal(ValueSegment.high_value.value)),
                 (ranked.c.rank <= potential, literal(ValueSegment.potential.value)),
                 (ranked.c.rank <= medium, literal(ValueSegment.medium.value)),
                 else_=literal(ValueSegment.low.value))
    risk = case((scores.c.pd.is_(None), literal(RiskSegment.unscored.value)),
                (scores.c.pd >= rules["risk_high_pd"], literal(RiskSegment.high.value)),
                (scores.c.pd >= rules["risk_medium_pd"], literal(RiskSegment.medium.value)),
                else_=literal(RiskSegment.low.value))

    def every(what: str):
        # 0 in the policy: no contact by frequency (NULL), so the build's join never matches it.
        whens = [(value == literal(seg), literal(f[what], Integer) if f[what] else null())
                 for seg, f in rules["frequency"].items()]
        return case(*whens, else_=null())

    session.execute(delete(CustomerSegment))
    session.execute(insert(CustomerSegment).from_select(
        ["customer_id", "as_of", "monthly_bill_fen", "value_rank", "value_segment", "pd", "risk_segment",
         "visit_every_days", "call_every_days"],
        select(ranked.c.customer_id, literal(day, CustomerSegment.as_of.type), ranked.c.monthly_fen, ranked.c.rank,
               value, scores.c.pd, risk, every("visit_every_days"), every("call_every_days"))
        .join(scores, scores.c.customer_id == ranked.c.customer_id, isouter=True)))
    return {"customers": count, **summary(session)}


def summary(session: Session) -> dict:
    """Customers per value and per risk segment."""
    out = {}
    for column in (CustomerSegment.value_segment, CustomerSegment.risk_segment):
        for name, n in session.execute(select(column, func.count()).group_by(column)).all():
            out[f"{column.key.removesuffix('_segment')}_{name}"] = n
    return out


def segments_table(session: Session) -> list[dict]:
    """Per value segment: customers, the smallest and largest monthly bill, contact frequencies."""
    rows = bulk.read_frame(session, select(
        CustomerSegment.value_segment, func.count().label("customers"),
        func.min(CustomerSegment.monthly_bill_fen).label("min_fen"),
        func.max(CustomerSegment.monthly_bill_fen).label("max_fen"),
        func.max(CustomerSegment.visit_every_days).label("visit_every_days"),
        func.max(CustomerSegment.call_every_days).label("call_every_days"),
        func.max(CustomerSegment.as_of).label("as_of"),
    ).group_by(CustomerSegment.value_segment))
    order = {s.value: i for i, s in enumerate(ValueSegment)}
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    return sorted(records, key=lambda r: order[r["value_segment"]])


def segment_of(session: Session, customer: Customer) -> CustomerSegment | None:
    """One customer's segments, if segmented."""
    return session.get(CustomerSegment, customer.id)

