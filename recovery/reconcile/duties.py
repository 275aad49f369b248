"""The channels whose daily duty is a comparison of totals rather than a statement of lines:

- each kiosk's cash counted at collection against its cash payments of the day (its bank-card part is
  matched line by line against the acquirer's statement, a channel CSV of the kiosk's account);
- each cashier's drawer: the cash counted at close against the float plus the cash taken; a drawer
  left open at the end of the day has no count at all;
- recharge cards per batch: the face value of the cards redeemed that day against the card payments
  the ledger holds for the batch;
- each card distributor: the cards it bought against what it paid (its remittances by the end of the day
  against its purchases up to `remittance_days` days before), so sold, redeemed and remitted all agree;
- each partner agent's remittances: by the end of the day, everything it took up to `remittance_days`
  days before must have been handed over (its live agent payments against its remittances, both
  cumulative, so a rerun of any day finds the same shortfall and a late remittance clears later days).

Each difference is a break of the kiosk's, cashier's or batch's channel account (`amount_mismatch`, or
`missing_in_statement` for a drawer never counted), with a reference naming the comparison and the
day (`CASH-2026-11-22`), so that a rerun finds the same break again. The figures come from the
channel code's per-day functions (recovery/payments/channels/kiosks.py, counter.py, cards.py).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recovery.payments.models import (
    Agent,
    CardSale,
    Channel,
    Distributor,
    DistributorRemittance,
    Payment,
    PaymentState,
    Remittance,
)
from recovery.timeutil import start_of_day

SEP = "\x1f"
DISTRIBUTOR = "distributor:"  # a distributor's card account, beside the batches' (CB1 …)
FIGURE_COLUMNS = ["account", "statement_total_fen", "statement_lines"]


def _breaks(account, kind, ref, statement, ledger, note) -> pd.DataFrame:
    n = len(account)
    return pd.DataFrame({
        "kind": np.asarray(kind if not isinstance(kind, str) else [kind] * n, dtype=object),
        "status": "open", "account": np.asarray(account, dtype=object),
        "line_id": pd.array([None] * n, dtype="Int64"), "payment_id": pd.array([None] * n, dtype="Int64"),
        "ref": ref, "customer": None,
        "statement_amount_fen": pd.array(np.asarray(statement, dtype=object), dtype="Int64"),
        "ledger_amount_fen": pd.array(np.asarray(ledger, dtype=object), dtype="Int64"),
        "match_id": pd.array([None] * n, dtype="Int64"), "note": note,
    })


def kiosk_breaks(session: Session, day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kiosks whose cash counted that day differs from their cash payments; and the counted figures."""
    from recovery.payments.channels.kiosks import kiosk_day

    k = kiosk_day(session, day)
    k = k[k["collections"] > 0]
    acct = ("kiosk" + SEP + k["kiosk_id"].astype(str)).to_numpy()
    figures = pd.DataFrame({"account": acct, "statement_total_fen": k["counted_fen"].to_numpy(),
                            "statement_lines": k["collections"].to_numpy()})
    off = k["cash_difference_fen"] != 0
    return _breaks(acct[off.to_numpy()], "amount_mismatch", f"CASH-{day.isoformat()}",
                   k.loc[off, "counted_fen"], k.loc[off, "cash_fen"],
                   "cash counted at collection against the kiosk's cash payments"), figures


