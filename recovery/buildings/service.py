"""Property companies and their buildings: who pays for a resident, the company's arrears with the residents
behind them, and moving residents to direct billing.

A resident billed through a property company keeps its own account (its bills, payments and penalties stay
on it, so nothing of the ledger moves); the payer link says who answers for it. The company's arrears are the
sum over the residents it pays for on the day (linked on or before it, not moved away by then), shown with
every resident behind them, beside the company's own account when it has one. When the company stops
collecting (a dispute between owners and the company stops payment suddenly and widely) its residents are
moved to direct billing at once: every link ends that day, one statement, audited.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import and_, case, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from recovery import bulk, csvfile
from recovery.audit import service as audit
from recovery.auth.models import User
from recovery.auth.service import visible_customers
from recovery.buildings.models import Building, BuildingResident, ClearanceFlag, PayerLink, PropertyCompany
from recovery.columns import Checker
from recovery.customers.models import Customer, Grid
from recovery.errors import Conflict, ImportRejected, Invalid, NotFound
from recovery.ledger.positions import classify, positions
from recovery.timeutil import now

PAYERS = ("company", "direct")


def _visible(user: User | None):
    """The user's customers (a select of ids); None (the command line) sees every customer."""
    return select(Customer.id) if user is None else visible_customers(user)


def get_company(session: Session, code: str) -> PropertyCompany:
    company = session.scalar(select(PropertyCompany).where(PropertyCompany.code == code))
    if company is None:
        raise NotFound(f"no property company {code}", code="company_not_found")
    return company


def get_building(session: Session, code: str) -> Building:
    building = session.scalar(select(Building).where(Building.code == code))
    if building is None:
        raise NotFound(f"no building {code}", code="building_not_found")
    return building


def linked_on(day: dt.date):
    """The condition of a payer link in force on `day`."""
    return and_(PayerLink.linked_on <= day, or_(PayerLink.ended_on.is_(None), PayerLink.ended_on > day))


def active_link(session: Session, customer: Customer) -> PayerLink | None:
    """The customer's payer link in force now (not ended), if any."""
    return session.scalar(select(PayerLink).where(PayerLink.customer_id == customer.id, PayerLink.ended_on.is_(None)))


def create_company(session: Session, code: str, *, name: str, by: str,
                   customer: Customer | None = None) -> PropertyCompany:
    """Register a property company (with its own customer account, when it has one). Audited."""
    if session.scalar(select(PropertyCompany.id).where(PropertyCompany.code == code)):
        raise Conflict(f"property company {code} already exists", code="company_exists")
    company = PropertyCompany(code=code, name=name, customer_id=customer.id if customer else None)
    session.add(company)
    session.flush()  # buildings name the company by its id
    audit.record(session, "company.create", "property_company", code, actor=by, name=name,
                 account=customer.code if customer else None)
    return company


def create_building(session: Session, code: str, *, name: str, grid_id: int, by: str,
                    company: PropertyCompany | None = None) -> Building:
    """Register a building in a grid, managed by a property company or by nobody. Audited."""
    if session.scalar(select(Building.id).where(Building.code == code)):
        raise Conflict(f"building {code} already exists", code="building_exists")
    building = Building(code=code, name=name, grid_id=grid_id, company_id=company.id if company else None)
    session.add(building)
    session.flush()  # residents name the building by its id
    audit.record(session, "building.create", "building", code, actor=by, name=name,
                 company=company.code if company else None)
    return building


# ---------------------------------------------------------------------------------------------- linking


