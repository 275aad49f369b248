"""The risk engine reads security held and the credit domain's ratings as they stood on each date."""

from __future__ import annotations

import datetime as dt

from recovery.credit.security import deposits, guarantees
from recovery.risk.frames import load_frames
from scoring.features import account_positions
from tests.credit.security_helpers import cust, one_customer, rate


def test_deposits_and_guarantees_count_from_their_dates_and_ratings_by_rated_on(app, session, recovery, tmp_path):
    one_customer(recovery, tmp_path, "C1", amounts=["3000.00"] * 3)
    c1 = cust("C1")
    deposits.receive(session, c1, amount_fen=200_000, reference="R1", received_by="li",
                     received_on=dt.date(2026, 6, 1))
    guarantees.register(session, c1, kind="bank_guarantee", guarantor="工商银行", reference="BG-1",
                        amount_fen=500_000, valid_from=dt.date(2026, 7, 1), valid_until=dt.date(2026, 9, 30),
                        created_by="li")
    rate(c1.id, "C", on=dt.date(2026, 8, 1))
    session.commit()

    frames = load_frames(session)
    held = {day: account_positions(frames, day).loc["C1", ["deposit_fen", "guarantee_fen"]].tolist()
            for day in (dt.date(2026, 5, 31), dt.date(2026, 6, 1), dt.date(2026, 8, 15), dt.date(2026, 10, 1))}
    assert held == {dt.date(2026, 5, 31): [0, 0], dt.date(2026, 6, 1): [200_000, 0],
                    dt.date(2026, 8, 15): [200_000, 500_000], dt.date(2026, 10, 1): [200_000, 0]}
    assert frames.rating[["customer_id", "grade", "points"]].values.tolist() == [["C1", "C", 50]]
    assert frames.rating["rated_on"].iloc[0] == dt.datetime(2026, 8, 1)
