import json
from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise

import pytest

from devices.broker_config import hash_password, write_broker_files
from devices.codec import READINGS_TOPIC, decode_readings, decode_status, parse_topic
from devices.simulate import (
    PROFILES,
    DeviceSpec,
    Fault,
    Options,
    SimClock,
    SimulatedDevice,
    fridge_trace,
    parse_args,
    parse_fault,
    run,
    ultra_low_trace,
    unit_trace,
)
from tests.support.mosquitto import MessageCollector

START = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
ONE_MINUTE = 60.0
TWO_DAYS_OF_MINUTES = 2 * 24 * 60


def temperatures(trace, count):
    return [reading.c for reading in islice(trace, count)]


def longest_run(values, condition):
    best = current = 0
    for value in values:
        current = current + 1 if condition(value) else 0
        best = max(best, current)
    return best


# --- traces ---


@pytest.mark.parametrize("seed", range(4))
def test_fridge_holds_near_five_degrees(seed):
    temps = temperatures(
        fridge_trace(start=START, interval_s=ONE_MINUTE, seed=seed), TWO_DAYS_OF_MINUTES
    )
    assert 4.8 <= sum(temps) / len(temps) <= 5.4
    assert all(3.0 <= c <= 10.0 for c in temps)
    assert sum(3.5 <= c <= 6.5 for c in temps) / len(temps) > 0.9


@pytest.mark.parametrize("seed", range(4))
def test_fridge_door_openings_are_brief(seed):
    temps = temperatures(
        fridge_trace(start=START, interval_s=ONE_MINUTE, seed=seed), TWO_DAYS_OF_MINUTES
    )
    assert max(temps) > 6.5, "two days without a door opening"
    assert longest_run(temps, lambda c: c > 6.5) <= 10  # minutes


def test_readings_are_evenly_spaced_from_the_start_in_utc():
    readings = list(islice(fridge_trace(start=START, interval_s=600), 3))
    assert [r.ts for r in readings] == [
        START,
        START + timedelta(minutes=10),
        START + timedelta(minutes=20),
    ]


def test_same_seed_gives_the_same_trace():
    assert temperatures(fridge_trace(start=START, seed=7), 50) == temperatures(
        fridge_trace(start=START, seed=7), 50
    )
    assert temperatures(fridge_trace(start=START, seed=7), 50) != temperatures(
        fridge_trace(start=START, seed=8), 50
    )


@pytest.mark.parametrize("seed", range(4))
def test_ultra_low_freezer_holds_near_minus_seventy(seed):
    temps = temperatures(
        ultra_low_trace(start=START, interval_s=ONE_MINUTE, seed=seed), TWO_DAYS_OF_MINUTES
    )
    assert -71.0 <= sum(temps) / len(temps) <= -69.0
    assert all(-75.0 <= c <= -60.0 for c in temps)


@pytest.mark.parametrize("kind", sorted(PROFILES))
def test_every_kind_of_unit_averages_its_setpoint_and_stays_plausible(kind):
    profile = PROFILES[kind]
    trace = unit_trace(profile, start=START, interval_s=ONE_MINUTE, seed=3)
    temps = temperatures(trace, TWO_DAYS_OF_MINUTES)
    assert abs(sum(temps) / len(temps) - profile.setpoint_c) < 1.0
    assert all(abs(c - profile.setpoint_c) < 6.0 for c in temps)


def test_power_cut_drifts_a_fridge_towards_room_temperature_and_recovers_faster():
    cut_at, cut_for = 60, 180  # minutes
    fault = Fault("power_cut", "fr-1", at_s=cut_at * 60, duration_s=cut_for * 60)
    temps = temperatures(
        fridge_trace(start=START, interval_s=ONE_MINUTE, seed=1, faults=[fault]), 8 * 60
    )

    first_hour = temps[cut_at + 60] - temps[cut_at]
    assert 0.1 * 60 <= first_hour <= 0.3 * 60  # 0.1..0.3 C per minute
    restored = cut_at + cut_for
    assert 12.0 < temps[restored] < 22.0  # warm, but not past the room
    # Rising all along, give or take noise.
    assert all(later > earlier - 0.5 for earlier, later in pairwise(temps[cut_at + 5 : restored]))

    recovery_first_half_hour = temps[restored] - temps[restored + 30]
    warming_first_half_hour = temps[cut_at + 30] - temps[cut_at]
    assert recovery_first_half_hour > 2 * warming_first_half_hour
    assert all(c <= 8.0 for c in temps[restored + 60 :])


