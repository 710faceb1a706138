"""The scheduled jobs, run directly on a seeded database with a fixed clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from inventory import jobs
from inventory.clock import FixedClock
from inventory.db import unit_of_work
from inventory.db.models import Carton, StorageUnit
from inventory.db.telemetry import Alert, Device, Reading, ReadingRollup
from inventory.scheduler import MqttPublisher
from inventory.services import alerts, custody
from inventory.services.access import Actor
from tests.conftest import T0
from tests.support.mosquitto import MessageCollector, MosquittoBroker, find_mosquitto

FRIDGE = "RH-VC-BELLA-F1"
PHARMACY_FRIDGE = "RH-APO-F1"
PHARMACIST = Actor(name="pharmacist", role="pharmacist")


def unit_of(session, code: str) -> StorageUnit:
    return session.scalar(select(StorageUnit).where(StorageUnit.code == code))


def add_device(
    factory,
    device_id: str,
    *,
    unit: str | None = FRIDGE,
    interval_s: int = 600,
    created_at: datetime = T0,
    last_heard_at: datetime | None = None,
    status: str = "active",
) -> None:
    with unit_of_work(factory) as session:
        session.add(
            Device(
                id=device_id,
                secret_hash="-",
                storage_unit_id=unit_of(session, unit).id if unit else None,
                interval_s=interval_s,
                status=status,
                created_at=created_at,
                last_heard_at=last_heard_at,
                last_reading_at=last_heard_at,
            )
        )


def silent_alerts(factory, device_id: str) -> list[Alert]:
    with unit_of_work(factory) as session:
        return list(
            session.scalars(
                select(Alert)
                .where(Alert.kind == "device_silent", Alert.device_id == device_id)
                .order_by(Alert.id)
            )
        )


# ---------------------------------------------------------------- silent devices


def test_a_device_silent_for_three_intervals_raises_one_alarm(seeded):
    add_device(seeded, "logger-1", last_heard_at=T0)

    assert jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(minutes=29))) == 0
    assert jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(minutes=30))) == 1
    assert jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(minutes=40))) == 0
    assert jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(hours=5))) == 0

    [alert] = silent_alerts(seeded, "logger-1")
    assert (alert.severity, alert.state) == ("alarm", "open")
    assert alert.at == T0 + timedelta(minutes=30)
    assert alert.details["last_heard_at"] == "2026-11-21T10:00:00Z"
    with unit_of_work(seeded) as session:
        assert session.get(Alert, alert.id).storage_unit.code == FRIDGE


def test_an_acknowledged_silence_is_not_alerted_again(seeded):
    add_device(seeded, "logger-1", last_heard_at=T0)
    jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(minutes=30)))
    [alert] = silent_alerts(seeded, "logger-1")
    with unit_of_work(seeded) as session:
        alerts.acknowledge(
            session, PHARMACIST, T0 + timedelta(minutes=35), alert.id, "battery swapped, checking"
        )

    assert jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(hours=2))) == 0
    assert len(silent_alerts(seeded, "logger-1")) == 1


def test_a_device_heard_again_then_silent_again_raises_a_new_alarm(seeded):
    add_device(seeded, "logger-1", last_heard_at=T0)
    jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(minutes=30)))
    with unit_of_work(seeded) as session:  # what the telemetry service does when it hears it
        device = session.get(Device, "logger-1")
        device.last_heard_at = T0 + timedelta(minutes=50)
        for alert in session.scalars(select(Alert).where(Alert.device_id == "logger-1")):
            alert.state = "resolved"

    assert jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(minutes=79))) == 0
    assert jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(minutes=80))) == 1
    first, second = silent_alerts(seeded, "logger-1")
    assert second.at == T0 + timedelta(minutes=80)
    assert second.details["last_heard_at"] == "2026-11-21T10:50:00Z"


def test_a_device_never_heard_counts_its_silence_from_registration(seeded):
    add_device(seeded, "logger-new", created_at=T0, interval_s=60)

    assert jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(seconds=179))) == 0
    assert jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(seconds=180))) == 1
    [alert] = silent_alerts(seeded, "logger-new")
    assert alert.details["last_heard_at"] is None


def test_retired_and_unattached_devices_are_never_silent(seeded):
    add_device(seeded, "logger-retired", status="retired", last_heard_at=T0)
    add_device(seeded, "logger-lost", status="lost", last_heard_at=T0)
    add_device(seeded, "logger-spare", unit=None, last_heard_at=T0)

    assert jobs.check_silent_devices(seeded, FixedClock(T0 + timedelta(days=3))) == 0
    with unit_of_work(seeded) as session:
        assert session.scalars(select(Alert)).all() == []


# ---------------------------------------------------------------- beyond-use sweep


def receive_with_bud(factory, bud: datetime, *, status: str | None = None) -> int:
    with unit_of_work(factory) as session:
        carton = custody.receive(
            session,
            PHARMACIST,
            T0 - timedelta(days=1),
            custody.ReceiptInput(
                storage_unit=PHARMACY_FRIDGE,
                vials=10,
                state="thawed",
                product="comirnaty-grey-bivalent",
                lot="BUD1",
                expiry=date(2027, 6, 30),
            ),
        )
        carton.bud = bud
        if status:
            carton.status = status
        session.flush()
        return carton.id


def statuses(factory, ids) -> list[str]:
    with unit_of_work(factory) as session:
        return [session.get(Carton, i).status for i in ids]


def test_the_sweep_expires_only_available_cartons_past_their_beyond_use_date(seeded, clock):
    past = receive_with_bud(seeded, T0 - timedelta(hours=1))
    due_now = receive_with_bud(seeded, T0)
    future = receive_with_bud(seeded, T0 + timedelta(minutes=1))
    held = receive_with_bud(seeded, T0 - timedelta(hours=1), status="held")

    assert jobs.sweep_beyond_use(seeded, clock) == 2

    assert statuses(seeded, [past, due_now, future, held]) == [
        "expired",
        "expired",
        "available",
        "held",
    ]
    assert jobs.sweep_beyond_use(seeded, clock) == 0


def test_the_sweep_works_through_more_cartons_than_one_batch(seeded, clock):
    ids = [receive_with_bud(seeded, T0 - timedelta(days=n)) for n in range(1, 6)]

    assert jobs.sweep_beyond_use(seeded, clock, batch_size=2) == 5
    assert set(statuses(seeded, ids)) == {"expired"}


# ---------------------------------------------------------------- escalation


def make_alert(factory, kind: str = "device_silent", *, at: datetime = T0) -> int:
    with unit_of_work(factory) as session:
        unit = unit_of(session, FRIDGE)
        return alerts.raise_alert(
            session,
            at,
            kind=kind,
            site_id=unit.site_id,
            at=at,
            storage_unit_id=unit.id,
            device_id="logger-1",
            message=f"{kind} in {unit.code}",
        ).id


def level(factory, alert_id: int) -> int:
    with unit_of_work(factory) as session:
        return session.get(Alert, alert_id).escalation_level


def test_an_unacknowledged_alarm_escalates_after_the_set_time_and_again_after_as_long(seeded):
    alarm = make_alert(seeded)

    assert jobs.escalate_alerts(seeded, FixedClock(T0 + timedelta(minutes=29)), 30) == 0
    assert level(seeded, alarm) == 0
    assert jobs.escalate_alerts(seeded, FixedClock(T0 + timedelta(minutes=30)), 30) == 1
    assert level(seeded, alarm) == 1
    assert jobs.escalate_alerts(seeded, FixedClock(T0 + timedelta(minutes=45)), 30) == 0
    assert jobs.escalate_alerts(seeded, FixedClock(T0 + timedelta(minutes=60)), 30) == 1
    assert level(seeded, alarm) == 2


def test_acknowledged_alarms_and_warnings_do_not_escalate(seeded):
    acknowledged = make_alert(seeded)
    warning = make_alert(seeded, "battery_low")
    with unit_of_work(seeded) as session:
        alerts.acknowledge(
            session, PHARMACIST, T0 + timedelta(minutes=5), acknowledged, "logger replaced"
        )

    assert jobs.escalate_alerts(seeded, FixedClock(T0 + timedelta(hours=3)), 30) == 0
    assert (level(seeded, acknowledged), level(seeded, warning)) == (0, 0)


# ---------------------------------------------------------------- readings roll-up


def add_readings(
    factory, unit: str, readings: list[tuple[datetime, float]], device_id: str = "logger-1"
) -> None:
    with unit_of_work(factory) as session:
        unit_id = unit_of(session, unit).id
        session.add_all(
            Reading(device_id=device_id, storage_unit_id=unit_id, ts=ts, c=c, received_at=ts)
            for ts, c in readings
        )


def rollups(factory) -> dict[tuple[str, datetime], tuple[float, float, int]]:
    with unit_of_work(factory) as session:
        codes = dict(session.execute(select(StorageUnit.id, StorageUnit.code)).all())
        return {
            (codes[r.storage_unit_id], r.hour): (r.min_c, r.max_c, r.count)
            for r in session.scalars(select(ReadingRollup))
        }


def at(hour: int, minute: int) -> datetime:
    return T0.replace(hour=hour, minute=minute)


def test_the_roll_up_keeps_each_hours_exact_minimum_and_maximum_so_a_spike_survives(seeded):
    add_readings(
        seeded,
        FRIDGE,
        [
            (at(7, 0), 5.0),
            (at(7, 10), 5.1),
            (at(7, 20), 12.7),
            (at(7, 30), 4.9),
            (at(7, 50), 2.1),
            (at(8, 0), 5.0),
            (at(8, 30), 5.4),
            (at(9, 10), 5.2),
        ],
    )
    add_readings(seeded, PHARMACY_FRIDGE, [(at(7, 5), 4.0), (at(7, 55), 6.0)], device_id="logger-2")

    assert jobs.roll_up_readings(seeded, FixedClock(at(10, 30))) == 3

    assert rollups(seeded) == {
        (FRIDGE, at(7, 0)): (2.1, 12.7, 5),
        (FRIDGE, at(8, 0)): (5.0, 5.4, 2),
        (PHARMACY_FRIDGE, at(7, 0)): (4.0, 6.0, 2),
    }  # 09:00-10:00 ended only half an hour ago: not yet


def test_the_roll_up_can_run_again_and_takes_each_hour_once_it_has_settled(seeded):
    add_readings(
        seeded, FRIDGE, [(at(7, 0), 5.0), (at(8, 0), 5.5), (at(9, 10), 5.2), (at(9, 50), 3.0)]
    )
    jobs.roll_up_readings(seeded, FixedClock(at(10, 30)))
    before = rollups(seeded)

    assert jobs.roll_up_readings(seeded, FixedClock(at(10, 40))) == 0
    assert rollups(seeded) == before
    assert jobs.roll_up_readings(seeded, FixedClock(at(11, 0))) == 1
    assert rollups(seeded)[(FRIDGE, at(9, 0))] == (3.0, 5.2, 2)


def test_a_late_reading_is_counted_in_its_hours_roll_up(seeded):
    add_readings(seeded, FRIDGE, [(at(7, 0), 5.0), (at(7, 30), 5.5)])
    jobs.roll_up_readings(seeded, FixedClock(at(10, 0)))
    add_readings(seeded, FRIDGE, [(at(7, 45), -1.5)])  # a gateway's backlog, uploaded late

    assert jobs.roll_up_readings(seeded, FixedClock(at(10, 10))) == 1
    assert rollups(seeded)[(FRIDGE, at(7, 0))] == (-1.5, 5.5, 3)


def test_a_long_backlog_is_rolled_up_over_several_runs_skipping_empty_hours(seeded):
    start = T0 - timedelta(days=10)
    hours = [start + timedelta(hours=h) for h in range(60)] + [T0 - timedelta(hours=5)]
    add_readings(
        seeded, FRIDGE, [(h + timedelta(minutes=15), float(i % 7)) for i, h in enumerate(hours)]
    )
    clock = FixedClock(T0)

    assert jobs.roll_up_readings(seeded, clock, max_hours=48) == 48
    assert jobs.roll_up_readings(seeded, clock, max_hours=48) == 12
    assert jobs.roll_up_readings(seeded, clock, max_hours=48) == 1
    assert jobs.roll_up_readings(seeded, clock, max_hours=48) == 0
    assert sorted(hour for _, hour in rollups(seeded)) == hours


# ---------------------------------------------------------------- webhook delivery


class Receiver:
    """A webhook receiver on a free port that fails the first `failures` POSTs."""

    def __init__(self, failures: int):
        self.failures = failures
        self.bodies: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(503)
                else:
                    receiver.bodies.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def webhook_state(factory, alert_id: int):
    with unit_of_work(factory) as session:
        alert = session.get(Alert, alert_id)
        return alert.webhook_attempts, alert.webhook_next_at, alert.webhook_delivered_at


def test_the_webhook_is_retried_with_growing_delays_until_delivered_then_left_alone(seeded):
    alert_id = make_alert(seeded)
    clock = FixedClock(T0)
    with Receiver(failures=2) as receiver:
        assert jobs.deliver_alerts(seeded, clock, webhook_url=receiver.url).failed == 1
        assert webhook_state(seeded, alert_id) == (1, T0 + timedelta(seconds=10), None)

        clock.set(T0 + timedelta(seconds=5))  # not due yet
        assert jobs.deliver_alerts(seeded, clock, webhook_url=receiver.url).failed == 0
        clock.set(T0 + timedelta(seconds=10))
        assert jobs.deliver_alerts(seeded, clock, webhook_url=receiver.url).failed == 1
        assert webhook_state(seeded, alert_id) == (2, T0 + timedelta(seconds=30), None)

        clock.set(T0 + timedelta(seconds=30))
        assert jobs.deliver_alerts(seeded, clock, webhook_url=receiver.url).delivered == 1
        assert webhook_state(seeded, alert_id) == (3, None, T0 + timedelta(seconds=30))

        clock.set(T0 + timedelta(hours=1))
        jobs.deliver_alerts(seeded, clock, webhook_url=receiver.url)

    assert [(body["id"], body["kind"], body["site"]) for body in receiver.bodies] == [
        (alert_id, "device_silent", "RH-VC-BELLA")
    ]


def test_an_unreachable_webhook_keeps_the_alert_due_with_the_error(seeded):
    alert_id = make_alert(seeded)

    def refuse(url, body):
        raise ConnectionRefusedError("connection refused")

    result = jobs.deliver_alerts(
        seeded, FixedClock(T0), webhook_url="http://hooks.invalid/", post=refuse
    )

    assert result.failed == 1
    with unit_of_work(seeded) as session:
        alert = session.get(Alert, alert_id)
        assert alert.webhook_delivered_at is None
        assert "connection refused" in alert.webhook_error


def test_an_escalated_alarm_is_sent_to_the_webhook_again(seeded):
    alert_id = make_alert(seeded)
    posted: list[dict] = []
    post = lambda url, body: posted.append(json.loads(body))  # noqa: E731
    clock = FixedClock(T0)
    jobs.deliver_alerts(seeded, clock, webhook_url="http://hooks.example/", post=post)

    clock.set(T0 + timedelta(minutes=30))
    jobs.escalate_alerts(seeded, clock, 30)
    jobs.deliver_alerts(seeded, clock, webhook_url="http://hooks.example/", post=post)

    assert [(p["id"], p["escalation_level"]) for p in posted] == [(alert_id, 0), (alert_id, 1)]


# ---------------------------------------------------------------- MQTT delivery


@pytest.fixture
def mosquitto() -> Iterator[MosquittoBroker]:
    if find_mosquitto() is None:
        pytest.skip("mosquitto binary not found (apt-get install mosquitto, or set MOSQUITTO_BIN)")
    with MosquittoBroker(persistence=False) as broker:
        yield broker


@pytest.mark.mqtt
def test_alerts_are_published_once_on_their_sites_topic(seeded, mosquitto):
    first = make_alert(seeded)
    second = make_alert(seeded, "battery_low", at=T0 + timedelta(minutes=1))
    publisher = MqttPublisher(mosquitto.url, client_id="test-scheduler-alerts")
    try:
        assert publisher.wait_connected(10)
        with MessageCollector(mosquitto.url, "coldchain/v1/alerts/#") as inbox:
            assert jobs.deliver_alerts(seeded, FixedClock(T0), publish=publisher).published == 2
            assert (
                jobs.deliver_alerts(
                    seeded, FixedClock(T0 + timedelta(seconds=5)), publish=publisher
                ).published
                == 0
            )
            messages = inbox.wait_for(2)
    finally:
        publisher.close()

    assert [(topic, json.loads(payload)["id"]) for topic, payload, _ in messages] == [
        ("coldchain/v1/alerts/RH-VC-BELLA", first),
        ("coldchain/v1/alerts/RH-VC-BELLA", second),
    ]
    with unit_of_work(seeded) as session:
        assert all(a.published_at == T0 for a in session.scalars(select(Alert)))


@pytest.mark.mqtt
def test_alerts_stay_pending_while_the_broker_is_away(seeded, mosquitto):
    alert_id = make_alert(seeded)
    publisher = MqttPublisher(mosquitto.url, client_id="test-scheduler-alerts")
    try:
        assert publisher.wait_connected(10)
        mosquitto.stop()
        assert publisher.wait_disconnected(10)
        assert jobs.deliver_alerts(seeded, FixedClock(T0), publish=publisher).published == 0
        with unit_of_work(seeded) as session:
            assert session.get(Alert, alert_id).published_at is None
    finally:
        publisher.close()