def drawer_breaks(session: Session, day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drawers whose count differs from float + cash taken, or that were never closed and counted."""
    from recovery.payments.channels.counter import drawers_day

    d = drawers_day(session, day)
    acct = ("counter" + SEP + d["cashier"].astype(str)).to_numpy()
    counted = d["counted_fen"].notna().to_numpy()
    # The drawer's statement of takings is its count less the float it started with.
    takings = d.loc[counted, "counted_fen"].astype("int64") - d.loc[counted, "opening_float_fen"].astype("int64")
    figures = pd.DataFrame({"account": acct[counted], "statement_lines": 1,
                            "statement_total_fen": takings.to_numpy()})
    differs = counted & (d["difference_fen"].fillna(0) != 0).to_numpy()
    uncounted = ~counted
    kinds = np.where(differs, "amount_mismatch", "missing_in_statement")
    pick = differs | uncounted
    notes = np.where(differs[pick], "cash counted at close against the float plus the cash taken",
                     "the drawer was not closed and counted")
    return _breaks(acct[pick], kinds[pick], f"DRAWER-{day.isoformat()}", d.loc[pick, "counted_fen"],
                   d.loc[pick, "expected_cash_fen"], notes), figures


def card_breaks(session: Session, day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Batches whose cards redeemed that day (face value) differ from the ledger's card payments."""
    from recovery.payments.channels.cards import cards_day

    c = cards_day(session, day)
    redeemed = c.groupby("batch", as_index=False).agg(redeemed_fen=("redeemed_fen", "sum"),
                                                     redeemed_count=("redeemed_count", "sum"))
    start, end = start_of_day(day), start_of_day(day + dt.timedelta(days=1))
    ledger = pd.DataFrame(session.execute(
        select(Payment.channel_account, func.sum(Payment.amount_fen))
        .where(Payment.channel == Channel.card, Payment.paid_at >= start, Payment.paid_at < end,
               Payment.state != PaymentState.reversed).group_by(Payment.channel_account)).all(),
        columns=["batch", "ledger_fen"])
    # Whole fen on both sides (nullable, so that the outer join keeps integers); a batch missing on one side
    # counts 0 there.
    amounts = {"redeemed_fen": "Int64", "redeemed_count": "Int64"}
    both = redeemed.astype(amounts).merge(ledger.astype({"ledger_fen": "Int64"}), on="batch", how="outer").fillna(0)
    both = both[(both["redeemed_fen"] != 0) | (both["ledger_fen"] != 0)]
    acct = ("card" + SEP + both["batch"].astype(str)).to_numpy()
    figures = pd.DataFrame({"account": acct, "statement_total_fen": both["redeemed_fen"].astype("int64").to_numpy(),
                            "statement_lines": both["redeemed_count"].astype("int64").to_numpy()})
    off = (both["redeemed_fen"] != both["ledger_fen"]).to_numpy()
    return _breaks(acct[off], "amount_mismatch", f"CARDS-{day.isoformat()}", both.loc[off, "redeemed_fen"],
                   both.loc[off, "ledger_fen"], "face value of the cards redeemed against the batch's card payments"), \
        figures


def remittance_breaks(session: Session, day: dt.date, remittance_days: int) -> pd.DataFrame:
    """Agents whose remittances by the end of `day` fall short of their takings due for remittance by then.

    Not a statement of the day: the agent's run is not marked as reconciled by it, only its break is raised.
    """
    due_before = start_of_day(day - dt.timedelta(days=remittance_days - 1))
    taken = (select(Payment.channel_account.label("code"), func.sum(Payment.amount_fen).label("due_fen"))
             .where(Payment.channel == Channel.agent, Payment.paid_at < due_before,
                    Payment.state != PaymentState.reversed,
                    Payment.channel_account.in_(select(Agent.code)))  # registered agents owe remittances
             .group_by(Payment.channel_account))
    remitted = (select(Agent.code.label("code"), func.sum(Remittance.amount_fen).label("remitted_fen"))
                .join(Agent, Agent.id == Remittance.agent_id).where(Remittance.remitted_on <= day)
                .group_by(Agent.code))
    return _shortfalls(session, taken, remitted, "agent", day,
                       f"remitted by the day against the takings due for remittance ({remittance_days} day(s) after "
                       f"collection)")


def distributor_breaks(session: Session, day: dt.date, remittance_days: int) -> pd.DataFrame:
    """Distributors whose remittances by the end of `day` fall short of the cards sold to them until
    `remittance_days` days before (cumulative on both sides, like the agents')."""
    last_sale_day = day - dt.timedelta(days=remittance_days)
    bought = (select(Distributor.code.label("code"), func.sum(CardSale.amount_fen).label("due_fen"))
              .join(Distributor, Distributor.id == CardSale.distributor_id)
              .where(CardSale.sold_on <= last_sale_day).group_by(Distributor.code))
    paid = (select(Distributor.code.label("code"), func.sum(DistributorRemittance.amount_fen).label("remitted_fen"))
            .join(Distributor, Distributor.id == DistributorRemittance.distributor_id)
            .where(DistributorRemittance.remitted_on <= day).group_by(Distributor.code))
    return _shortfalls(session, bought, paid, "card", day,
                       f"paid by the day against the cards bought ({remittance_days} day(s) to pay)", DISTRIBUTOR)


def _shortfalls(session: Session, due, paid, channel: str, day: dt.date, note: str, prefix: str = "") -> pd.DataFrame:
    """Breaks where the cumulative amount paid (code, remitted_fen) falls short of what was due (code, due_fen);
    the account is the code with `prefix` (a distributor's account beside the card batches' accounts)."""
    owed = pd.DataFrame(session.execute(due).all(), columns=["code", "due_fen"])
    came = pd.DataFrame(session.execute(paid).all(), columns=["code", "remitted_fen"])
    both = owed.merge(came.astype({"remitted_fen": "int64"}), on="code", how="left")
    both = both.assign(due_fen=both["due_fen"].astype("int64"),
                       remitted_fen=both["remitted_fen"].fillna(0).astype("int64"))
    short = both[both["remitted_fen"] < both["due_fen"]]
    acct = (channel + SEP + prefix + short["code"].astype(str)).to_numpy()
    return _breaks(acct, "amount_mismatch", f"REMIT-{day.isoformat()}", short["remitted_fen"], short["due_fen"], note)


DUTIES = {"kiosk": kiosk_breaks, "counter": drawer_breaks, "card": card_breaks}


def duty_breaks(session: Session, day: dt.date, channel: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every totals comparison of the day (or of one channel): breaks, and the counted figures per account."""
    parts, figures = [], []
    for ch, duty in DUTIES.items():
        if channel and ch != channel:
            continue
        b, f = duty(session, day)
        parts.append(b)
        figures.append(f)
    breaks = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else \
        _breaks([], "amount_mismatch", None, [], [], None)
    figs = pd.concat(figures, ignore_index=True) if figures else pd.DataFrame(columns=FIGURE_COLUMNS)
    return breaks, figs


# What a channel account owes by the day rather than states for it: raised as breaks of the account, which
# leave its run's statement state alone.
OBLIGATIONS = {"agent": remittance_breaks, "card": distributor_breaks}


def obligation_breaks(session: Session, day: dt.date, remittance_days: int, channel: str | None = None) -> pd.DataFrame:
    """Every remittance owed by the end of the day (or one channel's) and not made: breaks."""
    parts = [owed(session, day, remittance_days) for ch, owed in OBLIGATIONS.items() if channel in (None, ch)]
    found = [p for p in parts if len(p)]
    return pd.concat(found, ignore_index=True) if found else _breaks([], "amount_mismatch", None, [], [], None)

