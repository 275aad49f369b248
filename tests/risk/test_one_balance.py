"""One balance everywhere: the amount a risk reason gives is the customer page's, penalties and write-offs included."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
from sqlalchemy import select

from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.timeutil import today
from scoring import ArrearsModel
from scoring.features import FEATURES
from tests.web.data import load_district
from tests.web.test_pages import page, sign_in


def _balance_only_model(threshold_fen: int) -> ArrearsModel:
    """A model whose risk rises with the balance alone, so its first reason is the balance."""
    rng = np.random.default_rng(0)
    balance = rng.uniform(0, 4 * threshold_fen, 2000)
    X = pd.DataFrame(0.0, index=range(2000), columns=list(FEATURES)).assign(balance_fen=balance)
    y = (balance > threshold_fen).astype(int)
    return ArrearsModel(n_estimators=20, early_stopping_rounds=None, subsample=1.0, colsample_bytree=1.0,
                        calibration=None).fit(X, y)


def test_the_balance_in_a_reason_is_the_customer_page_balance_with_penalties_and_write_offs(
        recovery, app, client, tmp_path):
    app.config["MODELS_DIR"] = str(tmp_path / "models")
    load_district(recovery, tmp_path)
    c1 = db.session.scalar(select(Customer).where(Customer.code == "C1"))
    b2 = db.session.scalar(select(Bill).where(Bill.code == "B1-02"))
    # owed: the 1,234.56 bill, plus a 12.34 penalty, less 200.00 written off: 1,046.90
    db.session.add(LedgerEntry(customer_id=c1.id, kind=EntryKind.penalty, amount_fen=1234, bill_id=b2.id,
                               effective_on=today() - dt.timedelta(days=3), note="late-payment penalty"))
    db.session.add(LedgerEntry(customer_id=c1.id, kind=EntryKind.write_off, amount_fen=-20000, bill_id=b2.id,
                               effective_on=today() - dt.timedelta(days=2), note="written off"))
    db.session.commit()
    _balance_only_model(50_000).save(tmp_path / "models" / "v1")
    (tmp_path / "models" / "ACTIVE").write_text("v1")

    scored = recovery("model", "score", "--as-of", today().isoformat(), "--out", tmp_path / "scores.csv")
    assert scored.exit_code == 0, scored.output
    scores = pd.read_csv(tmp_path / "scores.csv", dtype=str, keep_default_na=False).set_index("customer_id")
    reason = re.search(r"账户欠款（含违约金）([\d,.]+)元", scores.loc["C1", "reasons"])
    assert reason is not None, scores.loc["C1", "reasons"]
    assert reason.group(1) == "1,046.90"

    sign_in(client, "li")
    html = page(client, "/customers/C1")
    shown = re.search(r'data-field="balance">([^<]+)<', html).group(1)
    assert shown == reason.group(1)
