"""What complaints cost an officer in the monthly assessment (考核): points off the score the measures earn.

Per officer and period (a month, or a quarter for the yearly blend):
- complaints_upheld: complaints upheld against the officer (Dispute.against_officer) and resolved in the
  period, each [disputes] upheld_against_points off (5 by default);
- complaints_late: complaints the officer owned whose deadline fell in the period and that were not answered
  by it (answered late, or still open once the deadline has passed), each late_points off (2 by default);
the total capped at max_points (20). The score never goes below 0; an officer with nothing measured keeps no
score, whatever the complaints.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from recovery import bulk, policy
from recovery.disputes.models import Dispute, DisputeStatus
from recovery.timeutil import now, start_of_day

COLUMNS = ["complaints_upheld", "complaints_late", "complaint_points"]


def counts(session: Session, start: dt.date, end: dt.date, at: dt.datetime | None = None) -> pd.DataFrame:
    """Per officer username (index): complaints_upheld and complaints_late over [start, end] (one query)."""
    first, after = start_of_day(start), start_of_day(end + dt.timedelta(days=1))
    at = at or now()
    upheld = (select(Dispute.against_officer.label("officer"), func.count().label("upheld"), literal(0).label("late"))
              .where(Dispute.status == DisputeStatus.upheld, Dispute.against_officer.is_not(None),
                     Dispute.resolved_at >= first, Dispute.resolved_at < after)
              .group_by(Dispute.against_officer))
    # Not answered by the deadline: answered after it, or still open once it has passed.
    late = (select(Dispute.owner, literal(0), func.count())
            .where(Dispute.due_at >= first, Dispute.due_at < after, Dispute.due_at < at,
                   or_(Dispute.resolved_at.is_(None), Dispute.resolved_at > Dispute.due_at))
            .group_by(Dispute.owner))
    both = union_all(upheld, late).subquery("complaints")
    frame = bulk.read_frame(session, select(both.c.officer, func.sum(both.c.upheld).label("complaints_upheld"),
                                            func.sum(both.c.late).label("complaints_late"))
                            .group_by(both.c.officer))
    return frame.set_index("officer").astype("int64") if not frame.empty else pd.DataFrame(
        columns=COLUMNS[:2], dtype="int64")


def deduct(session: Session, table: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The officers' table (index: username) with the complaints, the points they cost and the score less them."""
    rules = policy.section("disputes")
    found = counts(session, start, end).reindex(table.index, fill_value=0)
    out = table.copy()
    out["complaints_upheld"] = found["complaints_upheld"].astype("int64")
    out["complaints_late"] = found["complaints_late"].astype("int64")
    points = (out["complaints_upheld"] * rules["upheld_against_points"]
              + out["complaints_late"] * rules["late_points"]).clip(upper=rules["max_points"]).astype("float64")
    out["complaint_points"] = -points
    score = out["score"].astype("float64")
    out["score"] = pd.Series(np.where(score.isna(), np.nan, (score - points).clip(lower=0)), index=out.index).round(2)
    return out


def against_partners(session: Session, channel: str, start: dt.date, end: dt.date) -> list[tuple[str, int]]:
    """A complaints source of recovery.assessment.complaints: (partner code, complaints) for the complaints
    raised in [start, end] about the partners of `channel` ("agent", or "card" for distributors), those
    rejected left out: a complaint found groundless costs the partner nothing."""
    first, after = start_of_day(start), start_of_day(end + dt.timedelta(days=1))
    rows = session.execute(
        select(Dispute.against_account, func.count())
        .where(Dispute.against_channel == channel, Dispute.registered_at >= first, Dispute.registered_at < after,
               Dispute.status != DisputeStatus.rejected)
        .group_by(Dispute.against_account)).all()
    return [(code, int(n)) for code, n in rows]