def link_resident(session: Session, building: Building, customer: Customer, *, through_company: bool,
                  on: dt.date, by: str) -> dict:
    """Put a customer in a building and, when `through_company`, have the building's company pay for it from
    `on`. A resident already billed through the company stays so; one billed through another company must be
    moved to direct billing first. Audited."""
    if building.grid_id != customer.grid_id:
        raise Invalid(f"customer {customer.code} is not in the grid of building {building.code}", code="other_grid")
    if through_company and building.company_id is None:
        raise Invalid(f"building {building.code} has no property company to bill through", code="no_company")
    if through_company and session.get(PropertyCompany, building.company_id).stopped_on is not None:
        raise Conflict(f"the property company of building {building.code} has stopped collecting",
                       code="company_stopped")
    resident = session.get(BuildingResident, customer.id)
    if resident is not None and resident.building_id != building.id:
        raise Conflict(f"customer {customer.code} already lives in another building", code="other_building")
    if resident is None:
        session.add(BuildingResident(customer_id=customer.id, building_id=building.id))
    link = active_link(session, customer)
    if link is not None and (not through_company or link.company_id != building.company_id):
        raise Conflict(f"customer {customer.code} is billed through a property company: move it to direct billing "
                       "first", code="billed_through_company")
    if through_company and link is None:
        link = PayerLink(customer_id=customer.id, company_id=building.company_id, linked_on=on, linked_by=by)
        session.add(link)
    session.flush()  # the answer and the audit entry name the link
    audit.record(session, "building.resident", "customer", customer.code, actor=by, building=building.code,
                 through_company=through_company, linked_on=on.isoformat() if through_company else None)
    return {"customer_id": customer.code, "building": building.code,
            "payer": "company" if link is not None else "direct", "linked_on": link.linked_on if link else None}


def move_to_direct_billing(session: Session, customer: Customer, *, on: dt.date, reason: str, by: str) -> PayerLink:
    """End the company's paying for the resident from `on`: from that day the resident is billed directly (its
    arrears are its own, as they always were on its account). Audited."""
    if not (reason or "").strip():
        raise Invalid("a reason is required", code="reason_required")
    link = active_link(session, customer)
    if link is None:
        raise Conflict(f"customer {customer.code} is billed directly already", code="billed_directly")
    if on < link.linked_on:
        raise Invalid("a resident cannot leave a company before it was linked to it", code="bad_date")
    link.ended_on, link.ended_by, link.end_reason = on, by, reason.strip()[:500]
    company = session.get(PropertyCompany, link.company_id)
    audit.record(session, "payer.direct_billing", "customer", customer.code, actor=by, company=company.code,
                 on=on.isoformat(), reason=reason.strip())
    return link


def stop_collecting(session: Session, company: PropertyCompany, *, on: dt.date, reason: str, by: str) -> dict:
    """The company stops collecting: every resident it pays for is moved to direct billing from `on`, in one
    statement. Audited, with the residents moved."""
    if not (reason or "").strip():
        raise Invalid("a reason is required", code="reason_required")
    if company.stopped_on is not None:
        raise Conflict(f"property company {company.code} stopped collecting on {company.stopped_on.isoformat()}",
                       code="already_stopped")
    links = PayerLink.__table__.c
    moved = session.execute(
        update(PayerLink.__table__).where(links.company_id == company.id, links.ended_on.is_(None))
        # A link that starts after the day ends on its first day: it was never in force.
        .values(ended_on=case((links.linked_on > on, links.linked_on), else_=literal(on, links.ended_on.type)),
                ended_by=by,
                end_reason=reason.strip()[:500])
        .returning(links.customer_id)).scalars().all()
    company.stopped_on = on
    codes = list(session.scalars(select(Customer.code).where(Customer.id.in_(moved)).order_by(Customer.code)))
    audit.record(session, "company.stop_collecting", "property_company", company.code, actor=by, on=on.isoformat(),
                 reason=reason.strip(), residents=len(codes), customers=codes)
    return {"company": company.code, "moved": len(codes), "stopped_on": on}


# ---------------------------------------------------------------------------------------------- imports

BUILDING_CONTENT = ["name", "grid", "company"]


