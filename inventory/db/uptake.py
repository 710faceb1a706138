"""Uptake as tables: one row per administration with the person's target group and the
municipality of the site (nothing about the person), the population denominators, and the
programme's goals."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType


class Administration(Base):
    """Doses given at a site to people of one target group, as one custody event recorded.
    ``day`` is the local (Copenhagen) day; municipality and region are the site's then."""

    __tablename__ = "administrations"
    __table_args__ = (
        Index("ix_administrations_day_municipality", "day", "municipality_code"),
        Index("ix_administrations_region_day", "region", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    custody_event_id: Mapped[int] = mapped_column(ForeignKey("custody_events.id"), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    at: Mapped[datetime]
    day: Mapped[date] = mapped_column(Date)
    region: Mapped[str] = mapped_column(String(64))
    municipality_code: Mapped[str | None] = mapped_column(String(4))
    target_group: Mapped[str] = mapped_column(String(32))
    doses: Mapped[int]


class Population(Base):
    """People living in a municipality in one population band (Statistics Denmark)."""

    __tablename__ = "population"

    municipality_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    band: Mapped[str] = mapped_column(String(16), primary_key=True)
    population: Mapped[int]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(128))


class UptakeGoal(Base):
    """A goal of the programme: ``target`` of the population in ``population`` bands, counting
    the administrations of ``groups``."""

    __tablename__ = "uptake_goals"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    groups: Mapped[list] = mapped_column(JSONType)
    population: Mapped[list] = mapped_column(JSONType)
    target: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(128))
