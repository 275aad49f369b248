"""A realistic synthetic electricity utility: customers, bills, payments and events, generated vectorised.

Everything is computed on (customers x months) arrays; the only Python loops run over chunks, months,
customer classes and channels. Money is integer fen throughout.
"""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

from recovery.demo.idnumbers import ascii_text, credit_codes, digits, random_birth_dates, resident_ids

__all__ = [
    "CHANNELS", "CLASSES", "EVENT_KINDS", "DemoChunk", "Scenario", "describe", "flat_amount_fen",
    "generate", "residential_amount_fen", "write_csv",
]

CLASSES = ("residential", "commercial", "industrial", "property_mgmt", "government", "agricultural")
RES, COM, IND, PM, GOV, AGR = range(6)
CLASS_SHARES = np.array([0.85, 0.08, 0.025, 0.005, 0.01, 0.03])

CHANNELS = ("bank", "direct_debit", "agent", "card", "kiosk", "counter")
BANK, DD, AGENT, CARD, KIOSK, COUNTER = range(6)
# habitual channel per class (rows follow CLASSES, columns CHANNELS)
CHANNEL_SHARES = np.array([
    [0.20, 0.35, 0.20, 0.05, 0.10, 0.10],
    [0.45, 0.25, 0.10, 0.02, 0.03, 0.15],
    [0.65, 0.25, 0.00, 0.00, 0.00, 0.10],
    [0.70, 0.10, 0.00, 0.00, 0.00, 0.20],
    [0.90, 0.05, 0.00, 0.00, 0.00, 0.05],
    [0.10, 0.20, 0.35, 0.05, 0.05, 0.25],
])
BANKS = ("ICBC", "CCB", "ABC", "BOC", "BOCOM", "PSBC", "CMB")
BANK_SHARES = np.array([0.25, 0.22, 0.2, 0.13, 0.08, 0.07, 0.05])
# local time-of-day window (seconds) in which each channel's payments happen
CHANNEL_HOURS = np.array([[8, 20], [8, 9], [8, 20], [8, 21], [7, 21], [8.5, 17.5]]) * 3600

EVENT_KINDS = ("theft", "violation", "returned_payment", "disconnection", "reconnection")
THEFT, VIOLATION, RETURNED, DISCONNECTION, RECONNECTION = range(5)

# monthly consumption: median kWh and lognormal spread of the per-customer scale, month-to-month noise
MEDIAN_KWH = np.array([180.0, 2500.0, 40000.0, 30000.0, 5000.0, 600.0])
SCALE_SIGMA = np.array([0.45, 0.8, 1.0, 0.5, 0.7, 0.9])
NOISE_SIGMA = np.array([0.15, 0.12, 0.10, 0.08, 0.10, 0.25])
# calendar-month factors: summer (air conditioning) and winter (heating) peaks, Spring Festival dip for
# industry, irrigation season for agriculture
SEASON = np.array([
    [1.30, 1.20, 1.00, 0.85, 0.80, 0.95, 1.30, 1.40, 1.05, 0.85, 0.90, 1.15],
    [1.10, 0.95, 0.95, 0.90, 0.95, 1.10, 1.35, 1.40, 1.15, 0.95, 0.95, 1.05],
    [0.95, 0.75, 1.00, 1.02, 1.03, 1.03, 1.05, 1.05, 1.03, 1.02, 1.02, 1.05],
    [1.25, 1.15, 1.00, 0.88, 0.85, 1.00, 1.30, 1.35, 1.05, 0.88, 0.92, 1.12],
    [1.15, 1.00, 0.95, 0.90, 0.90, 1.05, 1.25, 1.15, 1.05, 0.90, 0.95, 1.10],
    [0.50, 0.50, 0.80, 1.20, 1.40, 1.50, 1.60, 1.50, 1.10, 0.80, 0.60, 0.50],
])

# tariffs in hundredths of a fen per kWh (0.4883 yuan = 48.83 fen = 4883)
RESIDENTIAL_TIERS = ((230, 4883), (400, 5383), (None, 7883))
FLAT_PRICE = np.array([0, 7500, 6500, 5500, 7000, 5000], dtype=np.int64)

# payment behaviour segments
GOOD, LATE, PARTIAL, CHRONIC = range(4)
# shares of the LATE, PARTIAL, CHRONIC segments per class (the rest are GOOD)
SEGMENT_SHARES = np.array([
    [0.08, 0.03, 0.01],
    [0.10, 0.04, 0.02],
    [0.06, 0.04, 0.01],
    [0.30, 0.45, 0.10],
    [0.45, 0.02, 0.00],
    [0.12, 0.04, 0.02],
])
P_UNPAID = np.array([0.002, 0.01, 0.03, 0.40])
P_PARTIAL = np.array([0.01, 0.06, 0.45, 0.25])
P_LATE = np.array([0.05, 0.65, 0.35, 0.55])
P_REST_PAID = np.array([0.95, 0.85, 0.60, 0.30])
LAG_DAYS = np.array([[1, 10], [10, 60], [5, 45], [20, 90]])
P_SETTLE_AFTER_DISCONNECTION = np.array([0.9, 0.85, 0.7, 0.35])

THEFT_RATE = np.array([0.006, 0.012, 0.006, 0.0, 0.0, 0.01])
VIOLATION_RATE = np.array([0.004, 0.03, 0.04, 0.01, 0.0, 0.02])

ISSUE_OFFSETS = 4          # bills are issued on the 3rd to the 6th of the next month, by grid
LAST_ISSUE_DAY = 2 + ISSUE_OFFSETS
DISCONNECTION_RUN_DAY = 16  # the monthly disconnection run, for bills two months past due
OVERDUE_FOR_DISCONNECTION = 60
NEVER = np.iinfo(np.int64).max // 4
CUSTOMERS_PER_GRID = 2000

_STR = StringDType()


@dataclasses.dataclass(frozen=True)
class DemoChunk:
    """One slice of the synthetic utility: some customers with all their bills, payments and events."""

    customers: pd.DataFrame
    bills: pd.DataFrame
    payments: pd.DataFrame
    events: pd.DataFrame