def import_buildings(session: Session, path: Path, *, by: str) -> dict:
    """Buildings and their property companies: `building`, `name`, `grid`, optional `company`, `company_name`
    (needed for a company not known yet), `company_customer_id` (the company's own account). Atomic; rows
    already stored with the same content change nothing, other content is an error."""
    source = str(path)
    raw = csvfile.read(path, required=("building", "name", "grid"),
                       optional=("company", "company_name", "company_customer_id"))
    ck = Checker(raw)
    frame = pd.DataFrame({"building": ck.code("building"), "name": ck.text("name"), "grid": ck.code("grid"),
                          "company": ck.code("company", required=False),
                          "company_name": ck.text("company_name", required=False),
                          "company_customer_id": ck.code("company_customer_id", required=False),
                          "line": raw["line"]})
    frame = ck.duplicates(frame, ["building"], BUILDING_CONTENT, "building")
    companies = frame.dropna(subset=["company"])
    ck.duplicates(companies, ["company"], ["company_name", "company_customer_id"], "company")
    if ck.errors:
        raise ImportRejected(ck.messages(source))
    types = {"building": bulk.TEXT, "name": bulk.TEXT, "grid": bulk.TEXT, "company": bulk.TEXT,
             "company_name": bulk.TEXT, "company_customer_id": bulk.TEXT, "line": bulk.ID}
    staged = bulk.stage(session, "buildings_in", frame, types)
    s, pc = staged.c, PropertyCompany
    known = select(pc).where(pc.code == s.company)
    errors = [(line, "grid", f"unknown grid {g}") for line, g in session.execute(
        select(s.line, s.grid).where(~exists().where(Grid.code == s.grid))).all()]
    errors += [(line, "company_customer_id", f"unknown customer {c}") for line, c in session.execute(
        select(s.line, s.company_customer_id).where(s.company_customer_id.is_not(None),
                                                    ~exists().where(Customer.code == s.company_customer_id))).all()]
    errors += [(line, "company_name", f"company {c} is new: give its name") for line, c in session.execute(
        select(s.line, s.company).where(s.company.is_not(None), s.company_name.is_(None),
                                        ~known.exists())).all()]
    stored_customer = select(Customer.code).where(Customer.id == pc.customer_id).scalar_subquery()
    errors += [(line, "company", f"company {c} already imported with a different name or account")
               for line, c in session.execute(
                   select(s.line, s.company).join(pc, pc.code == s.company)
                   .where(or_(and_(s.company_name.is_not(None), s.company_name != pc.name),
                              and_(s.company_customer_id.is_not(None),
                                   or_(stored_customer.is_(None), stored_customer != s.company_customer_id))))).all()]
    b, g = Building, Grid
    stored_company = select(pc.code).where(pc.id == b.company_id).scalar_subquery()
    stored_grid = select(g.code).where(g.id == b.grid_id).scalar_subquery()
    errors += [(line, "building", f"{code} already imported with a different name, grid or company")
               for line, code in session.execute(
                   select(s.line, s.building).join(b, b.code == s.building)
                   .where(or_(b.name != s.name, stored_grid != s.grid,
                              ~stored_company.is_not_distinct_from(s.company)))).all()]
    if errors:
        raise ImportRejected([f"{source}:{line}: {col}: {why}" for line, col, why in sorted(errors)])
    stamp = literal(now(), pc.created_at.type)
    new_companies = (select(s.company, func.min(s.company_name), func.min(s.company_customer_id))
                     .where(s.company.is_not(None), ~known.exists()).group_by(s.company).subquery("new_companies"))
    companies_in = session.execute(insert(pc.__table__).from_select(
        ["code", "name", "customer_id", "created_at"],
        select(new_companies.c[0], new_companies.c[1],
               select(Customer.id).where(Customer.code == new_companies.c[2]).scalar_subquery(), stamp))
        .returning(pc.__table__.c.id)).all()
    buildings_in = session.execute(insert(b.__table__).from_select(
        ["code", "name", "grid_id", "company_id", "created_at"],
        select(s.building, s.name, select(g.id).where(g.code == s.grid).scalar_subquery(),
               select(pc.id).where(pc.code == s.company).scalar_subquery(), stamp)
        .where(~exists().where(b.code == s.building))).returning(b.__table__.c.id)).all()
    result = {"rows": len(frame), "buildings": len(buildings_in), "companies": len(companies_in)}
    if buildings_in or companies_in:
        audit.record(session, "buildings.import", "file", path.name, actor=by, **result)
    return result


