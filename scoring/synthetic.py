"""A synthetic utility built only for evaluation, with every customer's true probability of default.

It is written from a different model of behaviour than the demo (recovery.demo), so that a model tuned on
one is checked on the other:
- each customer has a latent financial stress that evolves month to month (an AR(1) around the customer's
  own level, with occasional life shocks such as a lost job);
- districts (grids) have economic shocks that raise the stress of everyone in them;
- consumption is seasonal and falls a little under stress;
- once a month, some days after the bill is issued, the customer pays all, part or none of what is owed,
  later and less under stress;
- direct debits are taken on the due date and returned more often under stress (a returned_payment
  event; the customer may then pay by hand);
- some customers move away: a last part-month bill, then no more bills, and what is left is paid less often.

The state is Markov at each decision, so the true probability of default at an as-of date D is computed by
simulation: the world's state at D (the latent stress, the district shocks, who moved, what is owed and
what was paid) is copied `replicates` times and the future is drawn again, the pending decision of D's
month conditioned on not having been paid by the end of D. Default is the contract's: a bill due within
60 days after D not fully paid by the close of its due date + 30 days, payments settling the oldest bill
first (the service's allocation rule).

Pure numpy and pandas, vectorised over customers (and replicates); the only Python loops run over months.
"""

from __future__ import annotations

import dataclasses
import datetime
import pathlib

import numpy as np
import pandas as pd
from scipy.special import expit, logit, ndtr, ndtri

from scoring.frames import DEFAULT_TZ, Frames, as_of_day, day_to_date
from scoring.labels import GRACE_DAYS, HORIZON_DAYS

CLASSES = ("residential", "commercial", "industrial")
CLASS_SHARES = np.array([0.85, 0.12, 0.03])
MEDIAN_KWH = np.array([200.0, 2500.0, 30000.0])
KWH_SIGMA = np.array([0.5, 0.8, 0.9])
PRICE_YUAN = np.array([0.56, 0.82, 0.68])     # per kWh
# calendar-month consumption factors (January first): summer and winter peaks, a Spring Festival dip for industry
SEASON = np.array([
    [1.25, 1.15, 1.00, 0.85, 0.85, 1.00, 1.30, 1.35, 1.05, 0.85, 0.90, 1.10],
    [1.05, 0.90, 0.95, 0.95, 1.00, 1.10, 1.30, 1.30, 1.10, 0.95, 0.95, 1.00],
    [0.95, 0.70, 1.00, 1.05, 1.05, 1.05, 1.05, 1.05, 1.05, 1.05, 1.05, 1.05],
])
DEBIT_SHARE = 0.30
ISSUE_DAY = 3           # a period's bill is issued on the 3rd of the next month...
DUE_AFTER = 14          # ... and falls due 14 days later
PAY_WINDOW = 25.0       # a month's decision pays within 25 days of the issue: inside the calendar month
DEBIT_RETRY = 11.0      # after a returned debit, the customer pays by hand within 11 days of the due date

# the latent process
STRESS_MEAN = (-0.5, 1.0)          # customers' own levels: normal(mean, sd)
STRESS_PERSISTENCE = 0.85
STRESS_NOISE = 0.40
LIFE_SHOCK = (0.008, 2.2)          # monthly chance and size of a personal shock
DISTRICT_PERSISTENCE = 0.85
DISTRICT_NOISE = 0.20
DISTRICT_SHOCK = (0.02, 1.6)       # monthly chance and size of a district's economic shock
DISTRICT_WEIGHT = 0.8
DISTRICTS_PER_1000 = 4


@dataclasses.dataclass
class _Behaviour:
    """How the latent stress s turns into behaviour (logits linear in s)."""

    skip: tuple[float, float] = (-3.0, 1.1)        # pays nothing this month
    partial: tuple[float, float] = (-2.6, 0.9)      # pays only part of what is owed
    delay: tuple[float, float, float] = (-1.0, 0.6, 0.9)   # logit of the share of the window waited: a + b s + sd z
    returned: tuple[float, float] = (-4.0, 1.4)     # a direct debit comes back
    move: tuple[float, float] = (-5.8, 0.5)         # moves away this month
    moved_skip: float = 1.8                          # added to the skip logit once moved away
    consumption: float = 0.08                        # consumption falls by this share per unit of positive stress


