"""The telemetry API: devices, readings with roll-ups, time in range, excursions, alerts,
and stock held by an excursion."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory.db import unit_of_work
from inventory.db.models import StorageUnit
from inventory.db.telemetry import UnitEvaluation
from inventory.presentation import iso
from inventory.services import monitoring, telemetry
from inventory.services.telemetry import IncomingReading, IngestBatch
from tests.conftest import T0

FRIDGE = "RH-VC-BELLA-F1"
HOT_SPELL = [5.0, 5.2, 9.0, 9.5, 10.0, 10.2, 10.1, 9.8, 9.5, 9.0, 5.5, 5.1, 5.0]


@pytest.fixture
def admin(token):
    return token("admin")


def register(client, admin, device_id="logger-1", unit=FRIDGE, interval_s=600):
    response = client.post(
        "/api/v1/devices",
        headers=admin,
        json={"id": device_id, "storage_unit": unit, "interval_s": interval_s},
    )
    assert response.status_code == 201, response.json
    return response.json


def send(factory, temps, start=T0, device="logger-1", step=timedelta(minutes=10)):
    readings = [IncomingReading(device, start + i * step, c) for i, c in enumerate(temps)]
    with unit_of_work(factory) as session:
        return telemetry.ingest(session, readings[-1].ts, IngestBatch(readings=readings))


def receive_carton(client, headers, unit=FRIDGE):
    response = client.post(
        "/api/v1/receipts",
        headers=headers,
        json={
            "storage_unit": unit,
            "vials": 5,
            "state": "thawed",
            "product": "vaxigriptetra",
            "lot": "FLU1",
            "expiry": "2027-06-30",
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def test_a_device_secret_is_shown_once(client, seeded, admin):
    created = register(client, admin)
    assert len(created["secret"]) >= 20
    listed = client.get("/api/v1/devices", headers=admin).json
    assert [d["id"] for d in listed] == ["logger-1"] and "secret" not in listed[0]


def test_only_admins_register_devices(client, seeded, token):
    response = client.post(
        "/api/v1/devices",
        headers=token("pharmacist", site="RH-APO"),
        json={"id": "x1", "storage_unit": FRIDGE},
    )
    assert response.status_code == 403


def test_an_excursion_holds_the_carton_and_shows_on_it(client, seeded, admin):
    register(client, admin)
    carton = receive_carton(client, admin)
    send(seeded, HOT_SPELL)
    excursions = client.get(f"/api/v1/excursions?storage_unit={FRIDGE}", headers=admin).json
    assert len(excursions) == 1 and excursions[0]["rule"]["name"] and excursions[0]["open"] is False
    held = client.get(f"/api/v1/cartons/{carton['id']}", headers=admin).json
    assert held["status"] == "held"
    assert held["hold"]["excursion"] == excursions[0]["id"]
    assert held["exposure"]["max_c"] == 10.2
    released = client.post(
        f"/api/v1/cartons/{carton['id']}/release",
        headers=admin,
        json={"reason": "manufacturer: stable for 24 h at 25 C"},
    )
    assert released.status_code == 200 and released.json["status"] == "available"


def test_alerts_are_listed_and_acknowledged_with_a_comment(client, seeded, admin, token):
    register(client, admin)
    send(seeded, HOT_SPELL)
    alerts = client.get("/api/v1/alerts?site=RH-VC-BELLA", headers=admin).json
    assert sorted(a["kind"] for a in alerts) == [
        "excursion_alarm",
        "excursion_ended",
        "excursion_started",
    ]
    alarm = next(a for a in alerts if a["kind"] == "excursion_alarm")
    manager = token("centre_manager", site="RH-VC-BELLA")
    assert (
        client.post(f"/api/v1/alerts/{alarm['id']}/ack", headers=manager, json={}).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/alerts/{alarm['id']}/ack", headers=token("auditor"), json={"comment": "seen"}
        ).status_code
        == 403
    )
    other = token("centre_manager", site="RS-APO")
    assert (
        client.post(
            f"/api/v1/alerts/{alarm['id']}/ack", headers=other, json={"comment": "seen"}
        ).status_code
        == 404
    )
    acked = client.post(
        f"/api/v1/alerts/{alarm['id']}/ack",
        headers=manager,
        json={"comment": "door closed, stock moved"},
    )
    assert acked.status_code == 200 and acked.json["state"] == "acknowledged"
    assert client.get("/api/v1/alerts?site=RH-VC-BELLA&state=open", headers=admin).json == []


def test_short_ranges_give_raw_readings_long_ranges_min_max_buckets(client, seeded, admin):
    register(client, admin)
    send(seeded, HOT_SPELL)
    raw = client.get(
        f"/api/v1/storage-units/{FRIDGE}/readings?from=2026-11-21T09:00:00Z&to=2026-11-21T13:00:00Z",
        headers=admin,
    ).json
    assert raw["resolution"] == "raw" and len(raw["readings"]) == len(HOT_SPELL)
    long = client.get(
        f"/api/v1/storage-units/{FRIDGE}/readings?from=2026-11-01T00:00:00Z&to=2026-11-22T00:00:00Z",
        headers=admin,
    ).json
    assert long["buckets"] and max(b["max_c"] for b in long["buckets"]) == 10.2
    assert min(b["min_c"] for b in long["buckets"]) == 5.0


def test_raw_readings_carry_their_times_as_iso_text_like_every_answer(client, seeded, admin):
    register(client, admin)
    # whole seconds, a fraction, a thousandth, the last microsecond before midnight
    step = [timedelta(0), timedelta(microseconds=250_000), timedelta(microseconds=1_000)]
    times = [T0 + timedelta(minutes=i) + extra for i, extra in enumerate(step)]
    times.append(T0.replace(hour=23, minute=59, second=59, microsecond=999_999))
    for at in times:
        send(seeded, [5.0], start=at)

    raw = client.get(
        f"/api/v1/storage-units/{FRIDGE}/readings?from=2026-11-21T09:00:00Z&to=2026-11-22T09:00:00Z",
        headers=admin,
    ).json

    assert [r["ts"] for r in raw["readings"]] == [iso(at) for at in times]
    assert raw["readings"][0]["ts"] == "2026-11-21T10:00:00Z"
    assert raw["readings"][1]["ts"] == "2026-11-21T10:01:00.250000Z"


def test_raw_readings_are_the_json_the_encoder_would_write(client, seeded, admin):
    """The database writes the list of readings; its text must be what json writes, floats
    of every kind included (PostgreSQL writes 5 for 5.0, SQLite 15 digits of 5.837...)."""
    register(client, admin)
    temps = [5.0, -0.5, 5.837362849284739, 0.30000000000000004, 1e-07, -12.0, 8.25]
    send(seeded, temps, step=timedelta(minutes=2))
    path = f"/api/v1/storage-units/{FRIDGE}/readings"

    answer = client.get(f"{path}?from=2026-11-21T09:00:00Z&to=2026-11-21T11:00:00Z", headers=admin)

    readings = answer.json["readings"]
    assert [r["c"] for r in readings] == temps
    assert all(type(r["c"]) is float for r in readings)
    written = answer.get_data(as_text=True)
    listed = written[written.index('"readings":') + len('"readings":') : written.rindex("]") + 1]
    assert listed == json.dumps(readings, separators=(",", ":"), sort_keys=True)
    empty = client.get(f"{path}?from=2026-11-20T09:00:00Z&to=2026-11-20T11:00:00Z", headers=admin)
    assert empty.status_code == 200 and empty.json["readings"] == []


def test_time_in_range_over_a_period(client, seeded, admin):
    register(client, admin)
    send(seeded, [5.0] * 6 + [9.0] * 3 + [5.0] * 3)  # 12 readings every 10 min: 30 min above
    result = client.get(
        f"/api/v1/storage-units/{FRIDGE}/time-in-range?from=2026-11-21T10:00:00Z&to=2026-11-21T12:00:00Z",
        headers=admin,
    ).json
    assert result["above_s"] == 1800 and result["percent_in_range"] == 75.0


def test_bad_periods_are_422(client, seeded, admin):
    assert (
        client.get(
            f"/api/v1/storage-units/{FRIDGE}/readings?from=yesterday", headers=admin
        ).status_code
        == 422
    )
    assert (
        client.get(
            f"/api/v1/storage-units/{FRIDGE}/readings?from=2026-11-21T12:00:00Z&to=2026-11-21T10:00:00Z",
            headers=admin,
        ).status_code
        == 422
    )
    assert client.get("/api/v1/storage-units/NOPE/readings", headers=admin).status_code == 404
    assert client.get("/api/v1/excursions?open=maybe", headers=admin).status_code == 422


def test_retiring_a_device_closes_its_open_excursion(client, seeded, admin):
    register(client, admin)
    send(seeded, [5.0, 9.0, 9.5])
    assert client.get("/api/v1/excursions?open=true", headers=admin).json
    assert (
        client.post(
            "/api/v1/devices/logger-1/lost", headers=admin, json={"reason": "missing"}
        ).status_code
        == 200
    )
    assert client.get("/api/v1/excursions?open=true", headers=admin).json == []
    closed = client.get("/api/v1/excursions", headers=admin).json[0]
    assert "lost" in closed["closed_reason"]


def test_a_swapped_sensor_keeps_the_units_timeline(client, seeded, admin):
    register(client, admin)
    register(client, admin, device_id="logger-2", unit="RH-VC-BELLA-F2")
    send(seeded, [5.0, 5.1], device="logger-1")
    assert (
        client.post(
            "/api/v1/devices/logger-2/attach", headers=admin, json={"storage_unit": FRIDGE}
        ).status_code
        == 200
    )
    send(seeded, [5.2, 5.3], start=T0 + timedelta(minutes=20), device="logger-2")
    raw = client.get(
        f"/api/v1/storage-units/{FRIDGE}/readings?from=2026-11-21T09:00:00Z&to=2026-11-21T11:00:00Z",
        headers=admin,
    ).json
    assert [r["c"] for r in raw["readings"]] == [5.0, 5.1, 5.2, 5.3]
    devices = {d["id"]: d for d in client.get("/api/v1/devices", headers=admin).json}
    assert (
        devices["logger-1"]["storage_unit"] is None
        and devices["logger-2"]["storage_unit"] == FRIDGE
    )


def test_the_live_chart_shows_readings_stored_after_it_was_read(client, seeded, admin, clock):
    """The last day of a unit's readings is kept encoded in the process between reads; a
    batch stored since, late readings in the middle of the day included, is shown at once."""
    register(client, admin)
    send(seeded, [5.0, 5.5, 6.0], start=T0, step=timedelta(minutes=20))
    clock.set(T0 + timedelta(hours=1))
    path = f"/api/v1/storage-units/{FRIDGE}/readings"
    first = client.get(path, headers=admin).json
    assert [r["c"] for r in first["readings"]] == [5.0, 5.5, 6.0]

    # a new reading at the end, and two that arrive late, between the ones already shown
    send(seeded, [6.5], start=T0 + timedelta(minutes=50))
    send(seeded, [4.0, 4.5], start=T0 + timedelta(minutes=10), step=timedelta(minutes=20))
    clock.set(T0 + timedelta(hours=1, minutes=5))
    again = client.get(path, headers=admin).json

    assert [r["c"] for r in again["readings"]] == [5.0, 4.0, 5.5, 4.5, 6.0, 6.5]
    assert again["from"] == iso(T0 + timedelta(hours=1, minutes=5) - timedelta(days=1))
    # what a process that never read the unit answers
    monitoring.forget_recent_readings()
    assert client.get(path, headers=admin).json == again


def test_a_chart_ends_and_starts_where_asked_among_kept_readings(client, seeded, admin, clock):
    register(client, admin)
    send(seeded, [5.0, 5.1, 5.2, 5.3, 5.4], start=T0, step=timedelta(minutes=10))
    clock.set(T0 + timedelta(hours=2))
    path = f"/api/v1/storage-units/{FRIDGE}/readings"
    assert len(client.get(path, headers=admin).json["readings"]) == 5

    # the start is inclusive, the end exclusive, as read from the database
    part = client.get(
        f"{path}?from=2026-11-21T10:10:00Z&to=2026-11-21T10:30:00Z", headers=admin
    ).json
    assert [r["c"] for r in part["readings"]] == [5.1, 5.2]
    # a day long ago is read from the database, not from what is kept
    old = client.get(
        f"{path}?from=2026-11-19T10:00:00Z&to=2026-11-20T10:00:00Z", headers=admin
    ).json
    assert old["readings"] == []


def test_storing_readings_changes_the_units_version(seeded, admin, client):
    register(client, admin)
    versions = []
    for minute in (0, 10, 5):  # the last one late
        send(seeded, [5.0], start=T0 + timedelta(minutes=minute))
        with unit_of_work(seeded) as session:
            versions.append(
                session.scalar(
                    select(UnitEvaluation.version)
                    .join(StorageUnit, StorageUnit.id == UnitEvaluation.storage_unit_id)
                    .where(StorageUnit.code == FRIDGE)
                )
            )
    assert len(set(versions)) == 3
