"""Cold-chain telemetry as tables: devices and where they hang, readings, rejected payloads,
excursions, exposure per carton, alerts and the scheduler's lease."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .models import Site, StorageUnit

DEVICE_STATUSES = ("active", "retired", "lost")


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Mosquitto's own PBKDF2 format, so the broker's password file can be generated from it
    secret_hash: Mapped[str] = mapped_column(String(200))
    storage_unit_id: Mapped[int | None] = mapped_column(ForeignKey("storage_units.id"), index=True)
    interval_s: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    last_reading_at: Mapped[datetime | None]  # device time of its newest reading
    last_heard_at: Mapped[datetime | None]  # our time when we last heard from it
    battery: Mapped[float | None]
    connection: Mapped[str | None] = mapped_column(String(16))  # online / offline (its last will)
    storage_unit: Mapped[StorageUnit | None] = relationship()


class DeviceAttachment(Base):
    """Which device hung in which storage unit when: a swapped sensor keeps the unit's
    timeline whole."""

    __tablename__ = "device_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_units.id"), index=True)
    attached_at: Mapped[datetime]
    detached_at: Mapped[datetime | None]


class Reading(Base):
    """One temperature reading at device time; stored once per device and time.

    On PostgreSQL the table is partitioned by month of `ts` (migration 0007, and
    `inventory.db.partitions`); its primary key there is (id, ts), as every unique key of a
    partitioned table must hold the partition key. The dedupe key (device_id, ts) holds it."""

    __tablename__ = "readings"
    __table_args__ = (
        UniqueConstraint("device_id", "ts", name="uq_readings_device_ts"),
        Index("ix_readings_unit_ts", "storage_unit_id", "ts"),
        {"postgresql_partition_by": "RANGE (ts)"},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    storage_unit_id: Mapped[int] = mapped_column(Integer)
    ts: Mapped[datetime]
    c: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime]


class ReadingRollup(Base):
    """Minimum and maximum per unit and hour: long charts never average an excursion away."""

    __tablename__ = "reading_rollups"
    __table_args__ = (
        UniqueConstraint("storage_unit_id", "hour", name="uq_reading_rollups_unit_hour"),
        # a long chart's hours from the index alone (migration 0011)
        Index(
            "ix_reading_rollups_unit_hour_chart",
            "storage_unit_id",
            "hour",
            postgresql_include=["min_c", "max_c", "count"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_unit_id: Mapped[int] = mapped_column(Integer, index=True)
    hour: Mapped[datetime]
    min_c: Mapped[float] = mapped_column(Float)
    max_c: Mapped[float] = mapped_column(Float)
    count: Mapped[int]


class DeadLetter(Base):
    """A payload, or one reading of it, that could not be stored: kept with the reason."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    topic: Mapped[str] = mapped_column(String(300))
    device_id: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)


class UnitEvaluation(Base):
    """The excursion evaluator's state per storage unit, so live readings are fed on, not
    replayed."""

    __tablename__ = "unit_evaluations"

    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_units.id"), primary_key=True)
    snapshot: Mapped[dict]
    last_ts: Mapped[datetime | None]
    # rows are locked (FOR UPDATE) while a batch advances them, then written in bulk
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class Excursion(Base):
    __tablename__ = "excursions"
    __table_args__ = (
        UniqueConstraint(
            "storage_unit_id", "direction", "started_at", name="uq_excursions_unit_direction_start"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_units.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    min_c: Mapped[float] = mapped_column(Float)
    max_c: Mapped[float] = mapped_column(Float)
    out_of_range_s: Mapped[float] = mapped_column(Float)
    rule: Mapped[dict | None]  # a copy of the rule that fired, as it was then
    fired_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(
        Text
    )  # set when closed other than by a reading
    storage_unit: Mapped[StorageUnit] = relationship()
    site: Mapped[Site] = relationship()


class CartonExposure(Base):
    """What one excursion did to one carton: applied once, updated as the excursion grows."""

    __tablename__ = "carton_exposures"
    __table_args__ = (
        UniqueConstraint("carton_id", "excursion_id", name="uq_carton_exposures_carton_excursion"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    carton_id: Mapped[int] = mapped_column(ForeignKey("cartons.id"), index=True)
    excursion_id: Mapped[int] = mapped_column(ForeignKey("excursions.id"), index=True)
    out_of_range_s: Mapped[float] = mapped_column(Float)
    hot_s: Mapped[float] = mapped_column(Float)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("excursion_id", "kind", name="uq_alerts_excursion_kind"),
        Index("ix_alerts_site_state", "site_id", "state"),
        Index("ix_alerts_kind_state", "kind", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(32)
    )  # excursion_started, excursion_alarm, excursion_ended, device_silent, battery_low
    severity: Mapped[str] = mapped_column(String(16))  # info, warning, alarm
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    storage_unit_id: Mapped[int | None] = mapped_column(ForeignKey("storage_units.id"))
    device_id: Mapped[str | None] = mapped_column(String(64))
    excursion_id: Mapped[int | None] = mapped_column(ForeignKey("excursions.id"))
    at: Mapped[datetime]  # when it happened: the reading's (device) time
    created_at: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None]
    state: Mapped[str] = mapped_column(String(16))  # open, acknowledged, resolved
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    ack_comment: Mapped[str | None] = mapped_column(Text)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None]
    # delivery: MQTT to the site's displays and a webhook, both retried until done
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    webhook_delivered_at: Mapped[datetime | None]
    webhook_attempts: Mapped[int] = mapped_column(Integer, default=0)
    webhook_next_at: Mapped[datetime | None]
    webhook_error: Mapped[str | None] = mapped_column(Text)
    site: Mapped[Site] = relationship()
    storage_unit: Mapped[StorageUnit | None] = relationship()


class Lease(Base):
    """A named lease that one process holds at a time (the scheduler), renewed while alive."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
