"""The penalty rule, pure: bills, their allocations and the [penalty] section in, each bill's total out.

No database, no application: the business time zone and the rules are arguments, so `totals` runs the same in
the nightly accrual (recovery.billing.penalties, which loads the frames and posts the differences), a script
or a worker. The rule and its rounding are in that module's doc.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

PPM = 1_000_000  # rates are held as integer parts per million per day


class NoRate(ValueError):
    """A bill's customer class has no penalty rate in the rules."""


def days(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Days in [start, end], inclusive, 0 when the range is empty (datetime64[D] arrays)."""
    return np.maximum((end - start).astype("int64") + 1, 0)


def written_off(bills: pd.DataFrame, unpaid: pd.Series, write_offs: pd.DataFrame) -> pd.DataFrame:
    """The parts of unpaid bills that write-offs took off the account: each write-off covers the customer's
    unpaid bills due by its date, oldest first; a covered part stops accruing on the write-off's date.
    Returns bill_id, amount_fen, end (like a payment's part)."""
    empty = pd.DataFrame({"bill_id": pd.Series(dtype="int64"), "amount_fen": pd.Series(dtype="int64"),
                          "end": pd.Series(dtype="datetime64[s]")})
    if write_offs is None or write_offs.empty:
        return empty
    w = write_offs.astype({"customer_id": "int64", "amount_fen": "int64"})
    w = w.assign(end=pd.to_datetime(w["written_off_on"]), w_hi=w.groupby("customer_id")["amount_fen"].cumsum())
    w = w.assign(w_lo=w["w_hi"] - w["amount_fen"])
    last = w.groupby("customer_id")["end"].max()
    b = bills.assign(unpaid=unpaid.clip(lower=0).to_numpy(), due=pd.to_datetime(bills["due_on"]))
    b = b[(b["unpaid"] > 0) & b["customer_id"].isin(last.index)]
    b = b[b["due"] <= b["customer_id"].map(last)].sort_values(["customer_id", "due", "bill_id"])
    if b.empty:
        return empty
    b = b.assign(b_hi=b.groupby("customer_id")["unpaid"].cumsum())
    b = b.assign(b_lo=b["b_hi"] - b["unpaid"])
    pairs = b[["bill_id", "customer_id", "b_lo", "b_hi"]].merge(w[["customer_id", "w_lo", "w_hi", "end"]],
                                                                 on="customer_id")  # write-offs are few
    covered = (np.minimum(pairs["b_hi"], pairs["w_hi"]) - np.maximum(pairs["b_lo"], pairs["w_lo"])).clip(lower=0)
    pairs = pairs.assign(amount_fen=covered.astype("int64"))
    return pairs.loc[pairs["amount_fen"] > 0, ["bill_id", "amount_fen", "end"]].reset_index(drop=True)


def totals(bills: pd.DataFrame, allocations: pd.DataFrame, day: dt.date, rules: dict,
           write_offs: pd.DataFrame | None = None, stops: pd.DataFrame | None = None, *, tz: str) -> pd.DataFrame:
    """The penalty totals of `bills` as of `day` (frames in, frame out); allocations are paid on their day in
    the business time zone `tz`; `rules`: the loaded [penalty] section. A bill's part taken off by a
    write-off (`write_offs`: customer_id, amount_fen, written_off_on) accrues only to the write-off's date.
    `stops` (customer_id, start, end exclusive; a customer's periods never overlap) are days on which the
    customer's bills accrue nothing: a demolition or clearance site (recovery.buildings.clearance)."""
    if bills.empty:
        return pd.DataFrame({"bill_id": pd.Series(dtype="int64"), "customer_id": pd.Series(dtype="int64"),
                             "penalty_fen": pd.Series(dtype="int64")})
    bills = bills.astype({"bill_id": "int64", "customer_id": "int64", "amount_fen": "int64"})
    d = np.datetime64(day, "D")
    due = pd.to_datetime(bills["due_on"]).to_numpy(dtype="datetime64[D]")
    bills = bills.assign(
        start=due + np.timedelta64(rules["grace_days"] + 1, "D"),
        year=(bills["period"].str.slice(0, 4).astype("int64") if rules["year_of"] == "period"
              else pd.Series(due.astype("datetime64[Y]").astype("int64") + 1970, index=bills.index)),
    )

    # Parts of each bill: every allocation (paid on its local day), and what is still unpaid (to `day`).
    if allocations.empty:
        paid = pd.DataFrame({"bill_id": pd.Series(dtype="int64"), "amount_fen": pd.Series(dtype="int64"),
                             "end": pd.Series(dtype="datetime64[s]")})
    else:
        at = pd.to_datetime(allocations["allocated_at"], utc=True, format="ISO8601")
        local = at.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
        paid = pd.DataFrame({"bill_id": allocations["bill_id"].astype("int64"),
                             "amount_fen": allocations["amount_fen"].astype("int64"), "end": local})
    settled = paid.groupby("bill_id")["amount_fen"].sum()
    unpaid = bills["amount_fen"] - bills["bill_id"].map(settled).fillna(0).astype("int64")
    written = written_off(bills, unpaid, write_offs)
    unpaid = unpaid - bills["bill_id"].map(written.groupby("bill_id")["amount_fen"].sum()).fillna(0).astype("int64")
    rest = pd.DataFrame({"bill_id": bills["bill_id"], "amount_fen": unpaid.clip(lower=0),
                         "end": pd.Timestamp(day)})
    parts = pd.concat([p for p in (paid, written, rest.loc[rest["amount_fen"] > 0]) if len(p)] or [paid],
                      ignore_index=True)
    parts = parts.merge(bills[["bill_id", "customer_id", "start", "year"]], on="bill_id", how="inner")

    end = np.minimum(parts["end"].to_numpy(dtype="datetime64[D]"), d)
    start = parts["start"].to_numpy(dtype="datetime64[D]")
    years = parts["year"].to_numpy(dtype="int64")
    year_end = (years - 1970 + 1).astype("datetime64[Y]").astype("datetime64[D]") - np.timedelta64(1, "D")
    current_days = days(start, np.minimum(end, year_end))
    earlier_days = days(np.maximum(start, year_end + np.timedelta64(1, "D")), end)
    if stops is not None and len(stops):
        _take_off(parts, stops, start, end, year_end, current_days, earlier_days)
    amount = parts["amount_fen"].to_numpy(dtype="int64")
    fen_days = pd.DataFrame({"bill_id": parts["bill_id"], "current": amount * current_days,
                             "earlier": amount * earlier_days}).groupby("bill_id").sum()

    out = bills[["bill_id", "customer_id", "customer_class"]].join(fen_days, on="bill_id", how="inner")
    rates = rules["rates_ppm"]
    cur_rate = out["customer_class"].map({c: r[0] for c, r in rates.items()})
    old_rate = out["customer_class"].map({c: r[1] for c, r in rates.items()})
    if cur_rate.isna().any():
        unknown = sorted(set(out.loc[cur_rate.isna(), "customer_class"]))
        raise NoRate(f"no penalty rate for customer class(es) {unknown}")
    # Python integers for the product: fen-days times parts per million can pass 2^63 on huge arrears.
    numerator = (out["current"].astype(object) * cur_rate.astype("int64").astype(object)
                 + out["earlier"].astype(object) * old_rate.astype("int64").astype(object))
    total = (numerator + PPM // 2) // PPM
    total = total.where(~((numerator > 0) & (total < rules["minimum_fen"])), rules["minimum_fen"])
    out = out.assign(penalty_fen=total.astype("int64"))
    return out.loc[out["penalty_fen"] != 0, ["bill_id", "customer_id", "penalty_fen"]]


def _take_off(parts: pd.DataFrame, stops: pd.DataFrame, start: np.ndarray, end: np.ndarray, year_end: np.ndarray,
              current_days: np.ndarray, earlier_days: np.ndarray) -> None:
    """Subtract from each part's accruing days (in place, current year and earlier years apart) the days of
    its customer's `stops` that fall within the part's own days."""
    pairs = pd.DataFrame({"i": np.arange(len(parts)), "customer_id": parts["customer_id"].to_numpy()}).merge(
        stops, on="customer_id")
    if pairs.empty:
        return
    i = pairs["i"].to_numpy()
    first = np.maximum(start[i], pairs["start"].to_numpy(dtype="datetime64[D]"))
    last = np.minimum(end[i], pairs["end"].to_numpy(dtype="datetime64[D]") - np.timedelta64(1, "D"))
    np.subtract.at(current_days, i, days(first, np.minimum(last, year_end[i])))
    np.subtract.at(earlier_days, i, days(np.maximum(first, year_end[i] + np.timedelta64(1, "D")), last))