def import_residents(session: Session, path: Path, *, by: str, today_: dt.date) -> dict:
    """Residents: `customer_id`, `building`, optional `payer` (company | direct; default company where the
    building has one) and `linked_on` (default today). Atomic; a resident already stored in the same building
    with the same payer changes nothing; another building or payer is an error (move it on the page)."""
    source = str(path)
    raw = csvfile.read(path, required=("customer_id", "building"), optional=("payer", "linked_on"))
    ck = Checker(raw)
    payer = raw["payer"]
    ck.fail((payer != "") & ~payer.isin(PAYERS), "payer", "must be one of company, direct")
    frame = pd.DataFrame({"customer_id": ck.code("customer_id"), "building": ck.code("building"),
                          "payer": payer.where(payer != "", None), "linked_on": ck.date("linked_on", required=False),
                          "line": raw["line"]})
    frame = ck.duplicates(frame, ["customer_id"], ["building", "payer", "linked_on"], "customer_id")
    if ck.errors:
        raise ImportRejected(ck.messages(source))
    frame["linked_on"] = frame["linked_on"].fillna(pd.Timestamp(today_))
    staged = bulk.stage(session, "residents_in", frame, {"customer_id": bulk.TEXT, "building": bulk.TEXT,
                                                         "payer": bulk.TEXT, "linked_on": bulk.DATE_T,
                                                         "line": bulk.ID})
    s, b, r, link = staged.c, Building, BuildingResident, PayerLink
    rows = (select(s.line, s.customer_id, s.building, s.linked_on, Customer.id.label("cid"),
                   Customer.grid_id.label("cgrid"), b.id.label("bid"), b.grid_id.label("bgrid"),
                   b.company_id.label("company_id"), s.payer)
            .join(Customer, Customer.code == s.customer_id, isouter=True)
            .join(b, b.code == s.building, isouter=True))
    found = bulk.read_frame(session, rows)
    # The payer each row asks for, once the building is known: company by default where there is one.
    found["payer"] = found["payer"].where(found["payer"].notna(),
                                          found["company_id"].map(lambda c: "direct" if pd.isna(c) else "company"))
    errors = [(int(x.line), "customer_id", f"unknown customer {x.customer_id}") for x in
              found[found["cid"].isna()].itertuples()]
    errors += [(int(x.line), "building", f"unknown building {x.building}") for x in
               found[found["bid"].isna()].itertuples()]
    ok = found.dropna(subset=["cid", "bid"])
    errors += [(int(x.line), "building", f"building {x.building} lies in another grid than {x.customer_id}")
               for x in ok[ok["cgrid"] != ok["bgrid"]].itertuples()]
    errors += [(int(x.line), "payer", f"building {x.building} has no property company") for x in
               ok[(ok["payer"] == "company") & ok["company_id"].isna()].itertuples()]
    stopped = set(session.scalars(select(PropertyCompany.id).where(PropertyCompany.stopped_on.is_not(None))))
    errors += [(int(x.line), "payer", f"the property company of building {x.building} has stopped collecting")
               for x in ok[(ok["payer"] == "company") & ok["company_id"].isin(stopped)].itertuples()]
    stored = bulk.read_frame(session, select(
        Customer.code.label("customer_id"), b.code.label("stored_building"),
        select(link.company_id).where(link.customer_id == r.customer_id, link.ended_on.is_(None))
        .scalar_subquery().label("stored_company"))
        .join(r, r.customer_id == Customer.id).join(b, b.id == r.building_id)
        .where(Customer.code.in_(select(s.customer_id))))
    both = ok.merge(stored, on="customer_id")
    differs = (both["stored_building"] != both["building"]) | (
        both["stored_company"].notna() != (both["payer"] == "company"))
    errors += [(int(x.line), "customer_id", f"{x.customer_id} already imported with a different building or payer")
               for x in both[differs].itertuples()]
    if errors:
        raise ImportRejected([f"{source}:{line}: {col}: {why}" for line, col, why in sorted(errors)])
    new = ok[~ok["customer_id"].isin(stored["customer_id"])]
    stamp = now()
    if len(new):
        bulk.insert_frame(session, BuildingResident.__table__, pd.DataFrame({
            "customer_id": new["cid"].astype("int64"), "building_id": new["bid"].astype("int64"),
            "created_at": pd.Series(pd.Timestamp(stamp), index=new.index)}))
        paying = new[new["payer"] == "company"]
        bulk.insert_frame(session, PayerLink.__table__, pd.DataFrame({
            "customer_id": paying["cid"].astype("int64"), "company_id": paying["company_id"].astype("int64"),
            "linked_on": pd.to_datetime(paying["linked_on"]), "linked_by": by}))
    result = {"rows": len(frame), "residents": len(new), "through_company": int((new["payer"] == "company").sum())}
    if len(new):
        audit.record(session, "residents.import", "file", path.name, actor=by, **result)
    return result