@dataclasses.dataclass(frozen=True)
class Scenario:
    """The story behind a generated utility: billing periods and where the trouble is."""

    periods: tuple[str, ...]
    grids: tuple[str, ...]
    troubled_grids: tuple[str, ...]
    trouble_from: str
    demolition_grid: str


# ---------------------------------------------------------------------------------------------- tariffs

def residential_amount_fen(kwh: np.ndarray) -> np.ndarray:
    """Monthly tiered residential bill in fen, exact: integer arithmetic, rounded half up to the fen."""
    kwh = np.asarray(kwh, dtype=np.int64)
    total = np.zeros_like(kwh)
    lower = 0
    for upper, price in RESIDENTIAL_TIERS:
        band = kwh - lower if upper is None else np.clip(kwh, lower, upper) - lower
        total += np.maximum(band, 0) * price
        lower = upper if upper is not None else lower
    return (total + 50) // 100


def flat_amount_fen(kwh: np.ndarray, price_hundredths_fen: np.ndarray | int) -> np.ndarray:
    """Flat-tariff bill in fen for a price in hundredths of a fen per kWh, rounded half up."""
    return (np.asarray(kwh, dtype=np.int64) * np.asarray(price_hundredths_fen, dtype=np.int64) + 50) // 100


# ---------------------------------------------------------------------------------------------- the calendar

@dataclasses.dataclass(frozen=True)
class _Universe:
    seed: int
    customers: int
    months: int
    as_of: int                # day number (days since 1970-01-01)
    tz: str
    month_start: np.ndarray   # day numbers of the first day of periods 0..months+1
    calendar_month: np.ndarray  # 0..11 per period
    grid_weights: np.ndarray
    troubled: np.ndarray      # grid indices
    trouble_onset: int        # first troubled period index
    demolition_grid: int
    demolition_month: int
    id_width: int


def _window(as_of: datetime.date, months: int) -> np.ndarray:
    """Month starts (datetime64[M]) of the billing periods plus the two months after the last one."""
    last = np.datetime64(as_of, "M") - 1
    if (last + 1).astype("datetime64[D]") + (LAST_ISSUE_DAY - 1) > np.datetime64(as_of, "D"):
        last -= 1
    return np.arange(last - (months - 1), last + 3)


def _universe(customers: int, months: int, seed: int, as_of: datetime.date, tz: str) -> _Universe:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    month_index = _window(as_of, months)
    n_grids = max(4, round(customers / CUSTOMERS_PER_GRID))
    troubled = rng.choice(n_grids, size=1 if n_grids < 8 else 2, replace=False)
    others = np.setdiff1d(np.arange(n_grids), troubled)
    return _Universe(
        seed=seed, customers=customers, months=months,
        as_of=int(np.datetime64(as_of, "D").astype(np.int64)), tz=tz,
        month_start=month_index.astype("datetime64[D]").astype(np.int64),
        calendar_month=(month_index.astype(np.int64) % 12)[:months],
        grid_weights=rng.dirichlet(np.full(n_grids, 8.0)),
        troubled=np.sort(troubled),
        trouble_onset=max(0, months - int(rng.integers(6, 10))),
        demolition_grid=int(rng.choice(others)),
        demolition_month=max(1, months - int(rng.integers(4, 13))),
        id_width=max(7, len(str(customers))),
    )


def _grid_codes(n: int) -> list[str]:
    return [f"G{i + 1:03d}" for i in range(n)]


def describe(*, customers: int = 5000, months: int = 24, seed: int = 7, as_of: datetime.date,
             tz: str = "Asia/Shanghai") -> Scenario:
    """The billing periods, grids and the troubled district that generate() builds for these arguments."""
    u = _universe(customers, months, seed, as_of, tz)
    periods = tuple(str(p) for p in _window(as_of, months)[:months])
    grids = _grid_codes(u.grid_weights.size)
    return Scenario(periods=periods, grids=tuple(grids), troubled_grids=tuple(grids[i] for i in u.troubled),
                    trouble_from=periods[u.trouble_onset], demolition_grid=grids[u.demolition_grid])


# ---------------------------------------------------------------------------------------------- names

_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
                 "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴")
_SURNAME_WEIGHTS = 1.0 / np.arange(1, len(_SURNAMES) + 1) ** 0.9
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉文斌辉婷雪琳鹏飞宇浩然子涵欣怡梓萱"
              "晨阳佳琪思雨俊杰博文海波春梅晓东丹凤德福永庆家宁")
_CITIES = ["杭州", "宁波", "温州", "绍兴", "嘉兴", "湖州", "金华", "台州", "衢州", "丽水", "舟山", "义乌"]
_BRANDS = ["宏达", "鑫源", "华盛", "永兴", "恒通", "金泰", "瑞丰", "天成", "博远", "东方", "晨光", "远航", "德信",
           "利民", "顺发", "万隆", "兴业", "富华", "中联", "新世纪", "盛世", "汇通", "嘉禾", "天宇", "正泰", "明珠"]
_TRADES = {
    COM: ["商贸有限公司", "餐饮管理有限公司", "酒店有限公司", "超市有限公司", "百货有限公司", "物流有限公司",
          "文化传媒有限公司", "网络科技有限公司", "服饰有限公司", "汽车销售服务有限公司"],
    IND: ["机械制造有限公司", "纺织有限公司", "化工有限公司", "新型建材有限公司", "五金制品有限公司",
          "塑料制品有限公司", "电子科技股份有限公司", "印染有限公司", "特钢有限公司", "食品有限公司",
          "纸业有限公司", "铸造有限公司"],
    PM: ["物业管理有限公司", "物业服务有限公司", "物业服务股份有限公司"],
}
_DISTRICTS = ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区", "富阳区", "临安区"]
_AGENCIES = ["人民政府", "教育局", "卫生健康局", "交通运输局", "水利局", "公安分局", "第一中学", "人民医院",
             "街道办事处", "城市管理局", "实验小学", "图书馆"]
