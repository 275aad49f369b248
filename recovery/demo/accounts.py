"""The demo's property-managed estate, its demolition site, its big customers with their contacts, and its
agents' and distributors' terms: added once per database, after the synthetic utility is loaded and before its
recent days of work are staged (so the night's penalties and dunning already see the demolition flag and the
big customers).

- An estate: a property company (one of the demo's property-management customers, its own account) paying for
  30 residents of a building in its grid, 10 more residents billed directly, two of its residents moved to
  direct billing after a dispute with the owners.
- A demolition site: a building of the generator's demolition grid (where residents move out and leave bills
  behind) with its residents, flagged 90 days before the demo's today: no penalties from then, its arrears on
  the clearance track.
- Big customers: the night's refresh; the managers' onboarding visits to those known before the demo's today
  (so that only the newest one and a customer flagged strategic wait for their first call within 24 hours);
  named contacts at the three largest.
- Agents: the three partner agents with the most payments registered with deposits of 30,000 to 80,000 yuan and
  their history remitted day by day (what they took is remitted the next day), last month's commission closed;
  two card distributors with their areas, some cards sold and paid for.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.audit import service as audit
from recovery.auth.models import User, officer_grids
from recovery.bigcustomers import service as big
from recovery.bigcustomers.models import BigCustomer
from recovery.buildings import clearance
from recovery.buildings import service as buildings
from recovery.buildings.models import BuildingResident, PropertyCompany
from recovery.collections.models import Visit
from recovery.customers.models import Customer, CustomerClass, Grid
from recovery.payments import terms
from recovery.payments.channels import agents, cards
from recovery.payments.models import Agent, Channel, Payment, PaymentState, Remittance
from recovery.timeutil import business_tz, now, today
from recovery.unitofwork import unit_of_work

ACTOR = "demo"
ESTATE_RESIDENTS, THROUGH_COMPANY, SITE_RESIDENTS = 40, 30, 60
DEPOSITS = (3_000_000, 5_000_000, 8_000_000)  # fen: 30,000, 50,000 and 80,000 yuan


def add(session: Session, as_of: dt.date, demolition_grid: str | None) -> dict:
    """Add the estate, the demolition site, big customers, agents and distributors once, each its own unit of work."""
    if session.scalar(select(PropertyCompany.id).limit(1)) is not None:
        return {"added": False}
    with unit_of_work(session):
        summary = {"added": True, "estate": _estate(session, as_of), "site": _site(session, as_of, demolition_grid)}
    with unit_of_work(session):
        summary["big_customers"] = _big_customers(session, as_of)
    with unit_of_work(session):
        summary["agents"] = _agents(session, as_of)
        summary["distributors"] = _distributors(session)
        audit.record(session, "demo.accounts", "database", None, actor=ACTOR, as_of=as_of.isoformat(),
                     **{k: v for k, v in summary.items() if k != "added"})
    return summary


def _residential(session: Session, grid_id: int, limit: int) -> list[Customer]:
    return list(session.scalars(select(Customer).where(Customer.grid_id == grid_id,
                                                       Customer.customer_class == CustomerClass.residential,
                                                       Customer.id.not_in(select(BuildingResident.customer_id)))
                                .order_by(Customer.code).limit(limit)))


def _estate(session: Session, as_of: dt.date) -> str | None:
    """A property company paying for residents of a building in its own grid."""
    account = session.scalar(select(Customer).where(Customer.customer_class == CustomerClass.property_mgmt)
                             .order_by(Customer.code).limit(1))
    grid_id = account.grid_id if account else session.scalar(select(func.min(Grid.id)))
    if grid_id is None:
        return None
    company = buildings.create_company(session, "PC01", name=account.name if account else "安居物业服务有限公司",
                                       customer=account, by=ACTOR)
    grid = session.get(Grid, grid_id)
    building = buildings.create_building(session, f"{grid.code}-A1", name=f"{grid.name or grid.code} 安居苑1幢",
                                         grid_id=grid_id, company=company, by=ACTOR)
    residents = _residential(session, grid_id, ESTATE_RESIDENTS)
    since = as_of - dt.timedelta(days=365)
    for n, customer in enumerate(residents):
        buildings.link_resident(session, building, customer, through_company=n < THROUGH_COMPANY, on=since, by=ACTOR)
    for customer in residents[:2]:
        buildings.move_to_direct_billing(session, customer, on=as_of - dt.timedelta(days=20), by=ACTOR,
                                         reason="业主委员会与物业公司纠纷，业主要求直接向供电公司缴费")
    return company.code


def _site(session: Session, as_of: dt.date, demolition_grid: str | None) -> str | None:
    """The demolition grid's residents in a building flagged for demolition 90 days ago."""
    grid = session.scalar(select(Grid).where(Grid.code == demolition_grid)) if demolition_grid else None
    if grid is None:
        return None
    building = buildings.create_building(session, f"{grid.code}-CQ", name=f"{grid.name or grid.code} 旧城改造片区",
                                         grid_id=grid.id, by=ACTOR)
    for customer in _residential(session, grid.id, SITE_RESIDENTS):
        buildings.link_resident(session, building, customer, through_company=False,
                                on=as_of - dt.timedelta(days=365), by=ACTOR)
    clearance.flag(session, kind="demolition", building=building.code, on=as_of - dt.timedelta(days=90),
                   reason="旧城改造拆迁，居民陆续搬离", by=ACTOR)
    return building.code