# ---------------------------------------------------------------------------------------------- reading


def _residents(user: User | None, day: dt.date):
    """company_id, customer_id of the residents each company pays for on `day`, among the user's customers."""
    return (select(PayerLink.company_id, PayerLink.customer_id)
            .where(linked_on(day), PayerLink.customer_id.in_(_visible(user))))


def companies(session: Session, user: User | None, day: dt.date) -> list[dict]:
    """Every property company with the residents it pays for (among the user's customers) and their arrears on
    `day`: balance and overdue summed, how many residents owe, and the company's own account's overdue."""
    res = _residents(user, day).subquery("res")
    pos = positions(day, select(res.c.customer_id), oldest=False).subquery("pos")
    overdue = pos.c.balance_fen - pos.c.not_due_fen
    sums = (select(res.c.company_id, func.count().label("residents"),
                   func.coalesce(func.sum(pos.c.balance_fen), 0).label("balance_fen"),
                   func.coalesce(func.sum(case((overdue > 0, overdue), else_=0)), 0).label("overdue_fen"),
                   func.count().filter(overdue > 0).label("owing"))
            .join(pos, pos.c.customer_id == res.c.customer_id, isouter=True)
            .group_by(res.c.company_id).subquery("sums"))
    rows = session.execute(
        select(PropertyCompany, sums.c.residents, sums.c.balance_fen, sums.c.overdue_fen, sums.c.owing,
               Customer.code.label("account"))
        .join(sums, sums.c.company_id == PropertyCompany.id, isouter=True)
        .join(Customer, Customer.id == PropertyCompany.customer_id, isouter=True)
        .order_by(func.coalesce(sums.c.overdue_fen, 0).desc(), PropertyCompany.code)).all()
    return [{"company": c, "residents": int(n or 0), "balance_fen": int(bal or 0), "overdue_fen": int(od or 0),
             "owing": int(owing or 0), "account": account} for c, n, bal, od, owing, account in rows]


