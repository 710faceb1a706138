"""Doses meet appointments as tables: booked appointments (a booking reference, never a
person), per-site planning settings, programme-wide settings, stored allocation plans with the
draft shipments they became, region plans (one plan per hospital pharmacy of a region), and
thaw tasks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType
from .models import Carton, Product, Shipment, Site

APPOINTMENT_STATUSES = ("booked", "cancelled")
PLAN_STATUSES = ("proposed", "approved", "superseded")
REGION_PLAN_STATUSES = PLAN_STATUSES
THAW_TASK_STATUSES = ("open", "done", "cancelled")


class Appointment(Base):
    """One booked time slot, as the booking system knows it: its reference, where, when,
    which product and which target group. No personal data."""

    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_site_day", "site_id", "day", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    day: Mapped[date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(5))  # "09:20", local time
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    status: Mapped[str] = mapped_column(String(16))
    target_group: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    site: Mapped[Site] = relationship()
    product: Mapped[Product] = relationship()


class SitePlanning(Base):
    """What a site tells the planner beyond its stock and bookings. Values the history can
    teach (no-show rate, walk-ins) are used when there is no history."""

    __tablename__ = "site_planning"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    no_show_rate: Mapped[float] = mapped_column(Float, default=0.07)
    # {"mon": {"<product code>": 3.0}, ...}: expected walk-ins per weekday and product
    walk_ins: Mapped[dict] = mapped_column(JSONType, default=dict)
    # weekdays the site takes deliveries (0 = Monday); None: every day
    delivery_days: Mapped[list | None] = mapped_column(JSONType)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(128))
    site: Mapped[Site] = relationship()


class PlanningSetting(Base):
    """Programme-wide planning settings by name (e.g. the priority order of target groups)."""

    __tablename__ = "planning_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list] = mapped_column(JSONType)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(128))


class RegionPlan(Base):
    """Plans for every hospital pharmacy of a region over one horizon, made together: each
    pharmacy's plan is an ordinary ``Plan`` that points here. Approving the region plan
    approves each of them; a later approved region plan of the same region supersedes it.
    Its totals are the sums of its pharmacies' plans, never stored twice."""

    __tablename__ = "region_plans"
    __table_args__ = (Index("ix_region_plans_region_status", "region", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(64))
    start: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(128))
    superseded_at: Mapped[datetime | None]
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("region_plans.id"))
    plans: Mapped[list[Plan]] = relationship(back_populates="region_plan", order_by="Plan.id")


class Plan(Base):
    """An allocation plan for a hospital pharmacy and a horizon, as the planner returned it.
    Approval turns it into draft shipments and thaw tasks; a newer approved plan for the same
    pharmacy supersedes it (its shipments that are still drafts are withdrawn). A plan made as
    part of a region plan names it."""

    __tablename__ = "plans"
    __table_args__ = (Index("ix_plans_pharmacy_status", "pharmacy_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    start: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    solver_status: Mapped[str] = mapped_column(String(32))
    # the plan itself: shipments, thaws, unmet appointments, fill-the-vial offers, waste
    result: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(128))
    superseded_at: Mapped[datetime | None]
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    region_plan_id: Mapped[int | None] = mapped_column(ForeignKey("region_plans.id"), index=True)
    pharmacy: Mapped[Site] = relationship(foreign_keys=[pharmacy_id])
    region_plan: Mapped[RegionPlan | None] = relationship(back_populates="plans")
    shipment_links: Mapped[list[PlanShipment]] = relationship(
        back_populates="plan", order_by="PlanShipment.id", cascade="all, delete-orphan"
    )
    thaw_tasks: Mapped[list[ThawTask]] = relationship(back_populates="plan", order_by="ThawTask.id")


class PlanShipment(Base):
    """A draft shipment an approved plan made, and the day it is to be delivered."""

    __tablename__ = "plan_shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    day: Mapped[date] = mapped_column(Date)
    # withdrawn: the draft was deleted when a newer plan superseded this one
    withdrawn_at: Mapped[datetime | None]
    plan: Mapped[Plan] = relationship(back_populates="shipment_links")
    shipment: Mapped[Shipment | None] = relationship()
    site: Mapped[Site] = relationship()


class ThawTask(Base):
    """Take ``vials`` of a frozen carton out of the freezer on ``day`` (pharmacy work)."""

    __tablename__ = "thaw_tasks"
    __table_args__ = (
        UniqueConstraint("plan_id", "carton_id", "day", name="uq_thaw_tasks_plan_carton_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    carton_id: Mapped[int] = mapped_column(ForeignKey("cartons.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    vials: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(128))
    plan: Mapped[Plan] = relationship(back_populates="thaw_tasks")
    carton: Mapped[Carton] = relationship()
    site: Mapped[Site] = relationship()
