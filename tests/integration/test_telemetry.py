"""Readings in, excursions, holds and alerts out, through the telemetry service."""

from __future__ import annotations

import random
from datetime import date, timedelta, timezone

import pytest
from sqlalchemy import func, select

from inventory.db import unit_of_work
from inventory.db.models import Carton
from inventory.db.telemetry import Alert, DeadLetter, Device, Excursion, Reading
from inventory.services import custody, devices, telemetry
from inventory.services.access import SYSTEM
from inventory.services.telemetry import IncomingReading, IngestBatch
from tests.conftest import T0

FRIDGE = "RH-VC-BELLA-F1"


@pytest.fixture
def fridge(seeded):
    """A centre fridge with a logger and a thawed carton of a 6-dose vaccine in it."""
    with unit_of_work(seeded) as session:
        devices.register_device(
            session, SYSTEM, T0, device_id="logger-1", storage_unit=FRIDGE, interval_s=600
        )
        carton = custody.receive(
            session,
            SYSTEM,
            T0 - timedelta(days=1),
            custody.ReceiptInput(
                storage_unit=FRIDGE,
                vials=10,
                state="thawed",
                product="comirnaty-grey-bivalent",
                lot="EX1",
                expiry=date(2027, 6, 30),
            ),
        )
        carton_id = carton.id
    return seeded, carton_id


def trace(temps, start=T0, step=timedelta(minutes=10)):
    return [IncomingReading("logger-1", start + i * step, c) for i, c in enumerate(temps)]


def ingest(factory, readings, now=None):
    with unit_of_work(factory) as session:
        return telemetry.ingest(
            session,
            now or (readings[-1].ts if readings else T0),
            IngestBatch(readings=list(readings)),
        )


def excursions(factory):
    with unit_of_work(factory) as session:
        return [
            (
                e.direction,
                e.started_at,
                e.ended_at,
                e.min_c,
                e.max_c,
                e.out_of_range_s,
                (e.rule or {}).get("name"),
            )
            for e in session.scalars(select(Excursion).order_by(Excursion.started_at))
        ]


# 2 h above 8 C: the cumulative heat rule (60 min within 24 h) fires
HOT_SPELL = [5.0, 5.2, 9.0, 9.5, 10.0, 10.2, 10.1, 9.8, 9.5, 9.0, 5.5, 5.1, 5.0]


def test_a_hot_spell_holds_the_stock_in_the_fridge_and_raises_one_alarm(fridge):
    factory, carton_id = fridge
    result = ingest(factory, trace(HOT_SPELL))
    assert result.stored == len(HOT_SPELL)
    assert result.holds == 1
    found = excursions(factory)
    assert len(found) == 1 and found[0][0] == "hot" and found[0][6] is not None
    with unit_of_work(factory) as session:
        carton = session.get(Carton, carton_id)
        assert carton.status == "held"
        assert carton.holds[0].excursion_id is not None
        assert carton.exposure_s == pytest.approx(80 * 60)
        assert carton.exposure_max_c == 10.2
        assert carton.room_temp_hours == pytest.approx(80 / 60)
        kinds = [a.kind for a in session.scalars(select(Alert).order_by(Alert.at, Alert.id))]
    assert kinds == ["excursion_started", "excursion_alarm", "excursion_ended"]


def test_the_same_readings_stored_twice_are_stored_once(fridge):
    factory, _ = fridge
    ingest(factory, trace(HOT_SPELL))
    again = ingest(factory, trace(HOT_SPELL))
    assert again.stored == 0 and again.duplicates == len(HOT_SPELL)
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count(Reading.id))) == len(HOT_SPELL)
        assert session.scalar(select(func.count(Alert.id))) == 3


