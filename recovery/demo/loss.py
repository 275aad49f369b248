"""The demo's transformer areas, feeder lines, area-meter readings and a few planted thieves.

Areas: each grid's customers are cut into areas of about AREA_CUSTOMERS by customer number (a block of
consecutive numbers per grid), LINE_AREAS areas to a feeder line. Industrial customers sit on their own
transformers (专变): a line, no area. Areas never depend on how the generator chunks the customers.

Thieves: in two high-loss areas, THIEVES_PER_AREA residential or commercial customers with a clean record (every
month billed, no event, each bill paid in one payment or not yet) start stealing in one of the last months: from
then their metered kWh fall to a share of what they use (their bills and the payments of those bills follow,
at their tariff). The generator's own thieves stay as they are; they are not planted.

Area meters: delivered = (billed + stolen by planted thieves + unmetered) / (1 - technical loss), where the
technical loss is the area's own (2.5-6.5 %) with a little monthly noise, and `unmetered` stands for what the
bills never show (hook-ups, the planted thieves' neighbours' meters): 10 % of the billed kWh for the whole
window in the first high-loss area, from the thieves' first month in the second (so its loss jumps then).

`stage` (the demo's recent work) screens the last month and sends the demo's inspector to the top suspects:
one comes back with theft confirmed (its charges wait on /approvals), one comes from a tip-off.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.demo.generator import FLAT_PRICE, DemoChunk, describe, flat_amount_fen, residential_amount_fen

AREA_CUSTOMERS = 120
LINE_AREAS = 5
THIEVES_PER_AREA = 4
MIN_KWH = 30  # a planted thief used at least this much every month: something to steal from
INSPECTOR = "inspector01"
COMMERCIAL = 1  # generator.CLASSES index


def _numbers(codes: pd.Series) -> np.ndarray:
    return codes.str.slice(1).astype("int64").to_numpy()


class LossPlan:
    """Areas, lines, planted thieves and area readings for one demo (the same arguments give the same plan)."""

    def __init__(self, *, customers: int, months: int, seed: int, as_of: dt.date, tz: str):
        scenario = describe(customers=customers, months=months, seed=seed, as_of=as_of, tz=tz)
        self.periods = list(scenario.periods)
        self.grid_index = {g: i for i, g in enumerate(scenario.grids)}
        self.block = AREA_CUSTOMERS * len(scenario.grids)
        self.seed = seed
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(91,)))
        blocks = max(1, -(-customers // self.block))
        # Two high-loss areas among the full blocks (areas of the first block when the demo is small).
        full = max(1, customers // self.block)
        picks = rng.choice(len(scenario.grids) * full, size=min(2, len(scenario.grids) * full), replace=False)
        self.high_loss = [self.area_code(scenario.grids[k % len(scenario.grids)], k // len(scenario.grids))
                          for k in sorted(picks)]
        self.blocks = blocks
        self.billed: dict[tuple[str, str], float] = defaultdict(float)
        self.stolen: dict[tuple[str, str], float] = defaultdict(float)
        self.onset: dict[str, int] = {}
        self.thieves: list[str] = []

    @staticmethod
    def area_code(grid: str, block: int) -> str:
        return f"{grid}-T{block + 1:02d}"

    @staticmethod
    def line_code(grid: str, block: int) -> str:
        return f"{grid}-L{block // LINE_AREAS + 1}"

    def prepare(self, chunk: DemoChunk) -> DemoChunk:
        """The chunk with its customers' areas and lines, and its planted thieves' bills and payments."""
        c = chunk.customers
        block = (_numbers(c["customer_id"]) - 1) // self.block
        grids = c["grid"].to_numpy(dtype=object)
        area = np.array([self.area_code(g, b) for g, b in zip(grids, block, strict=True)], dtype=object)
        line = np.array([self.line_code(g, b) for g, b in zip(grids, block, strict=True)], dtype=object)
        area[(c["customer_class"] == "industrial").to_numpy()] = None
        customers = c.assign(area=area, feeder=line)
        bills, payments = chunk.bills, chunk.payments
        for code in self.high_loss:
            bills, payments = self._plant(code, customers, bills, payments, chunk.events)
        of_area = pd.Series(area, index=c["customer_id"].to_numpy())
        billed = bills.assign(area=of_area.reindex(bills["customer_id"].to_numpy()).to_numpy())
        for (a, per), kwh in billed.dropna(subset=["area"]).groupby(["area", "period"])["kwh"].sum().items():
            self.billed[(a, per)] += float(kwh)
        return DemoChunk(customers, bills, payments, chunk.events)

    def _plant(self, code: str, customers: pd.DataFrame, bills: pd.DataFrame, payments: pd.DataFrame,
               events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        months = len(self.periods)
        here = customers.loc[(customers["area"] == code)
                             & customers["customer_class"].isin(["residential", "commercial"])]
        if here.empty or months < 6:
            return bills, payments
        of = bills.loc[bills["customer_id"].isin(here["customer_id"])]
        counts = of.loc[of["kwh"] >= MIN_KWH].groupby("customer_id").size()
        every_month = set(counts.index[counts == months])
        clean = every_month - set(events["customer_id"]) - set(payments.loc[
            payments["payment_id"].str.endswith("2") & payments["customer_id"].isin(every_month), "customer_id"])
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(92, *map(ord, code))))
        chosen = [c for c in here["customer_id"] if c in clean]
        chosen = [chosen[i] for i in sorted(rng.choice(len(chosen), size=min(THIEVES_PER_AREA, len(chosen)),
                                                       replace=False))] if chosen else []
        first = None
        for customer in chosen:
            onset = int(rng.integers(max(1, months - 9), max(2, months - 3)))
            share = float(rng.uniform(0.25, 0.6))
            cls = here.loc[here["customer_id"] == customer, "customer_class"].iloc[0]
            planted = self._steal(customer, cls, onset, share, bills, payments)
            if planted is None:
                continue
            bills, payments, taken = planted
            for per, kwh in taken.items():
                self.stolen[(code, per)] += kwh
            self.thieves.append(customer)
            first = onset if first is None else min(first, onset)
        if first is not None:
            self.onset[code] = first
        return bills, payments

    def _steal(self, customer: str, cls: str, onset: int, share: float, bills: pd.DataFrame,
               payments: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]] | None:
        """The customer's bills from `onset` on at `share` of their kWh, and their payments to match; None when a
        payment does not fit (a partial payment, a settlement covering several bills)."""
        mine = bills.loc[(bills["customer_id"] == customer) & bills["period"].isin(self.periods[onset:])]
        kwh = mine["kwh"].to_numpy(dtype="int64")
        if cls == "residential":
            new_amount = residential_amount_fen(np.rint(kwh * share).astype("int64"))
        else:
            prices = [p for p in (FLAT_PRICE[COMMERCIAL], FLAT_PRICE[COMMERCIAL] - 200)
                      if (flat_amount_fen(kwh, p) == mine["amount_fen"].to_numpy()).all()]
            if not prices:
                return None
            new_amount = flat_amount_fen(np.rint(kwh * share).astype("int64"), prices[0])
        digits = mine["period"].str.replace("-", "", regex=False)
        ids = "P" + customer[1:] + digits + "0"
        paid = payments.loc[payments["customer_id"] == customer]
        stamps = paid["payment_id"].str.slice(-7, -1)
        touched = paid.loc[stamps.isin(set(digits))]
        full = touched.set_index("payment_id")["amount_fen"].reindex(ids.to_numpy())
        expected = pd.Series(mine["amount_fen"].to_numpy(), index=ids.to_numpy())
        if not set(touched["payment_id"]) <= set(ids) or not (full.isna() | (full == expected)).all():
            return None
        new_kwh = np.rint(kwh * share)
        bills = bills.copy()
        bills.loc[mine.index, "kwh"] = new_kwh.astype("float64")
        bills.loc[mine.index, "amount_fen"] = new_amount
        amount_of = pd.Series(new_amount, index=ids.to_numpy())
        payments = payments.copy()
        at = payments.index[payments["payment_id"].isin(set(touched["payment_id"]))]
        payments.loc[at, "amount_fen"] = amount_of.reindex(payments.loc[at, "payment_id"]).to_numpy()
        payments = payments.loc[payments["amount_fen"] > 0]
        return bills, payments, dict(zip(mine["period"], (kwh - new_kwh).astype(float), strict=True))

    def readings(self) -> pd.DataFrame:
        """Every area's meter reading for every month its customers were billed: area, period, kwh_delivered."""
        if not self.billed:
            return pd.DataFrame({"area": [], "period": [], "kwh_delivered": []})
        keys = sorted(self.billed)
        frame = pd.DataFrame(keys, columns=["area", "period"])
        frame["billed"] = [self.billed[k] for k in keys]
        frame["stolen"] = [self.stolen.get(k, 0.0) for k in keys]
        areas = sorted(frame["area"].unique())
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(93,)))
        technical = pd.Series(rng.uniform(0.025, 0.065, len(areas)), index=areas)
        month = frame["period"].map({p: i for i, p in enumerate(self.periods)}).to_numpy()
        noise = rng.normal(0.0, 0.006, len(frame))
        unmetered = np.zeros(len(frame))
        for k, code in enumerate(self.high_loss):
            start = 0 if k == 0 else self.onset.get(code, len(self.periods))
            unmetered = np.where((frame["area"] == code).to_numpy() & (month >= start), 0.10, unmetered)
        loss = np.clip(technical.reindex(frame["area"]).to_numpy() + noise, 0.005, 0.5)
        delivered = (frame["billed"] * (1 + unmetered) + frame["stolen"]) / (1 - loss)
        return pd.DataFrame({"area": frame["area"], "period": frame["period"],
                             "kwh_delivered": np.rint(delivered.to_numpy())})

    def finish(self, session: Session) -> int:
        """Load the area readings (idempotent: the same plan gives the same readings); returns how many."""
        from recovery.imports.area_readings import load

        frame = self.readings()
        if frame.empty:
            return 0
        return load(session, frame.assign(line=range(2, len(frame) + 2)), "demo area readings")

    def write_readings(self, directory: Path) -> Path:
        """area-readings.csv beside the demo's other contract files."""
        path = Path(directory) / "area-readings.csv"
        frame = self.readings()
        frame.assign(kwh_delivered=frame["kwh_delivered"].astype("int64")).to_csv(path, index=False)
        return path