def test_freeze_event_keeps_a_fridge_below_zero_for_about_ninety_minutes():
    fault = Fault("freeze_event", "fr-1", at_s=3600)
    temps = temperatures(
        fridge_trace(start=START, interval_s=ONE_MINUTE, seed=2, faults=[fault]), 6 * 60
    )
    assert 80 <= longest_run(temps, lambda c: c < 0.0) <= 100
    assert longest_run(temps, lambda c: c <= -0.5) >= 60  # long enough for a WHO freeze alarm
    assert min(temps) > -4.0
    assert all(c > 2.0 for c in temps[:60])
    assert all(c > 2.0 for c in temps[-90:])


def test_a_stuck_thermostat_freezes_a_fridge_within_minutes_where_a_freeze_event_takes_ten():
    def minutes_to_freeze(kind: str) -> int:
        fault = Fault(kind, "fr-1", at_s=3600)
        temps = temperatures(
            fridge_trace(start=START, interval_s=ONE_MINUTE, seed=2, faults=[fault]), 3 * 60
        )
        return next(i for i, c in enumerate(temps) if i > 60 and c <= 0.5) - 60

    assert minutes_to_freeze("thermostat_stuck") <= 4  # the demo's held stock, within minutes
    assert minutes_to_freeze("freeze_event") >= 7


def test_faults_for_the_trace_count_from_the_run_origin():
    origin = START
    fault = Fault("power_cut", "fr-1", at_s=0, duration_s=3600)
    late_start = temperatures(
        fridge_trace(
            start=origin + timedelta(hours=2), interval_s=ONE_MINUTE, faults=[fault], origin=origin
        ),
        60,
    )
    assert all(c < 8.0 for c in late_start)


# --- fault specs ---


def test_fault_spec_parses_kind_device_start_and_duration():
    assert parse_fault("silent:fr-1") == Fault("silent", "fr-1", 0.0, None)
    assert parse_fault("backlog:fr-1:600:1200") == Fault("backlog", "fr-1", 600.0, 1200.0)


@pytest.mark.parametrize(
    "bad", ["melt:fr-1", "silent", "silent:fr-1:x", "silent:fr-1:-5", "a:b:1:2:3"]
)
def test_bad_fault_specs_are_refused(bad):
    with pytest.raises(ValueError):
        parse_fault(bad)


# --- device publishing behaviour ---

NOW_LATER = START + timedelta(days=2)


def make_device(*faults, interval_s=600.0):
    return SimulatedDevice(
        DeviceSpec("fr-1"), start=START, interval_s=interval_s, faults=faults, origin=START
    )


def test_device_publishes_single_readings_with_battery_about_hourly():
    device = make_device()
    payloads = [device.advance() for _ in range(13)]  # two hours at ten minutes
    decoded = [decode_readings(p, now=NOW_LATER) for p in payloads]
    assert all(len(d.readings) == 1 and not d.rejected for d in decoded)
    with_battery = [i for i, d in enumerate(decoded) if d.battery is not None]
    assert with_battery == [0, 6, 12]


def test_silent_device_stops_publishing_from_the_fault_on():
    device = make_device(Fault("silent", "fr-1", at_s=3600))
    payloads = [device.advance() for _ in range(12)]
    assert all(p is not None for p in payloads[:6])
    assert all(p is None for p in payloads[6:])


def test_fault_for_another_device_changes_nothing():
    device = make_device(Fault("silent", "fr-2", at_s=0))
    assert all(device.advance() is not None for _ in range(6))


def test_backlog_holds_readings_then_sends_them_as_one_batch_with_battery():
    device = make_device(Fault("backlog", "fr-1", at_s=3600, duration_s=3600))
    payloads = [device.advance() for _ in range(14)]
    assert payloads[6:12] == [None] * 6
    batch = decode_readings(payloads[12], now=NOW_LATER)
    assert [r.ts for r in batch.readings] == [
        START + timedelta(minutes=10 * i) for i in range(6, 13)
    ]
    assert batch.battery is not None and 0 < batch.battery <= 1
    assert batch.rejected == []
    assert len(decode_readings(payloads[13], now=NOW_LATER).readings) == 1


def test_backlog_still_held_at_the_end_can_be_flushed():
    device = make_device(Fault("backlog", "fr-1", at_s=0))
    for _ in range(3):
        assert device.advance() is None
    assert len(decode_readings(device.flush(), now=NOW_LATER).readings) == 3
    assert device.flush() is None


# --- simulated clock ---


