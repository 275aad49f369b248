"""The demo's complaints and bill disputes, registered and answered through the product's own service.

Among customers in arrears of the officers' grids: two disputes past their 48-hour deadline (raised three and
four days before), two still within it, one upheld with a credit for an outage, one upheld
with the bill corrected, one rejected, and a service complaint upheld against the grid's officer (it costs
assessment points). The open ones hold their bills from dunning, so those customers drop off the ladder.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recovery.auth.models import Role, User, officer_grids
from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.disputes import service
from recovery.timeutil import now, start_of_day

SUPERVISOR = "supervisor"
# (kind, channel, hours before the end of the demo's today it was raised, what the customer says, its answer)
CASES = (
    ("meter_reading", "phone", 96, "抄表数与表计示数不符，要求复核。", None),
    ("wrong_amount", "counter", 72, "本月电费比往月高出一倍，怀疑计费有误。", None),
    ("outage", "online", 10, "本月多次停电，要求减免部分电费。", None),
    ("meter_reading", "letter", 4, "对换表后的第一次抄表有异议。", None),
    ("outage", "phone", 30, "台区检修停电两天未提前通知。", ("upheld", "credit", "停电属实，减免部分电费。")),
    ("wrong_amount", "counter", 40, "按商业电价计费，实为居民用电。",
     ("upheld", "corrected_bill", "电价类别有误，按居民电价更正。")),
    ("meter_reading", "online", 45, "认为电表走快。", ("rejected", None, "校验合格，电表计量准确。")),
)
SERVICE_COMPLAINT = "催费员上门时态度生硬。"


def _officer_of(session: Session) -> dict[int, str]:
    """grid id -> the first officer working it."""
    out: dict[int, str] = {}
    for grid_id, username in session.execute(select(officer_grids.c.grid_id, User.username)
                                             .join(User, User.id == officer_grids.c.user_id)
                                             .where(User.role == Role.officer).order_by(User.username)):
        out.setdefault(grid_id, username)
    return out


def stage(session: Session, as_of: dt.date, pos: pd.DataFrame) -> dict:
    """Register the demo's disputes (and answer some) among customers in arrears; `pos` holds every customer's
    position with its grid (recovery.demo.work)."""
    officer = _officer_of(session)
    owing = pos[(pos["overdue_fen"] > 0) & pos["grid_id"].isin(officer.keys())]
    # Customers in arrears, taken from the middle of the list (the deepest debts are the write-off's and plans').
    owing = owing.sort_values(["overdue_fen", "customer_id"]).iloc[len(owing) // 3:]
    chosen = [int(c) for c in owing["customer_id"].head(len(CASES) + 1)]
    if len(chosen) < len(CASES) + 1:
        return {"open": 0, "overdue": 0, "answered": 0}
    latest = dict(session.execute(
        select(Bill.customer_id, func.max(Bill.code)).where(Bill.customer_id.in_(chosen), Bill.amount_fen > 0)
        .group_by(Bill.customer_id)).all())
    # The hours count back from the end of the demo's today, or from now when that is earlier.
    base = min(start_of_day(as_of + dt.timedelta(days=1)), now())
    answered = 0
    for customer_id, (kind, channel, hours, said, answer) in zip(chosen, CASES, strict=False):
        customer = session.get(Customer, customer_id)
        bill = session.scalar(select(Bill).where(Bill.code == latest[customer_id]))
        by = officer[customer.grid_id]
        dispute = service.register(session, customer, kind=kind, channel=channel, description=said,
                                   bill_codes=[bill.code], registered_by=by,
                                   at=base - dt.timedelta(hours=hours))
        if answer:
            outcome, remedy, reason = answer
            amount = None
            if remedy == "credit":
                amount = max(bill.amount_fen // 10, 1)  # a tenth of the bill for the days without power
            elif remedy == "corrected_bill":
                amount = bill.amount_fen * 4 // 5  # the residential tariff: four fifths of what was billed
            service.resolve(session, dispute, outcome=outcome, reason=reason, by=by, remedy=remedy,
                            amount_fen=amount)
            answered += 1
    customer = session.get(Customer, chosen[len(CASES)])
    rude = service.register(session, customer, kind="service", channel="phone", description=SERVICE_COMPLAINT,
                            registered_by=SUPERVISOR, owner=SUPERVISOR, against=officer[customer.grid_id],
                            at=base - dt.timedelta(hours=20))
    service.resolve(session, rude, outcome="upheld", reason="经核实属实，已对催费员批评教育并向客户致歉。",
                    by=SUPERVISOR)
    session.flush()
    counts = service.counts(session, session.scalar(select(User).where(User.username == SUPERVISOR)))
    return {"open": counts["open"], "overdue": counts["overdue"], "answered": answered + 1}