_VILLAGES = ["新塘", "桥头", "上王", "下沙", "前进", "大路", "石门", "东山", "清溪", "南湖"]
_CROPS = ["蔬菜", "水稻", "茶叶", "果蔬", "花木", "水产养殖"]


def _pick(rng: np.random.Generator, options: list[str], n: int, p: np.ndarray | None = None) -> np.ndarray:
    table = np.array(options, dtype=_STR)
    return table[rng.choice(len(options), size=n, p=None if p is None else p / p.sum())]


def _person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    names = np.strings.add(_pick(rng, _SURNAMES, n, _SURNAME_WEIGHTS), _pick(rng, _GIVEN, n))
    two = rng.random(n) < 0.7
    names[two] = np.strings.add(names[two], _pick(rng, _GIVEN, int(two.sum())))
    return names


def _names(rng: np.random.Generator, cls: np.ndarray, person: np.ndarray) -> np.ndarray:
    n = cls.size
    names = np.full(n, "", dtype=_STR)
    names[person] = _person_names(rng, int(person.sum()))
    for c in (COM, IND, PM):
        sel = (cls == c) & ~person
        k = int(sel.sum())
        names[sel] = np.strings.add(np.strings.add(_pick(rng, _CITIES, k), _pick(rng, _BRANDS, k)),
                                    _pick(rng, _TRADES[c], k))
    sel = cls == GOV
    k = int(sel.sum())
    names[sel] = np.strings.add(np.strings.add("杭州市", _pick(rng, _DISTRICTS, k)), _pick(rng, _AGENCIES, k))
    sel = (cls == AGR) & ~person
    k = int(sel.sum())
    names[sel] = np.strings.add(np.strings.add(np.strings.add(_pick(rng, _VILLAGES, k), "村"),
                                               _pick(rng, _CROPS, k)), "专业合作社")
    return names.astype(object)


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefixes = np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157,
                         158, 159, 166, 173, 177, 180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199])
    matrix = np.concatenate([digits(prefixes[rng.integers(0, prefixes.size, n)], 3),
                             digits(rng.integers(0, 10**8, n), 8)], axis=1)
    phones = ascii_text(matrix)
    phones[rng.random(n) < 0.08] = None
    return phones


# ---------------------------------------------------------------------------------------------- a chunk

