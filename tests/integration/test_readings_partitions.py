"""Readings by month: no reading is lost or stored twice by the partitioning, by converting a
table that already holds readings, or by a month's rollover; old raw readings go while the
hourly roll-ups stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select, text

from inventory import jobs
from inventory.clock import FixedClock
from inventory.db import make_engine, partitions, unit_of_work
from inventory.db.telemetry import Reading, ReadingRollup
from inventory.services import telemetry
from inventory.services.telemetry import IncomingReading, IngestBatch
from tests.integration.test_jobs import FRIDGE, PHARMACY_FRIDGE, add_device, add_readings, unit_of
from tests.integration.test_migrations import scratch_database_url  # noqa: F401  (fixture)
from tests.support.database import alembic_config


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def needs_postgres(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("monthly partitions are PostgreSQL's")


# ---------------------------------------------------------------- converting a filled table

FINGERPRINT = text(
    "SELECT count(*), md5(string_agg(concat_ws('|', id, device_id, storage_unit_id, "
    "extract(epoch FROM ts), c, extract(epoch FROM received_at)), ',' ORDER BY id)) FROM readings"
)


def fingerprint(url: str):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(FINGERPRINT).one()), partitions.is_partitioned(conn)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_converting_a_filled_readings_table_keeps_every_reading(scratch_database_url):  # noqa: F811
    needs_postgres(scratch_database_url)
    config = alembic_config(scratch_database_url)
    command.upgrade(config, "0006")
    engine = make_engine(scratch_database_url)
    with engine.begin() as conn:
        # three years of two loggers every 7 hours, a wrong-clocked one from 2001, and the
        # first of a month exactly at midnight
        conn.execute(
            text(
                "INSERT INTO readings (device_id, storage_unit_id, ts, c, received_at) "
                "SELECT 'logger-' || (g % 2), 1 + g % 2, "
                "timestamptz '2024-01-01 00:00:00+00' + g * interval '7 hours', "
                "(g % 97) / 10.0 - 2, timestamptz '2027-01-01 00:00:00+00' "
                "FROM generate_series(0, 3800) g"
            )
        )
        conn.execute(
            text(
                "INSERT INTO readings (device_id, storage_unit_id, ts, c, received_at) VALUES "
                "('logger-9', 3, '2001-01-01 00:00:00+00', 4.5, now()), "
                "('logger-9', 3, '2026-12-01 00:00:00+00', 4.6, now())"
            )
        )
    engine.dispose()
    before, was_partitioned = fingerprint(scratch_database_url)
    assert before[0] == 3803 and not was_partitioned

    command.upgrade(config, "head")
    assert fingerprint(scratch_database_url) == (before, True)
    engine = make_engine(scratch_database_url)
    with engine.begin() as conn:
        assert conn.scalar(text("SELECT count(*) FROM readings_default")) == 0
        assert conn.scalar(text("SELECT count(*) FROM readings_y2001m01")) == 1
        # the id sequence carries on after the copied rows
        new_id = conn.scalar(
            text(
                "INSERT INTO readings (device_id, storage_unit_id, ts, c, received_at) "
                "VALUES ('logger-1', 1, now(), 5, now()) RETURNING id"
            )
        )
        assert new_id > conn.scalar(
            text("SELECT max(id) FROM readings WHERE id <> :id"), {"id": new_id}
        )
        conn.execute(text("DELETE FROM readings WHERE id = :id"), {"id": new_id})
    engine.dispose()

    command.downgrade(config, "0006")
    assert fingerprint(scratch_database_url) == (before, False)
    command.upgrade(config, "head")
    assert fingerprint(scratch_database_url) == (before, True)


# ---------------------------------------------------------------- a month's rollover

NEW_YEAR = utc(2031, 1, 1)


def ingest(factory, now: datetime, readings: list[tuple[str, datetime, float]]):
    with unit_of_work(factory) as session:
        return telemetry.ingest(
            session,
            now,
            IngestBatch(readings=[IncomingReading(d, ts, c) for d, ts, c in readings]),
        )


def stored(factory) -> list[tuple[str, datetime, float]]:
    with unit_of_work(factory) as session:
        return sorted(session.execute(select(Reading.device_id, Reading.ts, Reading.c)).all())


def where_stored(factory) -> dict[str, int]:
    with unit_of_work(factory) as session:
        return dict(
            session.execute(
                text("SELECT tableoid::regclass::text, count(*) FROM readings GROUP BY 1")
            ).all()
        )


def forget_months(factory, *months: datetime) -> None:
    """Months made by an earlier run on the same database start again without a partition."""
    with unit_of_work(factory) as session:
        for month in months:
            if month in partitions.monthly_partitions(session.connection()):
                partitions.drop_month(session.connection(), month)


@pytest.mark.postgres
def test_readings_either_side_of_a_months_first_midnight_are_stored_once(seeded, database_url):
    needs_postgres(database_url)
    forget_months(seeded, NEW_YEAR, utc(2031, 2, 1))
    add_device(seeded, "logger-1", interval_s=120)
    add_device(seeded, "logger-2", unit=PHARMACY_FRIDGE, interval_s=120)
    before_midnight = NEW_YEAR - timedelta(minutes=10)
    # December has its partition; January has none yet (the scheduler made no month ahead)
    jobs.maintain_readings(seeded, FixedClock(before_midnight), months_ahead=0)
    minute = timedelta(minutes=1)
    times = [NEW_YEAR + n * 2 * minute for n in range(-3, 3)]  # 23:54 .. 00:04
    expected = {
        (d, ts, 5.0 + i / 10) for i, ts in enumerate(times) for d in ("logger-1", "logger-2")
    }
    readings = sorted(expected)

    # in order for one logger, out of order (a gateway's backlog, newest first) for the other
    first = ingest(seeded, NEW_YEAR + 5 * minute, [r for r in readings if r[0] == "logger-1"])
    second = ingest(
        seeded,
        NEW_YEAR + 5 * minute,
        sorted((r for r in readings if r[0] == "logger-2"), key=lambda r: r[1], reverse=True),
    )
    assert (first.stored, second.stored) == (6, 6)
    assert where_stored(seeded) == {"readings_y2030m12": 6, "readings_default": 6}

    # the month's partition is made after its first readings: they move into it
    upkeep = jobs.maintain_readings(seeded, FixedClock(NEW_YEAR + 6 * minute), months_ahead=1)
    assert upkeep.created == ["readings_y2031m01", "readings_y2031m02"]
    assert where_stored(seeded) == {"readings_y2030m12": 6, "readings_y2031m01": 6}

    # redelivered (QoS 1 after a lost ack), mixed with one new reading each side of midnight
    again = ingest(
        seeded,
        NEW_YEAR + 7 * minute,
        list(reversed(readings))
        + [("logger-1", NEW_YEAR - 7 * minute, 4.0), ("logger-1", NEW_YEAR + 7 * minute, 4.1)],
    )
    assert (again.stored, again.duplicates) == (2, 12)
    expected |= {("logger-1", NEW_YEAR - 7 * minute, 4.0), ("logger-1", NEW_YEAR + 7 * minute, 4.1)}
    assert set(stored(seeded)) == expected and len(stored(seeded)) == 14
    assert where_stored(seeded) == {"readings_y2030m12": 7, "readings_y2031m01": 7}

    # the scheduler running again changes nothing
    assert (
        jobs.maintain_readings(seeded, FixedClock(NEW_YEAR + 8 * minute), months_ahead=1).created
        == []
    )
    assert len(stored(seeded)) == 14


def test_the_upkeep_job_can_run_on_any_backend_and_again(seeded):
    clock = FixedClock(utc(2031, 3, 15, 12))
    first = jobs.maintain_readings(seeded, clock, months_ahead=2)
    again = jobs.maintain_readings(seeded, clock, months_ahead=2)
    assert again.created == [] and again.dropped == [] and again.deleted == 0
    with unit_of_work(seeded) as session:
        if partitions.is_partitioned(session.connection()):
            months = partitions.monthly_partitions(session.connection())
            assert {utc(2031, 3, 1), utc(2031, 4, 1), utc(2031, 5, 1)} <= set(months)
        else:
            assert first.created == []


# ---------------------------------------------------------------- retention


def add_rollups_until(factory, unit: str, last_hour: datetime) -> None:
    with unit_of_work(factory) as session:
        session.add(
            ReadingRollup(
                storage_unit_id=unit_of(session, unit).id, hour=last_hour, min_c=4, max_c=6, count=1
            )
        )


def test_raw_readings_older_than_the_retention_go_and_roll_ups_stay(seeded):
    now = utc(2031, 6, 15, 12)  # kept: from June 2026 on (60 months)
    with unit_of_work(seeded) as session:
        if partitions.is_partitioned(session.connection()):
            partitions.create_month(session.connection(), utc(2026, 4, 1))
    old = [(utc(2026, 4, 3, h), 5.0) for h in range(6)] + [(utc(2026, 5, 31, 23, 59), 5.5)]
    kept = [(utc(2026, 6, 1), 6.0), (utc(2026, 7, 1, 3), 4.0), (utc(2031, 6, 15, 9), 5.0)]
    add_readings(seeded, FRIDGE, old + kept)
    add_rollups_until(seeded, FRIDGE, utc(2026, 4, 3, 5))

    # the hours of May are not rolled up yet: those readings stay until they are
    first = jobs.maintain_readings(seeded, FixedClock(now), batch_size=3)
    assert sorted(ts for _, ts, _ in stored(seeded)) == [utc(2026, 5, 31, 23, 59)] + [
        t for t, _ in kept
    ]
    assert first.deleted + 6 * ("readings_y2026m04" in first.dropped) == 6

    add_rollups_until(seeded, FRIDGE, utc(2031, 6, 15, 9))
    jobs.maintain_readings(seeded, FixedClock(now), batch_size=3)
    assert sorted(ts for _, ts, _ in stored(seeded)) == [t for t, _ in kept]
    with unit_of_work(seeded) as session:
        assert session.scalar(select(func.count()).select_from(ReadingRollup)) == 2
        if partitions.is_partitioned(session.connection()):
            assert utc(2026, 4, 1) not in partitions.monthly_partitions(session.connection())