BEHAVIOUR = _Behaviour()


@dataclasses.dataclass
class EvaluationUtility:
    """The generated utility: the engine's frames (allocations left to the caller's rule) and the simulator's state.

    customers, bills, payments (with channel), events: as scoring.frames.Frames expects them.
    """

    customers: pd.DataFrame
    bills: pd.DataFrame
    payments: pd.DataFrame
    events: pd.DataFrame
    start: np.datetime64                       # the first calendar month
    tz: str
    world: dict[str, np.ndarray]               # latent arrays, per customer x month

    @property
    def end(self) -> datetime.date:
        """The last day simulated."""
        months = self.world["s"].shape[1]
        return ((self.start + months).astype("datetime64[D]") - 1).item()

    def frames(self, allocations: pd.DataFrame) -> Frames:
        """The engine's frames with the given allocations (the service's FIFO rule)."""
        return Frames(customers=self.customers, bills=self.bills, payments=self.payments,
                      allocations=allocations, events=self.events)


def _month_days(start: np.datetime64, t: int) -> tuple[int, int, int]:
    """(first day of calendar month t, issue day of the bill paid in month t, its due day) as day numbers."""
    first = int((start + t).astype("datetime64[D]").astype(np.int64))
    return first, first + ISSUE_DAY - 1, first + ISSUE_DAY - 1 + DUE_AFTER


def _calendar_month(start: np.datetime64, t: int) -> int:
    return int((start + t).astype(np.int64) % 12)


@dataclasses.dataclass
class _Rows:
    """Per-row constants; a row is a customer, or a customer in one replicate (replicate-major)."""

    level: np.ndarray
    district: np.ndarray
    cls: np.ndarray
    base_kwh: np.ndarray
    debit: np.ndarray
    reps: int = 1

    def tile(self, reps: int) -> _Rows:
        return _Rows(*(np.tile(getattr(self, f), reps) for f in ("level", "district", "cls", "base_kwh", "debit")),
                     reps=reps)

    @property
    def rep(self) -> np.ndarray:
        return np.arange(self.level.size) // (self.level.size // self.reps)


def _step(rng, rows: _Rows, x, g, moved):
    """One calendar month of the latent process: district shocks g (replicates x districts), personal stress x,
    the stress s everyone acts on, and who moves away this month."""
    b = BEHAVIOUR
    g = (DISTRICT_PERSISTENCE * g + DISTRICT_NOISE * rng.standard_normal(g.shape)
         + DISTRICT_SHOCK[1] * (rng.random(g.shape) < DISTRICT_SHOCK[0]))
    n = x.size
    x = (rows.level + STRESS_PERSISTENCE * (x - rows.level) + STRESS_NOISE * rng.standard_normal(n)
         + LIFE_SHOCK[1] * (rng.random(n) < LIFE_SHOCK[0]))
    s = x + DISTRICT_WEIGHT * g[rows.rep, rows.district]
    moving = ~moved & (rng.random(n) < expit(b.move[0] + b.move[1] * s))
    return x, g, s, moving


def _consumption(rng, rows: _Rows, s, month_of_year: int, moving, active):
    """kWh and bill amount (fen) of one calendar month for the rows still supplied; 0 elsewhere."""
    n = s.size
    kwh = (rows.base_kwh * SEASON[rows.cls, month_of_year] * np.exp(-BEHAVIOUR.consumption * np.maximum(s, 0))
           * np.exp(0.15 * rng.standard_normal(n)))
    kwh = np.where(moving, kwh * rng.uniform(0.1, 0.8, n), kwh)
    kwh = np.where(active, np.round(kwh, 1), 0.0)
    amount = np.floor(kwh * PRICE_YUAN[rows.cls] * 100 + 0.5).astype(np.int64)
    return kwh, amount


