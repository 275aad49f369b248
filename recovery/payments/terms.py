"""Agents' terms (代收协议): the least deposit an agent pays, the commission the utility pays it on what it
collects, and the areas card distributors serve.

    [agents]
    min_deposit = "30000.00"             # yuan: an agent's deposit may not be set below this
    commission_rate = "0.003"            # of what an agent collects in a month (0.3 %), paid by the utility
    commission_rates = {AG01 = "0.004"}  # an agent's own rate, where its agreement says so

The commission of an agent's month is computed on what it collected that month: its payments (channel
`agent`, channel_account its code) whose paid_at falls in the month in the business time zone, less the
reversed ones (provisional ones count: by the month's close the statements have confirmed them, and a
reversal later shows in the month it is closed again). It is integer fen, rounded once per agent and month,
half up (ROUND_HALF_UP): commission_fen = round_half_up(collected_fen x rate). Rates are exact decimals of at
most six places, held as parts per million, so the product is exact in integers.

A month is closed (`close_month`, `recovery agent commission --month M --close`, or job agents.commission on
[assessment] close_day) by keeping each agent's figures, rate included: what the utility pays is reckoned on
them, and the report reads them instead of computing the month again.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import pandas as pd
from marshmallow import Schema, ValidationError, fields, post_load
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from recovery import bulk, policy
from recovery.audit import service as audit
from recovery.customers.models import Grid
from recovery.errors import Conflict, Invalid, NotFound
from recovery.money import format_yuan, parse_yuan, prorate_half_up
from recovery.payments.models import Agent, Channel, Distributor, Payment, PaymentState
from recovery.payments.terms_models import AgentCommission, DistributorArea
from recovery.timeutil import check_month, month_bounds, now, start_of_day

PPM = 1_000_000
ACTOR = "job:agents.commission"


def rate_ppm(text: str) -> int:
    """'0.003' -> 3000 parts per million; refuses anything but an exact decimal in [0, 1) of at most 6 places."""
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise ValidationError(f"not a decimal rate: {text!r}") from None
    ppm = value * PPM
    if not value.is_finite() or ppm != ppm.to_integral_value() or not (0 <= value < 1):
        raise ValidationError(f"a commission rate is a decimal in [0, 1) with at most 6 decimals: {text!r}")
    return int(ppm)


def _yuan(value: str) -> None:
    try:
        parse_yuan(value)
    except Invalid as e:
        raise ValidationError(e.message) from e


class AgentsPolicySchema(Schema):
    """[agents]: the least deposit, the commission rate, agents' own rates."""

    min_deposit = fields.String(load_default="30000.00", validate=_yuan)
    commission_rate = fields.String(load_default="0.003", validate=rate_ppm)
    commission_rates = fields.Dict(keys=fields.String(), values=fields.String(validate=rate_ppm), load_default=dict)

    @post_load
    def _resolve(self, data, **_kw):
        return {**data, "min_deposit_fen": parse_yuan(data["min_deposit"]),
                "rate_ppm": rate_ppm(data["commission_rate"]),
                "rates_ppm": {code: rate_ppm(r) for code, r in data["commission_rates"].items()}}


def agents_policy() -> dict:
    """The [agents] section in force."""
    return policy.section("agents")


# ---------------------------------------------------------------------------------------------- deposits


def check_deposit(deposit_fen: int) -> None:
    """Refuse a deposit below the policy's minimum (422, deposit_below_minimum)."""
    rules = agents_policy()
    if deposit_fen < rules["min_deposit_fen"]:
        raise Invalid(f"an agent's deposit is at least {format_yuan(rules['min_deposit_fen'])} yuan "
                      f"([agents] min_deposit); {format_yuan(max(deposit_fen, 0)) if deposit_fen >= 0 else 'less'} "
                      "was given", code="deposit_below_minimum")


def set_deposit(session: Session, code: str, deposit_fen: int, *, reference: str, by: str) -> Agent:
    """Record the agent's new deposit (a top-up, or a part paid back by agreement): never below the minimum;
    the limit it buys follows. Audited with what it was."""
    from recovery.payments.channels.agents import get_agent, limit_for

    check_deposit(deposit_fen)
    if not (reference or "").strip():
        raise Invalid("a deposit change needs the reference of the money received or paid back",
                      code="reference_required")
    agent = get_agent(session, code)
    before, limit = agent.deposit_fen, limit_for(deposit_fen)
    # Conditional on the deposit read: a forfeiture approved meanwhile makes this one fail rather than undo it.
    done = session.execute(update(Agent).where(Agent.id == agent.id, Agent.deposit_fen == before)
                           .values(deposit_fen=deposit_fen, limit_fen=limit)
                           .execution_options(synchronize_session=False)).rowcount
    if not done:
        raise Conflict(f"agent {code}'s deposit changed meanwhile; try again", code="concurrent_change")
    session.refresh(agent)
    audit.record(session, "agent.deposit", "agent", code, actor=by, deposit_before_fen=before,
                 deposit_fen=deposit_fen, limit_fen=limit, reference=reference.strip())
    return agent


# ---------------------------------------------------------------------------------------------- commission

COMMISSION_COLUMNS = ["agent", "name", "month", "payments", "collected_fen", "rate", "commission_fen"]


def _rates(codes: pd.Series, rules: dict) -> tuple[pd.Series, pd.Series]:
    """Each agent's rate in parts per million and as the policy wrote it."""
    ppm = codes.map(rules["rates_ppm"]).fillna(rules["rate_ppm"]).astype("int64")
    text = codes.map(rules["commission_rates"]).fillna(rules["commission_rate"])
    return ppm, text