def _big_customers(session: Session, as_of: dt.date) -> dict:
    """The night's refresh, the managers' onboarding visits to all but the newest, contacts at the largest."""
    found = big.refresh(session, as_of)
    rows = session.execute(select(BigCustomer.customer_id).where(BigCustomer.ended_on.is_(None))
                           .order_by(BigCustomer.monthly_bill_fen.desc(), BigCustomer.customer_id)).scalars().all()
    newest = rows[-1:]  # the smallest: as if its bill crossed the line last month
    officer = (select(func.min(User.username)).join(officer_grids, officer_grids.c.user_id == User.id)
               .where(officer_grids.c.grid_id == Customer.grid_id).correlate(Customer).scalar_subquery())
    stamp = now()
    session.execute(insert(Visit).from_select(
        ["customer_id", "kind", "officer", "visited_at", "outcome", "note", "created_at"],
        select(Customer.id, literal("visit"), func.coalesce(officer, literal(ACTOR)),
               literal(stamp, Visit.visited_at.type), literal("contacted"), literal("大客户建档走访"),
               literal(stamp, Visit.created_at.type))
        .where(Customer.id.in_(select(BigCustomer.customer_id).where(BigCustomer.ended_on.is_(None),
                                                                      BigCustomer.customer_id.not_in(newest))))))
    big.refresh(session, as_of)
    people = {"finance": ("王会计", "0571-8800{:04d}"), "electrician": ("李电工", "1390000{:04d}"),
              "manager": ("张总", "1380000{:04d}")}
    for n, customer_id in enumerate(rows[:3]):
        customer = session.get(Customer, customer_id)
        for role, (name, phone) in people.items():
            big.set_contact(session, customer, role, name=name, phone=phone.format(n + 1), by=ACTOR)
    strategic = session.scalar(select(Customer).where(Customer.customer_class == CustomerClass.government,
                                                      Customer.id.not_in(select(BigCustomer.customer_id)))
                               .order_by(Customer.code).limit(1))
    if strategic is not None:
        big.set_strategic(session, strategic, reason="医院、学校等重要保供单位", by=ACTOR, day=as_of)
    return {"big": found["big"], "awaiting_first_call": len(newest) + (strategic is not None)}


def _agents(session: Session, as_of: dt.date) -> list[str]:
    """The busiest three agents registered, their takings remitted the next day, last month's commission closed."""
    busiest = session.execute(select(Payment.channel_account).where(Payment.channel == Channel.agent)
                              .group_by(Payment.channel_account)
                              .order_by(func.count().desc(), Payment.channel_account).limit(3)).scalars().all()
    for code, deposit in zip(busiest, DEPOSITS, strict=False):
        agents.create_agent(session, code, name=f"便民代收点{code}", deposit_fen=deposit)
    session.flush()  # the remittances below name the agents by id
    takings = bulk.read_frame(session, select(Agent.id.label("agent_id"), Payment.amount_fen, Payment.paid_at)
                              .join(Agent, Agent.code == Payment.channel_account)
                              .where(Payment.channel == Channel.agent, Payment.state != PaymentState.reversed))
    if not takings.empty:
        local = pd.to_datetime(takings["paid_at"], utc=True).dt.tz_convert(business_tz()).dt.date
        takings = takings.assign(day=local, amount_fen=takings["amount_fen"].astype("int64"))
        done = takings[takings["day"] < as_of]
        daily = done.groupby(["agent_id", "day"], as_index=False)["amount_fen"].sum()
        bulk.insert_frame(session, Remittance.__table__, pd.DataFrame({
            "agent_id": daily["agent_id"].astype("int64"), "amount_fen": daily["amount_fen"],
            "remitted_on": pd.to_datetime(daily["day"] + dt.timedelta(days=1)),
            "reference": "DEMO-" + daily["day"].map(dt.date.isoformat),
            "recorded_by": ACTOR, "created_at": pd.Timestamp(now())}))
        # What was taken on the demo's today is not remitted yet.
        left = takings[takings["day"] >= as_of].groupby("agent_id")["amount_fen"].sum()
        for agent_id, fen in left.items():
            session.execute(update(Agent).where(Agent.id == int(agent_id)).values(unremitted_fen=int(fen)))
    month = (as_of.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    terms.close_month(session, month, by=ACTOR)
    return list(busiest)


def _distributors(session: Session) -> list[str]:
    """Two card distributors with their areas; cards sold to both, one paid for."""
    grids = list(session.scalars(select(Grid.code).order_by(Grid.code).limit(4)))
    if not grids:
        return []
    cards.create_batch(session, "CB-DEMO", face_value_fen=10_000, count=40, created_by=ACTOR)
    for code, name, area, count in (("D01", "城东充值卡经销部", grids[:2], 20), ("D02", "城西便利连锁", grids[2:], 10)):
        cards.create_distributor(session, code, name=name, manager_contact="13700000000")
        terms.set_areas(session, code, area or grids[:1], by=ACTOR)
        cards.sell(session, code, "CB-DEMO", count, reference=f"SO-{code}-1", sold_by=ACTOR)
    cards.record_remittance(session, "D01", 200_000, remitted_on=today(), reference="DEMO-D01-1", recorded_by=ACTOR)
    return ["D01", "D02"]