def _manual(rng, s, moved, owed, start_day, window, elapsed=None):
    """A decision to pay by hand: (amount fen, local day, time of day as a fraction of the day).

    With `elapsed` (days from start_day to the as-of day), the decision is drawn given that nothing was paid by
    the end of the as-of day: the delay from its distribution above `elapsed`, and skipping more likely by Bayes.
    """
    b = BEHAVIOUR
    n = s.size
    skip = expit(b.skip[0] + b.skip[1] * s + b.moved_skip * moved)
    a, slope, sd = b.delay
    if elapsed is None:
        z = rng.standard_normal(n)
    else:
        share = np.clip(elapsed / window, 1e-9, 1 - 1e-9)
        bound = np.where(elapsed <= 0, -np.inf, np.where(elapsed >= window, np.inf,
                                                         (logit(share) - a - slope * s) / sd))
        survive = 1 - ndtr(bound)                      # P(no payment by the end of the as-of day | paying)
        skip = skip / (skip + (1 - skip) * survive)
        z = ndtri(np.clip(ndtr(bound) + rng.random(n) * survive, 1e-300, 1 - 1e-16))
    partial = (1 - skip) * expit(b.partial[0] + b.partial[1] * s)
    wait = np.ceil(window * expit(a + slope * s + sd * z)).astype(np.int64)
    u = rng.random(n)
    share = np.where(u < skip, 0.0, np.where(u < skip + partial, rng.uniform(0.2, 0.9, n), 1.0))
    amount = np.floor(share * np.maximum(owed, 0) + 0.5).astype(np.int64)
    return amount, start_day + wait, rng.uniform(8 / 24, 21 / 24, n)


def _decide(rng, rows: _Rows, s, moved, owed, issue_day: int, due_day: int):
    """One month's payment decision for every row: (debit amount, returned, manual amount, its day, its time)."""
    n = s.size
    debit = rows.debit & ~moved & (owed > 0)
    returned = debit & (rng.random(n) < expit(BEHAVIOUR.returned[0] + BEHAVIOUR.returned[1] * s))
    taken = debit & ~returned
    amount, day, time = _manual(rng, s, moved, owed, np.where(debit, due_day, issue_day),
                                np.where(debit, DEBIT_RETRY, PAY_WINDOW))
    return np.where(taken, owed, 0), returned, np.where(taken, 0, amount), day, time


# ---------------------------------------------------------------------------------------------- the world