def compute(session: Session, month: str) -> pd.DataFrame:
    """Every agent's commission for the month, computed from the payments now (COMMISSION_COLUMNS, by code)."""
    first, last = month_bounds(check_month(month))
    session.flush()  # the read below goes through Core, which does not autoflush pending changes
    p = Payment
    took = (select(p.channel_account, func.count().label("payments"), func.sum(p.amount_fen).label("collected_fen"))
            .where(p.channel == Channel.agent, p.state != PaymentState.reversed,
                   p.paid_at >= start_of_day(first), p.paid_at < start_of_day(last + dt.timedelta(days=1)))
            .group_by(p.channel_account).subquery("took"))
    frame = bulk.read_frame(session, select(
        Agent.code.label("agent"), Agent.name, func.coalesce(took.c.payments, 0).label("payments"),
        func.coalesce(took.c.collected_fen, 0).label("collected_fen"))
        .join(took, took.c.channel_account == Agent.code, isouter=True).order_by(Agent.code))
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COMMISSION_COLUMNS})
    frame = frame.astype({"payments": "int64", "collected_fen": "int64"})
    ppm, text = _rates(frame["agent"], agents_policy())
    frame["commission_fen"] = prorate_half_up(frame["collected_fen"], ppm, PPM)
    frame["rate"] = text.to_numpy()
    frame["month"] = month
    return frame[COMMISSION_COLUMNS]


def closed_at(session: Session, month: str) -> AgentCommission | None:
    """One kept row of the month (who closed it, when), or None while it is open."""
    return session.scalar(select(AgentCommission).where(AgentCommission.month == month).limit(1))


def commissions(session: Session, month: str) -> pd.DataFrame:
    """The month's commissions: as kept when it was closed, else computed now."""
    if closed_at(session, check_month(month)) is None:
        return compute(session, month)
    c = AgentCommission
    frame = bulk.read_frame(session, select(Agent.code.label("agent"), Agent.name, c.month, c.payments,
                                            c.collected_fen, c.rate, c.commission_fen)
                            .join(Agent, Agent.id == c.agent_id).where(c.month == month).order_by(Agent.code))
    return frame.astype({"payments": "int64", "collected_fen": "int64", "commission_fen": "int64"})


def close_month(session: Session, month: str, *, by: str) -> dict:
    """Keep every agent's commission of the month (closing again recomputes and replaces them). Audited."""
    frame = compute(session, month)
    ids = dict(session.execute(select(Agent.code, Agent.id)).all())
    session.execute(delete(AgentCommission).where(AgentCommission.month == month))
    stamp = now()
    session.add_all([AgentCommission(month=month, agent_id=ids[r.agent], payments=int(r.payments),
                                     collected_fen=int(r.collected_fen), rate=r.rate,
                                     commission_fen=int(r.commission_fen), closed_by=by, closed_at=stamp)
                     for r in frame.itertuples()])  # one row per agent: a few hundred at most
    total = int(frame["commission_fen"].sum()) if len(frame) else 0
    audit.record(session, "agent.commission_close", "month", month, actor=by, agents=len(frame),
                 collected_fen=int(frame["collected_fen"].sum()) if len(frame) else 0, commission_fen=total)
    return {"month": month, "agents": len(frame), "commission_fen": total}


def nightly_close(session: Session, day: dt.date) -> dict:
    """Job agents.commission: on or after [assessment] close_day, close the month before once."""
    previous = (day.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    if day.day < policy.section("assessment")["close_day"]:
        return {"month": previous, "closed": False, "reason": "before the close day"}
    if closed_at(session, previous) is not None:
        return {"month": previous, "closed": False, "reason": "closed already"}
    return {**close_month(session, previous, by=ACTOR), "closed": True}


# ---------------------------------------------------------------------------------------------- distributors


def set_areas(session: Session, code: str, grids: list[str], *, by: str) -> list[str]:
    """The grids a card distributor serves (replacing those before). Audited."""
    distributor = session.scalar(select(Distributor).where(Distributor.code == code))
    if distributor is None:
        raise NotFound(f"no distributor {code}", code="distributor_not_found")
    wanted = sorted(set(grids))
    found = dict(session.execute(select(Grid.code, Grid.id).where(Grid.code.in_(wanted))).all())
    unknown = [g for g in wanted if g not in found]
    if unknown:
        raise NotFound(f"no grid {', '.join(unknown)}", code="grid_not_found")
    before = sorted(session.scalars(select(Grid.code).join(DistributorArea, DistributorArea.grid_id == Grid.id)
                                    .where(DistributorArea.distributor_id == distributor.id)))
    session.execute(delete(DistributorArea).where(DistributorArea.distributor_id == distributor.id))
    session.add_all([DistributorArea(distributor_id=distributor.id, grid_id=found[g]) for g in wanted])
    audit.record(session, "distributor.areas", "distributor", code, actor=by, before=before, areas=wanted)
    return wanted


COMMISSION_HEADER = ["agent", "name", "month", "payments", "collected", "rate", "commission"]


def commission_csv_rows(rows: list[dict]) -> list[list]:
    """The commission CSV's rows (amounts as yuan decimals)."""
    return [[r["agent"], r["name"], r["month"], int(r["payments"]), Decimal(format_yuan(r["collected_fen"])),
             Decimal(r["rate"]), Decimal(format_yuan(r["commission_fen"]))] for r in rows]