def test_fast_simulated_clock_starts_in_the_past_and_ends_at_real_time():
    real_start = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    clock = SimClock.plan(real_start, speed=60, duration_s=120)
    assert clock.sim_start == real_start - timedelta(seconds=120 * 59)
    real_end = real_start + timedelta(seconds=120)
    assert clock.sim_at(real_end) == real_end
    assert clock.sim_at(real_start + timedelta(seconds=1)) == clock.sim_start + timedelta(minutes=1)
    assert clock.real_at(clock.sim_at(real_end)) == real_end


def test_real_time_clock_starts_now():
    real_start = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert SimClock.plan(real_start, speed=1, duration_s=None).sim_start == real_start


def test_fast_clock_without_duration_is_refused():
    with pytest.raises(ValueError):
        SimClock.plan(START, speed=10, duration_s=None)
    with pytest.raises(SystemExit):
        parse_args(["--url", "mqtt://127.0.0.1:1", "--devices", "1", "--speed", "10"])


def test_command_line_reads_devices_file_and_faults(tmp_path):
    devices_file = tmp_path / "devices.json"
    devices_file.write_text(
        json.dumps([{"id": "ult-1", "secret": "s", "kind": "ultra_low_freezer"}])
    )
    options = parse_args(
        [
            "--url",
            "mqtt://127.0.0.1:1",
            "--devices-file",
            str(devices_file),
            "--devices",
            "2",
            "--fault",
            "power_cut:ult-1:60",
            "--speed",
            "60",
            "--duration",
            "5",
        ]
    )
    assert [d.id for d in options.devices] == ["ult-1", "sim-00001", "sim-00002"]
    assert options.devices[0] == DeviceSpec("ult-1", "ultra_low_freezer", "s")
    assert options.faults == [Fault("power_cut", "ult-1", 60.0)]


# --- against a real broker ---


def readings_received(messages):
    received: dict[str, list] = {}
    for topic, payload, _ in messages:
        device_id, kind = parse_topic(topic)
        assert kind == "readings"
        decoded = decode_readings(payload, now=datetime.now(UTC))
        assert decoded.rejected == []
        received.setdefault(device_id, []).extend(decoded.readings)
    return received


@pytest.mark.mqtt
def test_short_shared_connection_run_delivers_clean_readings(mosquitto):
    options = Options(
        url=mosquitto.url,
        devices=[DeviceSpec(f"sim-{i}") for i in range(3)],
        interval_s=10.0,
        speed=60.0,
        duration_s=2.0,
        shared_connection=True,
    )
    with MessageCollector(mosquitto.url, READINGS_TOPIC) as inbox:
        result = run(options)
        messages = inbox.wait_for(3 * 10)
    assert result.unacknowledged == 0
    received = readings_received(messages)
    assert sorted(received) == ["sim-0", "sim-1", "sim-2"]
    for readings in received.values():
        assert 10 <= len(readings) <= 13  # 2 s x 60 = 120 simulated seconds, one per 10
        assert all(2.0 <= r.c <= 10.0 for r in readings)
        assert all(r.ts <= datetime.now(UTC) for r in readings)


@pytest.mark.mqtt
def test_devices_publish_with_their_own_credentials_and_announce_status(
    tmp_path, mosquitto_factory
):
    secrets = {"fr-001": "one", "ult-002": "two"}
    paths = write_broker_files(
        tmp_path,
        {d: hash_password(s) for d, s in secrets.items()},
        {"ingest": hash_password("ingest")},
    )
    broker = mosquitto_factory(passwd_file=paths["passwd"], acl_file=paths["acl"])
    options = Options(
        url=broker.url,
        devices=[
            DeviceSpec("fr-001", "fridge", "one"),
            DeviceSpec("ult-002", "ultra_low_freezer", "two"),
        ],
        interval_s=5.0,
        speed=10.0,
        duration_s=2.0,
        faults=[Fault("silent", "ult-002", at_s=0)],
    )
    service_url = broker.url_for("ingest", "ingest")
    with (
        MessageCollector(service_url, READINGS_TOPIC, client_id="readings") as readings_inbox,
        MessageCollector(
            service_url, "coldchain/v1/devices/+/status", client_id="status"
        ) as status_inbox,
    ):
        result = run(options)
        statuses = status_inbox.wait_for(4)
        readings = readings_received(readings_inbox.wait_for(4))
    assert result.unacknowledged == 0
    assert list(readings) == ["fr-001"]  # the silent device sent nothing
    assert all(r.c < 10 for r in readings["fr-001"])
    by_device = {}
    for topic, payload, _ in statuses:
        by_device.setdefault(parse_topic(topic)[0], []).append(decode_status(payload))
    assert by_device == {"fr-001": ["online", "offline"], "ult-002": ["online", "offline"]}