def company_arrears(session: Session, user: User | None, company: PropertyCompany, day: dt.date) -> dict:
    """The company's arrears on `day` with every resident behind them (among the user's customers): each
    resident's building, balance, overdue part and days overdue, most overdue first; totals; the company's own
    account's position."""
    res = _residents(user, day).where(PayerLink.company_id == company.id).subquery("res")
    frame = classify(bulk.read_frame(session, positions(day, select(res.c.customer_id))), day)
    info = bulk.read_frame(session, select(
        Customer.id.label("customer_id"), Customer.code, Customer.name, Grid.code.label("grid"),
        Building.code.label("building"), PayerLink.linked_on)
        .join(Grid, Grid.id == Customer.grid_id)
        .join(BuildingResident, BuildingResident.customer_id == Customer.id, isouter=True)
        .join(Building, Building.id == BuildingResident.building_id, isouter=True)
        .join(PayerLink, and_(PayerLink.customer_id == Customer.id, PayerLink.company_id == company.id,
                              linked_on(day)))
        .where(Customer.id.in_(select(res.c.customer_id))))
    rows = info.merge(frame, on="customer_id", how="left") if len(info) else info
    if len(rows):
        rows = rows.fillna({"balance_fen": 0, "overdue_fen": 0}).sort_values(
            ["overdue_fen", "code"], ascending=[False, True])
    records = rows.to_dict("records") if len(rows) else []
    for r in records:
        r["balance_fen"], r["overdue_fen"] = int(r["balance_fen"]), int(r["overdue_fen"])
        r["days_overdue"] = None if pd.isna(r.get("days_overdue")) else int(r["days_overdue"])
    own = None
    if company.customer_id is not None:
        own_frame = classify(bulk.read_frame(session, positions(day, select(literal(company.customer_id)))), day)
        own = own_frame.to_dict("records")[0] if len(own_frame) else None
    return {"company": company, "day": day, "residents": records,
            "totals": {"residents": len(records), "balance_fen": sum(r["balance_fen"] for r in records),
                       "overdue_fen": sum(r["overdue_fen"] for r in records),
                       "owing": sum(1 for r in records if r["overdue_fen"] > 0)},
            "own": own}


def buildings(session: Session, user: User | None, day: dt.date) -> list[dict]:
    """Every building in the user's grids: its grid, company, residents (and how many billed through the
    company), and whether a clearance flag is in force on `day`."""
    mine = select(Customer.grid_id).where(Customer.id.in_(_visible(user)))
    counts = (select(BuildingResident.building_id, func.count().label("residents"),
                     func.count(PayerLink.id).label("through_company"))
              .join(PayerLink, and_(PayerLink.customer_id == BuildingResident.customer_id, linked_on(day)),
                    isouter=True)
              .group_by(BuildingResident.building_id).subquery("counts"))
    flagged = exists().where(ClearanceFlag.building_id == Building.id, ClearanceFlag.flagged_on <= day,
                             or_(ClearanceFlag.lifted_on.is_(None), ClearanceFlag.lifted_on > day))
    grid_flagged = exists().where(ClearanceFlag.grid_id == Building.grid_id, ClearanceFlag.flagged_on <= day,
                                  or_(ClearanceFlag.lifted_on.is_(None), ClearanceFlag.lifted_on > day))
    rows = session.execute(
        select(Building.code, Building.name, Grid.code.label("grid"), PropertyCompany.code.label("company"),
               PropertyCompany.name.label("company_name"), func.coalesce(counts.c.residents, 0).label("residents"),
               func.coalesce(counts.c.through_company, 0).label("through_company"),
               or_(flagged, grid_flagged).label("flagged"))
        .join(Grid, Grid.id == Building.grid_id)
        .join(PropertyCompany, PropertyCompany.id == Building.company_id, isouter=True)
        .join(counts, counts.c.building_id == Building.id, isouter=True)
        .where(or_(literal(user is None or user.sees_all_grids), Building.grid_id.in_(mine)))
        .order_by(Grid.code, Building.code)).mappings().all()
    return [dict(r) for r in rows]


def payer_of(session: Session, customer: Customer) -> dict:
    """The customer page's view: the building, the company paying for the customer now (and since when), the
    links that ended."""
    building = session.scalar(select(Building).join(BuildingResident, BuildingResident.building_id == Building.id)
                              .where(BuildingResident.customer_id == customer.id))
    links = session.execute(select(PayerLink, PropertyCompany.code, PropertyCompany.name)
                            .join(PropertyCompany, PropertyCompany.id == PayerLink.company_id)
                            .where(PayerLink.customer_id == customer.id)
                            .order_by(PayerLink.linked_on.desc(), PayerLink.id.desc())).all()
    current = next(((link, code, name) for link, code, name in links if link.ended_on is None), None)
    return {"building": building, "current": current, "ended": [x for x in links if x[0].ended_on is not None]}
