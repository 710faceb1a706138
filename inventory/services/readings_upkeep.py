"""Readings kept within bounds: this month's partition of the readings and the next ones made
ahead (PostgreSQL), and raw readings let go once their month ended the retention ago and their
hours are rolled up (the hourly minimum and maximum stay for good). Work in many small units
of work, so no statement runs long; the scheduler's job runs it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from inventory.db import partitions, rows_changed, unit_of_work
from inventory.db.telemetry import Reading, ReadingRollup

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
PARTITIONS_AHEAD = 3
# raw readings are medicine-distribution records: kept at least five years by default
RETENTION_MONTHS = 60
RETENTION_BATCH = 10_000


@dataclass
class ReadingsUpkeep:
    created: list[str]
    dropped: list[str]
    deleted: int = 0


def maintain(
    factory: sessionmaker[Session],
    now: datetime,
    *,
    months_ahead: int = PARTITIONS_AHEAD,
    retention_months: int = RETENTION_MONTHS,
    batch_size: int = RETENTION_BATCH,
) -> ReadingsUpkeep:
    """Make this month's partition of the readings and `months_ahead` more (PostgreSQL),
    and let raw readings go once their month ended `retention_months` ago. A partitioned
    month goes as a whole (detach and drop), and only once its hours are rolled up: the
    hourly minimum and maximum stay for good. Elsewhere (SQLite, or readings left outside
    any monthly partition) old readings are deleted in batches of `batch_size`, one unit of
    work each, so no statement runs long."""
    this_month = partitions.month_start(now)
    keep_from = partitions.add_months(this_month, -max(retention_months, 1))
    upkeep = ReadingsUpkeep(created=[], dropped=[])
    with unit_of_work(factory) as session:
        partitioned = partitions.is_partitioned(session.connection())
    if partitioned:
        for n in range(months_ahead + 1):
            month = partitions.add_months(this_month, n)
            with unit_of_work(factory) as session:
                if partitions.create_month(session.connection(), month):
                    upkeep.created.append(partitions.partition_name(month))
        upkeep.dropped = _drop_old_months(factory, keep_from)
    upkeep.deleted = _delete_readings_before(factory, keep_from, batch_size)
    return upkeep


def _drop_old_months(factory: sessionmaker[Session], keep_from: datetime) -> list[str]:
    dropped = []
    with unit_of_work(factory) as session:
        months = partitions.monthly_partitions(session.connection())
        rolled_up_to = session.scalar(select(func.max(ReadingRollup.hour)))
    for month in months:
        end = partitions.add_months(month, 1)
        if end > keep_from:
            break
        name = partitions.partition_name(month)
        with unit_of_work(factory) as session:
            conn = session.connection()
            has_rows = conn.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {name})"))  # noqa: S608
            if has_rows and (rolled_up_to is None or rolled_up_to < end - HOUR):
                log.warning("readings of %s kept: their hours are not rolled up yet", name)
                break
            partitions.drop_month(conn, month)
        dropped.append(name)
    return dropped


def _delete_readings_before(
    factory: sessionmaker[Session], keep_from: datetime, batch_size: int
) -> int:
    deleted = 0
    while True:
        with unit_of_work(factory) as session:
            rolled_up_to = session.scalar(select(func.max(ReadingRollup.hour)))
            # never past what the roll-ups hold
            cut = min(keep_from, rolled_up_to + HOUR) if rolled_up_to is not None else None
            if cut is None:
                return deleted
            ids = select(Reading.id).where(Reading.ts < cut).limit(batch_size)
            count = rows_changed(
                session,
                delete(Reading)
                # the time here too, so PostgreSQL looks only in the partitions it can be in
                .where(Reading.ts < cut, Reading.id.in_(ids.scalar_subquery()))
                .execution_options(synchronize_session=False),
            )
        deleted += count
        if count < batch_size:
            return deleted