def generate(*, customers: int = 20_000, months: int = 30, start: str = "2024-01", seed: int = 0,
             tz: str = DEFAULT_TZ) -> EvaluationUtility:
    """Simulate `months` calendar months from `start` (bills of the last month are not issued yet)."""
    rng = np.random.default_rng(seed)
    n = customers
    start_m = np.datetime64(start, "M")
    n_districts = max(2, round(n * DISTRICTS_PER_1000 / 1000))
    cls = rng.choice(len(CLASSES), size=n, p=CLASS_SHARES)
    rows = _Rows(level=rng.normal(*STRESS_MEAN, n), district=rng.integers(0, n_districts, n), cls=cls,
                 base_kwh=MEDIAN_KWH[cls] * np.exp(KWH_SIGMA[cls] * rng.standard_normal(n)),
                 debit=rng.random(n) < DEBIT_SHARE)
    opened = int(start_m.astype("datetime64[D]").astype(np.int64)) - rng.integers(30, 3650, n)

    x = rows.level + rng.standard_normal(n) * STRESS_NOISE / np.sqrt(1 - STRESS_PERSISTENCE ** 2)
    g = np.zeros((1, n_districts))
    moved = np.zeros(n, dtype=bool)
    owed = np.zeros(n, dtype=np.int64)
    w: dict = {k: np.zeros((n, months)) for k in ("x", "s", "kwh")}
    w.update({k: np.zeros((n, months), dtype=bool) for k in ("moved", "moving", "returned", "billed")})
    w.update({k: np.zeros((n, months), dtype=np.int64) for k in ("owed", "paid", "bill")})
    w["pay_day"] = np.full((n, months), -1, dtype=np.int64)      # the day month t's decision paid, -1 if not
    w["pay_time"] = np.zeros((n, months))
    w["channel_paid"] = np.zeros((n, months), dtype=bool)         # True: by direct debit
    w["g"] = np.zeros((n_districts, months))
    for t in range(months):
        _, issue, due = _month_days(start_m, t)
        x, g, s, moving = _step(rng, rows, x, g, moved)
        w["x"][:, t], w["s"][:, t], w["g"][:, t] = x, s, g[0]
        w["moved"][:, t], w["moving"][:, t], w["owed"][:, t] = moved, moving, owed
        if t > 0:   # the decision of month t pays the bill issued on its 3rd, and anything older
            debit, returned, manual, day, time = _decide(rng, rows, s, moved, owed, issue, due)
            w["returned"][:, t] = returned
            w["paid"][:, t] = debit + manual
            w["pay_day"][:, t] = np.where(debit > 0, due, np.where(manual > 0, day, -1))
            w["pay_time"][:, t] = np.where(debit > 0, 8.5 / 24, time)
            w["channel_paid"][:, t] = debit > 0
            owed = owed - debit - manual
        kwh, amount = _consumption(rng, rows, s, _calendar_month(start_m, t), moving, ~moved)
        if t + 1 < months:
            w["billed"][:, t + 1], w["bill"][:, t + 1], w["kwh"][:, t + 1] = ~moved, amount, kwh
            owed = owed + amount
        moved = moved | moving
    w.update(level=rows.level, district=rows.district, cls=rows.cls, base_kwh=rows.base_kwh, debit=rows.debit)
    return _frames(w, opened, n_districts, start_m, tz, rng)


def _day_column(days: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(days.astype("datetime64[D]")))


def _frames(w: dict, opened, n_districts: int, start_m, tz: str, rng) -> EvaluationUtility:
    n, months = w["s"].shape
    ids = np.char.add("E", np.char.zfill(np.arange(1, n + 1).astype(str), 7)).astype(object)
    grids = np.char.add("D", np.char.zfill(np.arange(1, n_districts + 1).astype(str), 3)).astype(object)
    customers = pd.DataFrame({"customer_id": ids, "customer_class": np.asarray(CLASSES, dtype=object)[w["cls"]],
                              "grid": grids[w["district"]], "opened_on": _day_column(opened)})
    c, t = np.nonzero(w["billed"])
    days = np.array([_month_days(start_m, m)[1:] for m in range(months)], dtype=np.int64)
    periods = np.array([str(start_m + m - 1) for m in range(months)], dtype=object)
    bills = pd.DataFrame({"bill_id": ids[c] + "-" + periods[t], "customer_id": ids[c], "period": periods[t],
                          "kwh": w["kwh"][c, t], "amount_fen": w["bill"][c, t],
                          "issued_on": _day_column(days[t, 0]), "due_on": _day_column(days[t, 1])})
    c, t = np.nonzero(w["pay_day"] >= 0)
    seconds = np.round((w["pay_day"][c, t] + w["pay_time"][c, t]) * 86400).astype(np.int64)
    debit = w["channel_paid"][c, t]
    channel = np.where(debit, "direct_debit", rng.choice(np.array(["bank", "agent", "kiosk", "counter"], dtype=object),
                                                         c.size, p=[0.45, 0.3, 0.15, 0.1])).astype(object)
    payments = pd.DataFrame({"customer_id": ids[c], "amount_fen": w["paid"][c, t],
                             "paid_at": pd.to_datetime(seconds, unit="s").tz_localize(tz).tz_convert("UTC"),
                             "channel": channel})
    payments = payments.sort_values(["paid_at", "customer_id"], kind="stable").reset_index(drop=True)
    payments.insert(0, "payment_id", "P" + pd.Series(np.arange(1, len(payments) + 1)).astype(str))
    c, t = np.nonzero(w["returned"])
    events = pd.DataFrame({"customer_id": ids[c], "kind": "returned_payment", "occurred_on": _day_column(days[t, 1]),
                           "amount_fen": pd.array([None] * c.size, dtype="Int64")})
    return EvaluationUtility(customers=customers, bills=bills, payments=payments, events=events, start=start_m,
                             tz=tz, world=w)


