"""Agents' and distributors' terms: the commission kept for a closed month, and the areas distributors serve."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import UTCDateTime


class AgentCommission(db.Model):
    """An agent's commission for a closed month: what it collected, the rate in force, what the utility owes it."""

    __tablename__ = "agent_commissions"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True, autoincrement=False)
    payments: Mapped[int]
    collected_fen: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[str] = mapped_column(String(12))  # the decimal rate, as the policy wrote it
    commission_fen: Mapped[int] = mapped_column(BigInteger)
    closed_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class DistributorArea(db.Model):
    """A grid a card distributor serves (its area)."""

    __tablename__ = "distributor_areas"

    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributors.id"), primary_key=True, autoincrement=False)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), primary_key=True, autoincrement=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