def stage(session: Session, plan: LossPlan) -> dict:
    """Screen the last month and give the demo's inspector work (once per database): the top suspects to inspect,
    one found stealing (its charges wait for a supervisor), one tip-off."""
    from recovery.auth.models import User
    from recovery.customers.models import Customer
    from recovery.loss import inspections, suspects
    from recovery.loss.models import Inspection, InspectionSource
    from recovery.loss.policy import loss_policy
    from recovery.timeutil import today
    from recovery.unitofwork import unit_of_work

    p = loss_policy()
    period = plan.periods[-1]
    with unit_of_work(session):
        ranked = suspects.run(session, period, p)
    if session.scalar(select(Inspection.id).limit(1)) is not None or session.scalar(
            select(User.id).where(User.username == INSPECTOR)) is None:
        return {"period": period, "screened": len(ranked), "inspections": 0}
    with unit_of_work(session):
        day = today()
        top = ranked.loc[ranked["score_tenths"] > 0, "code"].head(4).tolist()
        customers = {c.code: c for c in session.scalars(select(Customer).where(Customer.code.in_(top)))}
        tasks = []
        for code in top[:3]:
            tasks.append(inspections.assign(session, customers[code], inspector=INSPECTOR, assigned_by="supervisor",
                                            role="supervisor", day=day, p=p, source=InspectionSource.suspect,
                                            period=period, note="demo: top of the suspect list"))
        if tasks:
            inspections.record_outcome(session, tasks[0], outcome="theft_confirmed", inspected_on=day,
                                       finding="meter bypassed at the service entrance (demo)", recorded_by=INSPECTOR,
                                       role="inspector", day=day, p=p, stolen_kwh=600, tariff="0.5383")
        if len(top) > 3:
            inspections.record_tip(session, customers[top[3]], channel="phone", received_on=day,
                                   note="neighbour reports a cable around the meter (demo)", tipster="anonymous",
                                   recorded_by="supervisor", role="supervisor", inspector=INSPECTOR, day=day, p=p)
    return {"period": period, "screened": len(ranked), "inspections": len(tasks) + (len(top) > 3)}