def test_readings_stored_by_any_path_are_one_reading_per_device_and_time(fridge):
    # the hot path writes its rows itself: what it writes must be what the ORM writes and reads
    factory, _ = fridge
    odd_offset = timezone(timedelta(hours=2))
    with unit_of_work(factory) as session:
        unit_id = session.scalar(select(Device.storage_unit_id).where(Device.id == "logger-1"))
        session.add(
            Reading(
                device_id="logger-1",
                storage_unit_id=unit_id,
                ts=T0 + timedelta(microseconds=250),
                c=5.0,
                received_at=T0,
            )
        )
    again = ingest(
        factory,
        [
            IncomingReading(
                "logger-1", (T0 + timedelta(microseconds=250)).astimezone(odd_offset), 5.0
            ),
            IncomingReading("logger-1", T0 + timedelta(minutes=10), 5.1),
        ],
    )
    assert (again.stored, again.duplicates) == (1, 1)
    with unit_of_work(factory) as session:
        stored = session.execute(select(Reading.ts, Reading.c).order_by(Reading.ts)).all()
        heard = session.get(Device, "logger-1")
        assert heard.last_reading_at == T0 + timedelta(minutes=10)
    assert stored == [(T0 + timedelta(microseconds=250), 5.0), (T0 + timedelta(minutes=10), 5.1)]


@pytest.mark.parametrize("seed", range(1, 9))
def test_any_order_of_arrival_finds_the_same_excursions(fridge, seed):
    factory, _ = fridge
    readings = trace(HOT_SPELL + [5.0, 1.0, 0.4, 0.3, 5.0] + HOT_SPELL)
    live = list(readings)
    shuffled = list(readings)
    random.Random(seed).shuffle(shuffled)
    batches = [shuffled[i : i + 4] for i in range(0, len(shuffled), 4)]
    for batch in batches:
        ingest(factory, batch, now=readings[-1].ts)
    arrived_shuffled = excursions(factory)
    with unit_of_work(factory) as session:
        alarms_shuffled = session.scalar(
            select(func.count(Alert.id)).where(Alert.kind == "excursion_alarm")
        )
    from tests.support.database import empty_all_tables

    empty_all_tables(factory.kw["bind"])
    from inventory.services import seed as seeding

    with unit_of_work(factory) as session:
        seeding.load_catalogue(session)
        seeding.load_network(session)
        devices.register_device(
            session, SYSTEM, T0, device_id="logger-1", storage_unit=FRIDGE, interval_s=600
        )
    for reading in live:
        ingest(factory, [reading])
    assert excursions(factory) == arrived_shuffled
    with unit_of_work(factory) as session:
        assert (
            session.scalar(select(func.count(Alert.id)).where(Alert.kind == "excursion_alarm"))
            == alarms_shuffled
        )


def test_a_backlog_gives_alerts_in_reading_order_with_reading_times(fridge):
    factory, _ = fridge
    readings = trace(HOT_SPELL)
    ingest(factory, list(reversed(readings)), now=readings[-1].ts + timedelta(hours=1))
    with unit_of_work(factory) as session:
        rows = session.scalars(select(Alert).order_by(Alert.id)).all()
        assert [a.kind for a in rows] == ["excursion_started", "excursion_alarm", "excursion_ended"]
        assert rows[0].at == readings[2].ts
        assert [a.at for a in rows] == sorted(a.at for a in rows)


def test_readings_from_unknown_or_retired_devices_are_dead_letters(fridge):
    factory, _ = fridge
    with unit_of_work(factory) as session:
        devices.register_device(
            session, SYSTEM, T0, device_id="old", storage_unit="RH-VC-BELLA-F2", interval_s=600
        )
        devices.end_service(session, SYSTEM, T0, "old", "retired")
    result = ingest(
        factory,
        [
            IncomingReading("ghost", T0, 5.0),
            IncomingReading("old", T0, 5.0),
            IncomingReading("logger-1", T0, 5.0),
        ],
    )
    assert (result.stored, result.rejected) == (1, 2)
    with unit_of_work(factory) as session:
        reasons = sorted(session.scalars(select(DeadLetter.reason)))
    assert reasons == ["retired_device", "unknown_device"]


def test_a_lost_sensor_closes_its_open_excursion(fridge):
    factory, _ = fridge
    ingest(factory, trace([5.0, 9.0, 9.5]))
    assert excursions(factory)[0][2] is None
    with unit_of_work(factory) as session:
        devices.end_service(
            session, SYSTEM, T0 + timedelta(hours=5), "logger-1", "lost", "fell behind the fridge"
        )
        row = session.scalar(select(Excursion))
        assert row.ended_at is not None and "lost" in row.closed_reason