def _sigmoid_shift(p: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Move probabilities p by shift on the logit scale."""
    logit = np.log(p) - np.log1p(-p)
    return 1.0 / (1.0 + np.exp(-(logit + shift)))


def _chunk(u: _Universe, index: int, start: int, n: int) -> DemoChunk:
    rng = np.random.default_rng(np.random.SeedSequence(u.seed, spawn_key=(1, index)))
    M = u.months
    ps = u.month_start                      # M + 2 entries
    dim = np.diff(ps)[:M]                   # days in each period
    as_of = u.as_of
    number = np.arange(start + 1, start + n + 1, dtype=np.int64)
    n_grids = u.grid_weights.size

    # ---- who the customers are
    cls = rng.choice(6, size=n, p=CLASS_SHARES)
    grid = rng.choice(n_grids, size=n, p=u.grid_weights)
    person = (cls == RES) | ((cls == AGR) & (rng.random(n) < 0.7))
    enterprise = np.isin(cls, (COM, IND, PM)) | ((cls == AGR) & ~person)

    when = rng.random(n)
    open_day = np.where(
        when < 0.88, ps[0] - 1 - rng.integers(0, 15 * 365, n),
        np.where(when < 0.995, rng.integers(ps[0], ps[M], n), rng.integers(ps[M], as_of + 1, n)))
    open_month = np.clip(np.searchsorted(ps[: M + 1], open_day, side="right") - 1, 0, M)
    open_month[open_day < ps[0]] = 0
    months = np.arange(M)
    active = months[None, :] >= open_month[:, None]
    active &= open_day[:, None] < ps[None, 1: M + 1]
    open_frac = np.ones((n, M))
    first = (months[None, :] == open_month[:, None]) & (open_day[:, None] >= ps[None, :M])
    open_frac[first] = ((ps[1: M + 1][None, :] - open_day[:, None]) / dim[None, :])[first]

    segment_draw = rng.random(n)
    cum = np.cumsum(SEGMENT_SHARES[cls], axis=1)
    segment = np.where(segment_draw < cum[:, 0], LATE, np.where(
        segment_draw < cum[:, 1], PARTIAL, np.where(segment_draw < cum[:, 2], CHRONIC, GOOD)))
    persistent = rng.normal(0.0, 0.4, n)    # within-segment heterogeneity on the logit scale

    habit = (rng.random(n)[:, None] > np.cumsum(CHANNEL_SHARES[cls], axis=1)).sum(axis=1)
    habit = np.minimum(habit, COUNTER)
    habit[(segment == CHRONIC) & (habit == DD) & (rng.random(n) < 0.6)] = COUNTER
    fallback_shares = CHANNEL_SHARES[cls].copy()
    fallback_shares[:, DD] = 0.0
    fallback_shares /= fallback_shares.sum(axis=1, keepdims=True)
    fallback = np.minimum((rng.random(n)[:, None] > np.cumsum(fallback_shares, axis=1)).sum(axis=1), COUNTER)
    fallback = np.where(habit == DD, fallback, habit)
    bank = rng.choice(len(BANKS), size=n, p=BANK_SHARES)
    agent = grid * 2 + rng.integers(0, 2, n)

    # ---- billing calendar
    issue_offset = 2 + grid % ISSUE_OFFSETS
    term = np.where(cls == GOV, 30, np.where(cls == IND, 10, rng.choice([15, 18, 20], size=n)))
    issue = ps[None, 1: M + 1] + issue_offset[:, None]
    due = issue + term[:, None]
    price = FLAT_PRICE[cls] - np.where(cls == IND, 200 * rng.integers(0, 3, n),
                                       np.where(cls == COM, 200 * rng.integers(0, 2, n), 0))

    # ---- consumption drivers
    base = MEDIAN_KWH[cls] * np.exp(SCALE_SIGMA[cls] * rng.normal(size=n))
    season = SEASON[cls][:, u.calendar_month]
    vacant = np.zeros((n, M), dtype=bool)
    spell = (cls == RES) & (rng.random(n) < 0.06)
    spell_start = rng.integers(0, M, n)
    spell_end = spell_start + rng.integers(1, 9, n)
    vacant |= spell[:, None] & (months[None, :] >= spell_start[:, None]) & (months[None, :] < spell_end[:, None])
    vacant |= (rng.random((n, M)) < 0.004) & (cls != IND)[:, None]

    # troubled district: its enterprises lose business, pay later and less over the last months
    ramp = np.clip((months - u.trouble_onset + 1) / max(1, M - u.trouble_onset), 0.0, 1.0)
    affected = np.isin(grid, u.troubled) & np.isin(cls, (COM, IND)) & (rng.random(n) < 0.85)
    severity = np.where(affected, rng.uniform(0.8, 1.6, n), 0.0)
    trouble_stress = 3.0 * severity[:, None] * ramp[None, :]
    trouble_factor = np.clip(1.0 - 0.55 * severity[:, None] * ramp[None, :], 0.1, 1.0)
    bankrupt = affected & (rng.random(n) < 0.15)
    bankrupt_from = M - rng.integers(1, 3, n)
    closed = bankrupt[:, None] & (months[None, :] >= bankrupt_from[:, None])
    # property managers collect for residents and dispute an ever larger part of the bill
    disputing = (cls == PM) & (rng.random(n) < 0.7)
    pm_stress = 2.0 * disputing[:, None] * (months / max(1, M - 1))[None, :]
    # demolition site: residents move out, some leaving their last bills unpaid
    leaver = (grid == u.demolition_grid) & (cls == RES) & (rng.random(n) < 0.25)
    leave_month = u.demolition_month + rng.integers(-1, 2, n)
    gone = leaver[:, None] & (months[None, :] >= leave_month[:, None])
    walk_out = leaver[:, None] & (months[None, :] >= leave_month[:, None] - 2) & (rng.random(n) < 0.6)[:, None]

    # theft: recorded consumption drops for months before detection; back-billing at detection
    thief = rng.random(n) < THEFT_RATE[cls]
    theft_start = rng.integers(0, max(1, M - 1), n)
    detected_month = theft_start + rng.integers(2, 10, n)
    theft_factor = rng.uniform(0.25, 0.6, n)
    stealing = thief[:, None] & (months[None, :] >= theft_start[:, None]) & (months[None, :] < detected_month[:, None])
    back_billing = np.zeros(n, dtype=np.int64)

    # ---- state carried through the months
    kwh = np.zeros((n, M))
    amount = np.zeros((n, M), dtype=np.int64)
    # per bill: first payment, the rest of a partial payment, the share of a settlement after disconnection
    pay_amount = np.zeros((n, M, 3), dtype=np.int64)
    pay_day = np.full((n, M, 3), NEVER, dtype=np.int64)
    pay_channel = np.zeros((n, M, 3), dtype=np.int8)
    settled = np.full((n, M), -NEVER, dtype=np.int64)   # day the bill is fully paid; NEVER if it is not
    off_days = np.zeros((n, M))                            # days disconnected within each month
    stress = np.zeros(n)
    returns = np.zeros(n, dtype=np.int64)
    disconnected = np.zeros(n, dtype=bool)
    reconnect_day = np.full(n, NEVER, dtype=np.int64)
    events: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    lag_lo, lag_hi = LAG_DAYS[segment, 0], LAG_DAYS[segment, 1]

    fallback_cum = np.cumsum(fallback_shares, axis=1)

    def other_channel() -> np.ndarray:
        """Mostly the customer's usual non-debit channel, sometimes another one their class uses."""
        draw = np.minimum((rng.random(n)[:, None] > fallback_cum).sum(axis=1), COUNTER)
        return np.where(rng.random(n) < 0.9, fallback, draw)

    for m in range(M):
        # consumption and the bill
        connected = 1.0 - off_days[:, m] / dim[m]
        true_kwh = base * season[:, m] * np.exp(NOISE_SIGMA[cls] * rng.normal(size=n)) * open_frac[:, m] \
            * connected * trouble_factor[:, m]
        true_kwh = np.rint(np.where(vacant[:, m] | closed[:, m] | gone[:, m] | ~active[:, m], 0.0, true_kwh))
        recorded = np.where(stealing[:, m], np.rint(true_kwh * theft_factor), true_kwh)
        true_i, rec_i = true_kwh.astype(np.int64), recorded.astype(np.int64)
        residential = cls == RES
        bill = np.where(residential, residential_amount_fen(rec_i), flat_amount_fen(rec_i, price))
        true_bill = np.where(residential, residential_amount_fen(true_i), flat_amount_fen(true_i, price))
        back_billing += np.where(stealing[:, m], true_bill - bill, 0)
        kwh[:, m] = recorded
        amount[:, m] = bill
        billable = active[:, m] & (bill > 0)
        stress[thief & (detected_month == m)] += 1.0

        # how this bill gets paid
        debit = habit == DD
        # a debit mandate takes lateness out of the customer's hands, until the account runs dry
        shift = stress + trouble_stress[:, m] + pm_stress[:, m] + persistent \
            - 2.0 * debit / (1.0 + trouble_stress[:, m])
        p_unpaid = _sigmoid_shift(P_UNPAID[segment], shift)
        p_unpaid = np.where(closed[:, m] | walk_out[:, m], 1.0, p_unpaid)
        unpaid = rng.random(n) < p_unpaid
        partial = ~unpaid & (rng.random(n) < _sigmoid_shift(P_PARTIAL[segment], shift)) & (bill >= 2000)
        late = rng.random(n) < _sigmoid_shift(P_LATE[segment], shift)
        returned = billable & debit & (unpaid | partial | late | (rng.random(n) < 0.003))
        on_time_day = np.where(debit, due[:, m], issue[:, m] + (rng.random(n) * (term + 1)).astype(np.int64))
        lag = lag_lo + rng.random(n) * (lag_hi - lag_lo) * (1.0 + 0.25 * np.maximum(shift, 0.0)) \
            + rng.random(n) * 20.0 * trouble_stress[:, m]  # struggling firms stretch their suppliers ever longer
        day1 = np.where(late, due[:, m] + lag.astype(np.int64), on_time_day)
        day1 = np.where(returned & ~late, due[:, m] + rng.integers(1, 11, n), day1)
        per_mille = np.where(cls == PM, rng.integers(600, 951, n), rng.integers(300, 801, n))
        part = np.clip(bill * per_mille // 100_000 * 100, 100, np.maximum(bill - 1, 100))  # whole yuan
        first_amount = np.where(partial, part, bill)
        rest_paid = partial & (rng.random(n) < P_REST_PAID[segment] * np.exp(-0.3 * np.maximum(shift, 0.0)))
        day2 = day1 + rng.integers(15, 91, n)

        channel1 = np.where(debit & ~returned, DD, other_channel())
        channel2 = other_channel()
        pays = billable & ~unpaid
        pay_amount[:, m, 0] = np.where(pays, first_amount, 0)
        pay_day[:, m, 0] = np.where(pays, day1, NEVER)
        pay_channel[:, m, 0] = channel1
        pay_amount[:, m, 1] = np.where(pays & rest_paid, bill - first_amount, 0)
        pay_day[:, m, 1] = np.where(pays & rest_paid, day2, NEVER)
        pay_channel[:, m, 1] = channel2
        settled[:, m] = np.where(~billable, -NEVER, np.where(
            unpaid | (partial & ~rest_paid), NEVER, np.where(partial, day2, day1)))

        # returned direct debits: a return on the debit date, a stressed payer, and after two the mandate is cancelled
        bounced = returned & (due[:, m] <= as_of)
        if bounced.any():
            events.append((np.flatnonzero(bounced), RETURNED, due[bounced, m], bill[bounced]))
        stress = stress * 0.85 + 0.8 * bounced
        returns += bounced
        habit = np.where((returns >= 2) & (habit == DD), fallback, habit)

        # the monthly disconnection run for bills two months past due
        run_day = ps[m + 1] + DISCONNECTION_RUN_DAY - 1
        if run_day > as_of:
            continue
        disconnected &= reconnect_day > run_day
        overdue = (due[:, : m + 1] + OVERDUE_FOR_DISCONNECTION <= run_day) & (settled[:, : m + 1] > run_day)
        paid_up = np.where(overdue, settled[:, : m + 1], -NEVER).max(axis=1)
        overdue_fen = np.where(overdue, amount[:, : m + 1], 0).sum(axis=1)
        # government organs are not cut off, property managers and struggling local firms rarely (the district
        # government intervenes), small residential arrears are left to reminders
        p_cut = np.where(cls == PM, 0.02, np.where(segment == GOOD, 0.05, 0.3)) * np.where(affected, 0.4, 1.0)
        cut = (overdue_fen >= np.where(person, 5_000, 50_000)) & ~disconnected & (cls != GOV) \
            & (rng.random(n) < p_cut)
        cut_day = run_day + rng.integers(0, 5, n)
        cut &= (cut_day <= as_of) & (paid_up >= cut_day)
        if not cut.any():
            continue
        who = np.flatnonzero(cut)
        k = who.size
        events.append((who, DISCONNECTION, cut_day[who], np.zeros(k, dtype=np.int64)))
        stress[who] += 0.5
        p_settle = P_SETTLE_AFTER_DISCONNECTION[segment[who]] * np.where(affected[who], 0.6, 1.0) \
            * np.where(leaver[who], 0.15, 1.0)
        settles = rng.random(k) < p_settle
        settle_day = cut_day[who] + 1 + np.minimum(rng.geometric(0.12, k), 90)
        # settling customers pay everything issued so far in one go; later instalments are cancelled
        s_who, s_day = who[settles], settle_day[settles]
        kept = pay_day[s_who, : m + 1] <= s_day[:, None, None]
        paid_before = np.where(kept, pay_amount[s_who, : m + 1], 0)
        remaining = np.where(active[s_who, : m + 1], amount[s_who, : m + 1] - paid_before.sum(axis=2), 0)
        pay_amount[s_who, : m + 1] = paid_before
        pay_day[s_who, : m + 1] = np.where(kept, pay_day[s_who, : m + 1], NEVER)
        settled[s_who, : m + 1] = np.minimum(settled[s_who, : m + 1], s_day[:, None])
        lump_channel = rng.choice([COUNTER, AGENT, BANK], size=s_who.size, p=[0.6, 0.25, 0.15])
        owing = remaining > 0  # a bill settled by an earlier settlement owes nothing more here
        pay_amount[s_who, : m + 1, 2] = np.where(owing, remaining, pay_amount[s_who, : m + 1, 2])
        pay_day[s_who, : m + 1, 2] = np.where(owing, s_day[:, None], pay_day[s_who, : m + 1, 2])
        pay_channel[s_who, : m + 1, 2] = np.where(owing, lump_channel[:, None], pay_channel[s_who, : m + 1, 2])
        # the others are reconnected once their planned payments clear the overdue bills, if ever
        back_on = np.where(settles, settle_day, paid_up[who]) + rng.integers(0, 2, k)
        back_on = np.where(back_on >= NEVER // 2, NEVER, np.maximum(back_on, cut_day[who] + 1))
        reconnect_day[who] = back_on
        disconnected[who] = True
        back = back_on <= as_of
        if back.any():
            events.append((who[back], RECONNECTION, back_on[back], np.zeros(int(back.sum()), dtype=np.int64)))
        end_off = np.minimum(back_on, ps[M])[:, None]
        overlap = np.minimum(end_off, ps[None, 1: M + 1]) - np.maximum(cut_day[who][:, None], ps[None, :M])
        off_days[who] += np.clip(overlap, 0, dim[None, :])

    # ---- theft and violation events
    caught = thief & (detected_month < M)
    if caught.any():
        who = np.flatnonzero(caught)
        d = detected_month[who]
        day = ps[d] + (rng.random(who.size) * dim[d]).astype(np.int64)
        events.append((who, THEFT, day, np.maximum(back_billing[who], 100)))
    violator = (rng.random(n) < VIOLATION_RATE[cls]) & (open_day < ps[M])
    if violator.any():
        who = np.flatnonzero(violator)
        lo = np.maximum(open_day[who], ps[0])
        day = lo + (rng.random(who.size) * (ps[M] - lo)).astype(np.int64)
        fee = np.where(cls[who] == RES, rng.integers(50, 501, who.size),
                       np.rint(np.exp(rng.normal(np.log(3000), 0.8, who.size))).astype(np.int64)) * 100
        fee = np.where(rng.random(who.size) < 0.3, -1, fee)  # -1: no amount recorded
        events.append((who, VIOLATION, day, fee))

    customers = _customers_frame(u, rng, number, cls, grid, person, enterprise, open_day)
    bills = _bills_frame(u, customers, number, active, kwh, amount, issue, due)
    payments = _payments_frame(u, rng, customers, number, pay_amount, pay_day, pay_channel, grid, bank, agent)
    return DemoChunk(customers, bills, payments, _events_frame(customers, events))


# ---------------------------------------------------------------------------------------------- frames

def _days_to_ns(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")


def _customers_frame(u: _Universe, rng: np.random.Generator, number: np.ndarray, cls: np.ndarray,
                     grid: np.ndarray, person: np.ndarray, enterprise: np.ndarray,
                     open_day: np.ndarray) -> pd.DataFrame:
    n = number.size
    ids = np.full(n, None, dtype=object)
    as_of = datetime.date(1970, 1, 1) + datetime.timedelta(days=u.as_of)
    ids[person] = resident_ids(rng, random_birth_dates(rng, int(person.sum()), as_of=as_of, min_age=20))
    organisation = ~person
    authority = np.where(cls[organisation] == GOV, 1, 9)
    entity_type = np.where(cls[organisation] == AGR, 3, 1)
    ids[organisation] = credit_codes(rng, authority, entity_type)
    ids[rng.random(n) < np.where(person, 0.04, 0.03)] = None

    capital_median_yuan = np.array([0, 1e6, 1e7, 3e6, 0, 5e5])[cls]
    wan = np.maximum(1, np.rint(capital_median_yuan * np.exp(rng.normal(0, 1.0, n)) / 10_000)).astype(np.int64)
    capital = pd.array(wan * 1_000_000, dtype="Int64")  # registered capital is declared in units of 10,000 yuan
    capital[~enterprise | (rng.random(n) < 0.03)] = pd.NA

    grid_table = np.array(_grid_codes(u.grid_weights.size), dtype=object)
    return pd.DataFrame({
        "customer_id": ascii_text(np.concatenate([np.full((n, 1), ord("C"), np.uint8), digits(number, u.id_width)],
                                                 axis=1)),
        "name": _names(rng, cls, person),
        "customer_class": np.array(CLASSES, dtype=object)[cls],
        "grid": grid_table[grid],
        "id_number": ids,
        "registered_capital_fen": capital,
        "opened_on": _days_to_ns(open_day),
        "phone": _phones(rng, n),
    })


def _period_digits(u: _Universe) -> np.ndarray:
    month_index = (u.month_start[: u.months].astype("datetime64[D]").astype("datetime64[M]")).astype(np.int64)
    return digits((month_index // 12 + 1970) * 100 + month_index % 12 + 1, 6)


def _bills_frame(u: _Universe, customers: pd.DataFrame, number: np.ndarray, active: np.ndarray, kwh: np.ndarray,
                 amount: np.ndarray, issue: np.ndarray, due: np.ndarray) -> pd.DataFrame:
    ci, m = np.nonzero(active)
    k = ci.size
    period_text = np.array([str(p) for p in u.month_start[: u.months].astype("datetime64[D]").astype("datetime64[M]")],
                           dtype=object)
    bill_id = ascii_text(np.concatenate([np.full((k, 1), ord("B"), np.uint8), digits(number, u.id_width)[ci],
                                         _period_digits(u)[m]], axis=1))
    return pd.DataFrame({
        "bill_id": bill_id,
        "customer_id": customers["customer_id"].to_numpy()[ci],
        "period": period_text[m],
        "kwh": kwh[ci, m].astype(np.float64),
        "amount_fen": amount[ci, m].astype(np.int64),
        "issued_on": _days_to_ns(issue[ci, m]),
        "due_on": _days_to_ns(due[ci, m]),
    })


def _ymd_digits(days: np.ndarray, width: int = 8) -> np.ndarray:
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    month_index = month_start.astype(np.int64)
    ymd = ((month_index // 12 + 1970) * 10000 + (month_index % 12 + 1) * 100
           + (d - month_start.astype("datetime64[D]")).astype(np.int64) + 1)
    return digits(ymd % 10**width, width)


def _account_table(u: _Universe) -> tuple[np.ndarray, dict[int, int], list[int]]:
    """All channel accounts in one lookup table, with each channel's offset into it."""
    g = u.grid_weights.size
    first_year, last_year = (np.array([u.month_start[0], u.as_of]).astype("datetime64[D]").astype("datetime64[Y]")
                             .astype(np.int64) + 1970)
    years = list(range(int(first_year), int(last_year) + 1))
    parts = {
        BANK: list(BANKS),
        AGENT: [f"AG{i + 1:02d}" for i in range(2 * g)],
        KIOSK: [f"K{i + 1:03d}" for i in range(2 * g)],
        COUNTER: [f"CS{i + 1:02d}" for i in range(3 * (g // 4 + 1))],
        CARD: [f"CB{y}{q}" for y in years for q in "ABCD"],
    }
    table, offsets = [], {}
    for channel, names in parts.items():
        offsets[channel] = len(table)
        table.extend(names)
    offsets[DD] = offsets[BANK]
    return np.array(table, dtype=object), offsets, years


def _payments_frame(u: _Universe, rng: np.random.Generator, customers: pd.DataFrame, number: np.ndarray,
                    pay_amount: np.ndarray, pay_day: np.ndarray, pay_channel: np.ndarray,
                    grid: np.ndarray, bank: np.ndarray, agent: np.ndarray) -> pd.DataFrame:
    M = u.months
    ci, m, slot = np.nonzero((pay_amount[:, :, :2] > 0) & (pay_day[:, :, :2] <= u.as_of))
    cols = [ci, m, slot, pay_day[ci, m, slot], pay_amount[ci, m, slot], pay_channel[ci, m, slot].astype(np.int64)]
    # a settlement after disconnection is one payment covering several bills: one row per customer and day,
    # named after the latest bill it covers (unique, as each settlement covers bills after the previous one's)
    sc, sm = np.nonzero((pay_amount[:, :, 2] > 0) & (pay_day[:, :, 2] <= u.as_of))
    if sc.size:
        settlement = pd.DataFrame({"ci": sc, "day": pay_day[sc, sm, 2], "m": sm, "amount": pay_amount[sc, sm, 2],
                                   "channel": pay_channel[sc, sm, 2].astype(np.int64)})
        lump = settlement.groupby(["ci", "day"], sort=False).agg(m=("m", "max"), amount=("amount", "sum"),
                                                                 channel=("channel", "first")).reset_index()
        more = [lump["ci"].to_numpy(), lump["m"].to_numpy(), np.full(len(lump), 2), lump["day"].to_numpy(),
                lump["amount"].to_numpy(), lump["channel"].to_numpy()]
        cols = [np.concatenate([a, b]).astype(np.int64) for a, b in zip(cols, more, strict=True)]
    ci, m, slot, day, amt, channel = cols
    k = ci.size
    hours = CHANNEL_HOURS[channel]
    seconds = (hours[:, 0] + rng.random(k) * (hours[:, 1] - hours[:, 0])).astype(np.int64)
    order = np.lexsort((seconds, day, ci))
    ci, m, slot, day, amt, channel, seconds = (a[order] for a in (ci, m, slot, day, amt, channel, seconds))

    local = pd.DatetimeIndex(_days_to_ns(day) + seconds.astype("timedelta64[s]"))
    paid_at = local.tz_localize(u.tz, ambiguous=np.zeros(k, dtype=bool), nonexistent="shift_forward").tz_convert("UTC")

    # channel accounts: the customer's bank, the grid's agents, kiosks and service-hall cashiers, card batches
    table, offsets, years = _account_table(u)
    g = grid[ci]
    quarter = (day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12) // 3
    year = day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    local_index = np.select(
        [np.isin(channel, (BANK, DD)), channel == AGENT, channel == KIOSK, channel == COUNTER, channel == CARD],
        [bank[ci], agent[ci], 2 * g + rng.integers(0, 2, k), 3 * (g // 4) + rng.integers(0, 3, k),
         (year - years[0]) * 4 + quarter])
    offset = np.array([offsets[c] for c in range(len(CHANNELS))])[channel]
    account = table[offset + local_index]

    # references: a bijective scramble of the payment's unique key, so they are unique within every channel
    key = (number[ci] * (4 * M) + 4 * m + slot).astype(np.uint64)
    if int(key.max(initial=0)) >= 2**40:
        raise ValueError("too many customers x months for 13-digit channel references")
    serial = ((key * np.uint64(0x9E3779B97F4B)) & np.uint64(2**40 - 1)) ^ np.uint64(0x5A5A5A5A5A)
    serial_digits = digits(serial.astype(np.int64), 13)
    ymd = _ymd_digits(day)
    ref = np.empty(k, dtype=object)
    formats = {
        BANK: lambda s: [ymd[s], serial_digits[s]],
        DD: lambda s: [_const("DD", s), ymd[s], serial_digits[s]],
        AGENT: lambda s: [_const("A", s), ymd[s, 2:], serial_digits[s]],
        CARD: lambda s: [_const("88", s), digits(serial[s].astype(np.int64), 14)],
        KIOSK: lambda s: [_const("T", s), ymd[s, 2:], serial_digits[s]],
        COUNTER: lambda s: [_const("R", s), serial_digits[s]],
    }
    for c, parts in formats.items():
        s = np.flatnonzero(channel == c)
        if s.size:
            ref[s] = ascii_text(np.concatenate(parts(s), axis=1))

    id_digits = digits(number, u.id_width)
    payment_id = ascii_text(np.concatenate([_const("P", ci), id_digits[ci], _period_digits(u)[m],
                                            (slot + 48).astype(np.uint8)[:, None]], axis=1))
    return pd.DataFrame({
        "payment_id": payment_id,
        "customer_id": customers["customer_id"].to_numpy()[ci],
        "channel": np.array(CHANNELS, dtype=object)[channel],
        "channel_account": account,
        "channel_ref": ref,
        "amount_fen": amt.astype(np.int64),
        "paid_at": paid_at,
    })


def _const(text: str, rows: np.ndarray) -> np.ndarray:
    """A constant ASCII prefix repeated for every row, as an (n, len(text)) matrix."""
    return np.broadcast_to(np.frombuffer(text.encode(), dtype=np.uint8), (np.asarray(rows).size, len(text)))


def _events_frame(customers: pd.DataFrame, events: list) -> pd.DataFrame:
    if events:
        who = np.concatenate([e[0] for e in events])
        kind = np.concatenate([np.full(e[0].size, e[1]) for e in events])
        day = np.concatenate([e[2] for e in events]).astype(np.int64)
        amt = np.concatenate([e[3] for e in events]).astype(np.int64)
    else:
        who = kind = day = amt = np.zeros(0, dtype=np.int64)
    order = np.lexsort((kind, day, who))
    who, kind, day, amt = who[order], kind[order], day[order], amt[order]
    amount = pd.array(amt, dtype="Int64")
    amount[(amt <= 0) | np.isin(kind, (DISCONNECTION, RECONNECTION))] = pd.NA
    frame = pd.DataFrame({
        "customer_id": customers["customer_id"].to_numpy()[who],
        "kind": np.array(EVENT_KINDS, dtype=object)[kind],
        "occurred_on": _days_to_ns(day),
        "amount_fen": amount,
    })
    # the natural key downstream is (customer, kind, day)
    return frame.drop_duplicates(["customer_id", "kind", "occurred_on"], ignore_index=True)


# ---------------------------------------------------------------------------------------------- public API

def generate(*, customers: int = 5000, months: int = 24, seed: int = 7, as_of: datetime.date,
             tz: str = "Asia/Shanghai", chunk_size: int = 50_000) -> Iterator[DemoChunk]:
    """Yield the synthetic utility in chunks of at most chunk_size customers, with all their bills, payments, events."""
    if customers < 0 or months < 1 or chunk_size < 1:
        raise ValueError("customers must be >= 0, months and chunk_size >= 1")
    u = _universe(customers, months, seed, as_of, tz)
    for index, start in enumerate(range(0, customers, chunk_size)):
        yield _chunk(u, index, start, min(chunk_size, customers - start))


_CENTS = np.array([f".{i:02d}" for i in range(100)], dtype=_STR)


def _yuan(fen: np.ndarray) -> list[str]:
    """Integer fen as yuan decimal strings with two decimals, by integer division (never through float)."""
    fen = np.asarray(fen, dtype=np.int64)
    text = np.strings.add((np.abs(fen) // 100).astype(_STR), _CENTS[np.abs(fen) % 100])
    if (fen < 0).any():
        text = np.where(fen < 0, np.strings.add("-", text), text)
    return text.tolist()


def _optional_yuan(values: pd.Series) -> list[str]:
    missing = values.isna().to_numpy()
    text = np.array(_yuan(values.fillna(0).to_numpy(dtype=np.int64)), dtype=object)
    text[missing] = ""
    return text.tolist()


def _text(values: pd.Series) -> list[str]:
    """A text column for CSV: None becomes empty; fields holding a separator or a quote are quoted."""
    raw = values.to_numpy(dtype=object)
    missing = pd.isna(raw)
    if missing.any():
        raw = np.where(missing, "", raw)
    items = raw.tolist()
    joined = "\x00".join(items)  # one C-level scan instead of a check per field
    if "," in joined or '"' in joined or "\n" in joined or "\r" in joined:
        items = [f'"{x.replace(chr(34), chr(34) * 2)}"' if any(c in x for c in ',"\n\r') else x for x in items]
    return items


def _dates(values: pd.Series) -> list[str]:
    return values.to_numpy().astype("datetime64[D]").astype(_STR).tolist()


def _kwh(values: pd.Series) -> list[str]:
    kwh = values.to_numpy(dtype=np.float64)
    if np.all(kwh == np.rint(kwh)):
        return kwh.astype(np.int64).astype(_STR).tolist()
    return [repr(x) for x in kwh.tolist()]


def _timestamps(values: pd.Series, tz: str) -> list[str]:
    """ISO 8601 with the local offset, e.g. 2026-11-22T09:15:00+08:00."""
    utc = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[s]")
    local = values.dt.tz_convert(tz).dt.tz_localize(None).to_numpy().astype("datetime64[s]")
    offset = (local - utc).astype(np.int64)
    text = local.astype(_STR)
    if offset.size == 0:
        return []
    distinct, inverse = np.unique(offset, return_inverse=True)
    labels = np.array([f"{'-' if o < 0 else '+'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}" for o in distinct],
                      dtype=_STR)
    return np.strings.add(text, labels[inverse]).tolist()


def _lines(columns: list[list[str]]) -> str:
    if not columns[0]:
        return ""
    return "\n".join(map(",".join, zip(*columns, strict=True))) + "\n"


HEADERS = {
    "customers": "customer_id,name,customer_class,grid,id_number,registered_capital,opened_on,phone,area,line",
    "bills": "bill_id,customer_id,period,kwh,amount,issued_on,due_on",
    "payments": "payment_id,customer_id,channel,channel_account,channel_ref,amount,paid_at",
    "events": "customer_id,kind,occurred_on,amount",
}


def write_csv(chunks: Iterable[DemoChunk], directory: pathlib.Path, *,
              tz: str = "Asia/Shanghai") -> dict[str, pathlib.Path]:
    """Write customers.csv, bills.csv, payments.csv, events.csv in the import-file contract format; return the paths."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {kind: directory / f"{kind}.csv" for kind in HEADERS}
    files = {kind: path.open("w", encoding="utf-8", newline="") for kind, path in paths.items()}
    try:
        for kind, f in files.items():
            f.write(HEADERS[kind] + "\n")
        for chunk in chunks:
            c = chunk.customers
            files["customers"].write(_lines([
                _text(c["customer_id"]), _text(c["name"]), _text(c["customer_class"]), _text(c["grid"]),
                _text(c["id_number"]), _optional_yuan(c["registered_capital_fen"]), _dates(c["opened_on"]),
                _text(c["phone"]), _text(c.get("area", pd.Series(None, index=c.index, dtype=object))),
                _text(c.get("feeder", pd.Series(None, index=c.index, dtype=object)))]))
            b = chunk.bills
            files["bills"].write(_lines([
                _text(b["bill_id"]), _text(b["customer_id"]), _text(b["period"]), _kwh(b["kwh"]),
                _yuan(b["amount_fen"].to_numpy()), _dates(b["issued_on"]), _dates(b["due_on"])]))
            p = chunk.payments
            files["payments"].write(_lines([
                _text(p["payment_id"]), _text(p["customer_id"]), _text(p["channel"]), _text(p["channel_account"]),
                _text(p["channel_ref"]), _yuan(p["amount_fen"].to_numpy()), _timestamps(p["paid_at"], tz)]))
            e = chunk.events
            files["events"].write(_lines([
                _text(e["customer_id"]), _text(e["kind"]), _dates(e["occurred_on"]),
                _optional_yuan(e["amount_fen"])]))
    finally:
        for f in files.values():
            f.close()
    return paths
