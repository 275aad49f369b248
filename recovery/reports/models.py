"""Figures of the dashboard kept per grid by the nightly job `reports.dashboard`, so that a view over many
grids (a supervisor's million customers) sums a few hundred rows instead of every ledger entry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class GridFigure(db.Model):
    """One number pair of one figure for one grid as of a day: ageing (key = bucket: overdue, customers), trend
    (key = month YYYY-MM: due, collected), risk_band (key = pd band 0-9: customers) or risk_loss (key = rating:
    expected loss, customers)."""

    __tablename__ = "grid_figures"
    __table_args__ = (UniqueConstraint("as_of", "grid", "figure", "key"), Index("ix_grid_figures_as_of", "as_of"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    as_of: Mapped[dt.date]
    grid: Mapped[str] = mapped_column(String(32))
    figure: Mapped[str] = mapped_column(String(12))  # ageing | trend | risk_band | risk_loss
    key: Mapped[str] = mapped_column(String(12))
    first_fen: Mapped[int] = mapped_column(BigInteger)  # ageing: overdue amount; trend: due
    second: Mapped[int] = mapped_column(BigInteger)  # ageing: customers; trend: collected (fen)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