# ---------------------------------------------------------------------------------------------- the oracle

def true_pd(utility: EvaluationUtility, as_of, *, replicates: int = 200, seed: int = 1, batch: int = 50,
            horizon_days: int = HORIZON_DAYS, grace_days: int = GRACE_DAYS) -> pd.Series:
    """Each customer's true probability of default after as_of, given the whole state of the world at its close.

    Estimated from `replicates` futures (the standard error is at most 0.5 / sqrt(replicates)); it is the
    probability among the futures in which the customer has a bill due in the horizon, as the label is.
    Indexed by customer_id, for every customer.
    """
    w = utility.world
    day = as_of_day(as_of)
    t0 = int((np.datetime64(day_to_date(day), "M") - utility.start).astype(np.int64))
    n, months = w["s"].shape
    if not 1 <= t0 < months:
        raise ValueError(f"{as_of} is outside the simulated months")
    rng = np.random.default_rng([seed, day])
    rows = _Rows(w["level"], w["district"], w["cls"], w["base_kwh"], w["debit"])
    _, issue, due = _month_days(utility.start, t0)
    owed, moved = w["owed"][:, t0], w["moved"][:, t0]
    # month t0's decision: settled by the as-of day (paid by then, or a debit taken), or still open
    resolved = (w["pay_day"][:, t0] >= 0) & (w["pay_day"][:, t0] <= day)
    debit = rows.debit & ~moved & (owed > 0)
    returned_known = debit & (due <= day) & w["returned"][:, t0]
    fresh = debit & (due > day)                                      # the debit is not even tried yet
    start = np.where(returned_known, due, issue)
    window = np.where(returned_known, DEBIT_RETRY, PAY_WINDOW)
    windows = [(d, d + grace_days) for d in (_month_days(utility.start, t0 + k)[2] for k in range(4))]
    bad = np.zeros(n)
    has = np.zeros(n)
    for first in range(0, replicates, batch):
        reps = min(batch, replicates - first)
        r = rows.tile(reps)
        x, s, mv, ow = (np.tile(a, reps) for a in (w["x"][:, t0], w["s"][:, t0], moved, owed))
        g = np.tile(w["g"][:, t0], (reps, 1))
        fr, rs = np.tile(fresh, reps), np.tile(resolved, reps)
        paid_known = np.where(rs, np.tile(w["paid"][:, t0], reps), 0)
        # the open decision of month t0, drawn given what the as-of day shows
        d_amount, _, m_fresh, day_fresh, _ = _decide(rng, r, s, mv, ow, issue, due)
        m_open, day_open, _ = _manual(rng, s, mv, ow, np.tile(start, reps), np.tile(window, reps),
                                      elapsed=day - np.tile(start, reps))
        amount = np.where(rs, 0, np.where(fr, d_amount + m_fresh, m_open))
        paid = [(amount, np.where(fr & (d_amount > 0), due, np.where(fr, day_fresh, day_open)))]
        ow = ow - amount - paid_known
        bills = [(np.tile(w["billed"][:, t0], reps), np.tile(w["bill"][:, t0], reps))]
        moving = np.tile(w["moving"][:, t0], reps)
        for t in range(t0, t0 + 3):    # three more bills and the decisions that pay them
            _, amt = _consumption(rng, r, s, _calendar_month(utility.start, t), moving, ~mv)
            bills.append((~mv, amt))
            ow, mv = ow + amt, mv | moving
            _, k_issue, k_due = _month_days(utility.start, t + 1)
            x, g, s, moving = _step(rng, r, x, g, mv)
            debit_amount, _, manual, m_day, _ = _decide(rng, r, s, mv, ow, k_issue, k_due)
            paid.append((debit_amount + manual, np.where(debit_amount > 0, k_due, m_day)))
            ow = ow - debit_amount - manual
        # oldest bill first: a bill is fully paid by its deadline when what was paid from month t0 on reaches
        # what was owed at t0's decision plus the bills issued since, up to and including this one
        required = np.tile(owed, reps)
        default = np.zeros(n * reps, dtype=bool)
        in_window = np.zeros(n * reps, dtype=bool)
        for k, (billed, amt) in enumerate(bills):
            required = required + (amt if k else 0)
            bill_due, deadline = windows[k]
            if not day < bill_due <= day + horizon_days:
                continue
            settled = paid_known + sum(np.where(when <= deadline, value, 0) for value, when in paid)
            default |= billed & (amt > 0) & (settled < required)
            in_window |= billed
        bad += default.reshape(reps, n).sum(axis=0)
        has += in_window.reshape(reps, n).sum(axis=0)
    ids = utility.customers["customer_id"].to_numpy()
    return pd.Series(np.where(has > 0, bad / np.maximum(has, 1), 0.0), index=pd.Index(ids, name="customer_id"),
                     name="true_pd")


def write_csv(utility: EvaluationUtility, directory: str | pathlib.Path, *, truth: dict | None = None) -> None:
    """The utility as the service's import files (customers, bills, payments, events), and truth_<date>.csv
    (customer_id, pd) for each {as_of: true_pd series} given."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    def yuan(fen: pd.Series) -> pd.Series:
        fen = fen.astype(np.int64)
        return (fen // 100).astype(str) + "." + (fen % 100).astype(str).str.zfill(2)

    c = utility.customers
    pd.DataFrame({"customer_id": c["customer_id"], "name": "用户" + c["customer_id"].str[1:],
                  "customer_class": c["customer_class"], "grid": c["grid"],
                  "opened_on": c["opened_on"].dt.strftime("%Y-%m-%d")}).to_csv(directory / "customers.csv", index=False)
    b = utility.bills
    pd.DataFrame({"bill_id": b["bill_id"], "customer_id": b["customer_id"], "period": b["period"],
                  "kwh": b["kwh"].map("{:.1f}".format), "amount": yuan(b["amount_fen"]),
                  "issued_on": b["issued_on"].dt.strftime("%Y-%m-%d"),
                  "due_on": b["due_on"].dt.strftime("%Y-%m-%d")}).to_csv(directory / "bills.csv", index=False)
    p = utility.payments
    local = p["paid_at"].dt.tz_convert(utility.tz)
    pd.DataFrame({"payment_id": p["payment_id"], "customer_id": p["customer_id"], "channel": p["channel"],
                  "channel_account": np.where(p["channel"] == "direct_debit", "DD01", p["channel"].str.upper() + "01"),
                  "channel_ref": "R" + p["payment_id"], "amount": yuan(p["amount_fen"]),
                  "paid_at": local.dt.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d\d)$", r":\1", regex=True),
                  }).to_csv(directory / "payments.csv", index=False)
    e = utility.events
    pd.DataFrame({"customer_id": e["customer_id"], "kind": e["kind"],
                  "occurred_on": e["occurred_on"].dt.strftime("%Y-%m-%d"), "amount": ""}).to_csv(
        directory / "events.csv", index=False)
    for as_of, series in (truth or {}).items():
        pd.DataFrame({"customer_id": series.index, "pd": series.map("{:.6f}".format).to_numpy()}).to_csv(
            directory / f"truth_{pd.Timestamp(as_of).date().isoformat()}.csv", index=False)
