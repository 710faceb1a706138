"""The ingest worker against a real Mosquitto and a real database: what devices publish is
stored once, whatever the broker or the worker go through, and what cannot be used is
kept as a dead letter with its reason."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from devices.broker_config import hash_password, write_broker_files
from devices.codec import (
    READINGS_TOPIC,
    RejectReason,
    decode_readings,
    encode_batch,
    encode_reading,
    readings_topic,
    status_topic,
)
from devices.connection import connect, make_client
from devices.ingest import IngestWorker
from inventory.clock import Clock
from inventory.db import unit_of_work
from inventory.db.telemetry import DeadLetter, Device, Reading
from inventory.services import devices, telemetry
from inventory.services.access import SYSTEM

ROOT = Path(__file__).resolve().parents[2]
FRIDGE = "RH-VC-BELLA-F1"
OTHER_FRIDGE = "RH-APO-F1"
SERVICE = ("ingest", "ingest-secret")


# --- helpers ----------------------------------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every)


def stored(factory, device_id: str | None = None) -> list[tuple[str, datetime, float]]:
    with unit_of_work(factory) as session:
        query = select(Reading.device_id, Reading.ts, Reading.c).order_by(Reading.ts)
        if device_id is not None:
            query = query.where(Reading.device_id == device_id)
        return [tuple(row) for row in session.execute(query)]


def reading_count(factory) -> int:
    with unit_of_work(factory) as session:
        return session.scalar(select(func.count(Reading.id)))


def dead_letters(factory) -> list[tuple[str | None, str]]:
    with unit_of_work(factory) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(DeadLetter.device_id, DeadLetter.reason).order_by(DeadLetter.id)
            )
        ]


def register(factory, device_id: str, storage_unit: str, at: datetime) -> str:
    with unit_of_work(factory) as session:
        _, secret = devices.register_device(
            session, SYSTEM, at, device_id=device_id, storage_unit=storage_unit, interval_s=60
        )
    return secret


class Device_:
    """A device's MQTT connection that publishes at QoS 1 and records each PUBACK."""

    def __init__(self, url: str, client_id: str, *, persistent: bool = False) -> None:
        self.acks: dict[int, mqtt.ReasonCode] = {}
        self._acked = threading.Condition()
        self._connected = threading.Event()
        self.client = make_client(url, client_id, persistent=persistent)
        self.client.on_connect = lambda c, u, f, rc, p: rc.is_failure or self._connected.set()
        self.client.on_publish = self._on_publish

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._acked:
            self.acks[mid] = reason_code
            self._acked.notify_all()

    def __enter__(self) -> Device_:
        connect(self.client, asynchronous=True)
        self.client.loop_start()
        assert self._connected.wait(10), "device did not connect"
        return self

    def __exit__(self, *exc_info) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes | str) -> int:
        return self.client.publish(topic, payload, qos=1).mid

    def publish_acked(self, topic: str, payload: bytes | str) -> mqtt.ReasonCode:
        mid = self.publish(topic, payload)
        return self.wait_acked([mid])[mid]

    def wait_acked(self, mids, timeout: float = 10.0) -> dict[int, mqtt.ReasonCode]:
        with self._acked:
            assert self._acked.wait_for(lambda: all(m in self.acks for m in mids), timeout), (
                "no PUBACK"
            )
            return {m: self.acks[m] for m in mids}


@pytest.fixture
def now() -> datetime:
    return Clock().now()


@pytest.fixture
def loggers(seeded, now):
    """Two active loggers in two fridges (registered a day ago) and a retired one."""
    register(seeded, "fr-1", FRIDGE, now - timedelta(days=1))
    register(seeded, "fr-2", OTHER_FRIDGE, now - timedelta(days=1))
    register(seeded, "fr-old", "RH-APO-F2", now - timedelta(days=2))
    with unit_of_work(seeded) as session:
        devices.end_service(
            session, SYSTEM, now - timedelta(hours=12), "fr-old", "retired", "replaced"
        )
    return seeded


@pytest.fixture
def start_worker(request) -> Iterator[Callable[..., IngestWorker]]:
    workers: list[IngestWorker] = []

    def start(url: str, factory, **options) -> IngestWorker:
        options = {
            "client_id": f"ingest-{request.node.name[:40]}",
            "batch_size": 50,
            "max_delay_ms": 20,
            **options,
        }
        worker = IngestWorker(url, factory, **options).start()
        workers.append(worker)
        assert worker.wait_subscribed(10), "ingest worker did not subscribe"
        return worker

    yield start
    for worker in workers:
        worker.stop(timeout=5)


def all_acked(worker: IngestWorker, count: int) -> Callable[[], bool]:
    return lambda: worker.stats["acked"] >= count


# --- the contract's own checks (no broker) ------------------------------------------------


def test_payload_naming_another_device_than_its_topic_is_rejected_whole(now):
    payload = json.dumps(
        {"device": "fr-2", "readings": [{"ts": "2026-11-20T10:00:00Z", "c": 4.0}], "battery": 0.9}
    ).encode()
    decoded = decode_readings(payload, now=now, device_id="fr-1")
    assert decoded.readings == [] and decoded.battery is None
    assert [r.code for r in decoded.rejected] == [RejectReason.DEVICE_MISMATCH]


def test_a_payload_the_codec_fails_on_becomes_a_dead_letter_not_a_stall(now, monkeypatch):
    from devices import receiver

    def broken(topic, payload, at):
        raise RecursionError("deep")

    monkeypatch.setattr(receiver, "decode_message", broken)
    device_id, readings, rejected, battery, status = receiver._decoded(
        readings_topic("fr-1"), b'{"c": 1}', now
    )
    assert device_id is None and readings == [] and battery is None and status is None
    assert rejected == [("ingest_error: RecursionError: deep", '{"c": 1}')]


def test_reading_naming_another_device_is_rejected_and_its_batch_kept(now):
    payload = json.dumps(
        {
            "readings": [
                {"ts": "2026-11-20T10:00:00Z", "c": 4.0, "device": "fr-1"},
                {"ts": "2026-11-20T10:01:00Z", "c": 4.1, "device": "fr-2"},
            ]
        }
    ).encode()
    decoded = decode_readings(payload, now=now, device_id="fr-1")
    assert [r.c for r in decoded.readings] == [4.0]
    assert [r.code for r in decoded.rejected] == [RejectReason.DEVICE_MISMATCH]


def test_payload_naming_its_own_device_is_accepted(now):
    payload = b'{"device": "fr-1", "ts": "2026-11-20T10:00:00Z", "c": 4.0}'
    assert len(decode_readings(payload, now=now, device_id="fr-1").readings) == 1


# --- through a real broker ------------------------------------------------------------------


@pytest.mark.mqtt
def test_readings_are_stored_once_even_when_published_twice(loggers, mosquitto, start_worker, now):
    worker = start_worker(mosquitto.url, loggers)
    t = now - timedelta(minutes=30)
    payloads = [
        encode_reading(t, 4.5, battery=0.9),
        encode_reading(t + timedelta(minutes=1), 4.6),
        encode_batch([(t + timedelta(minutes=2), 4.7), (t + timedelta(minutes=3), 4.8)]),
        encode_reading(t + timedelta(minutes=1), 4.6),  # the same reading again
        encode_batch([(t + timedelta(minutes=3), 4.8), (t + timedelta(minutes=4), 4.9)]),
    ]
    with Device_(mosquitto.url, "fr-1") as device:
        device.wait_acked([device.publish(readings_topic("fr-1"), p) for p in payloads])
    assert wait_until(all_acked(worker, len(payloads)))

    assert [(ts, c) for _, ts, c in stored(loggers, "fr-1")] == [
        (t + timedelta(minutes=i), c) for i, c in enumerate([4.5, 4.6, 4.7, 4.8, 4.9])
    ]
    assert worker.stats["stored"] == 5
    assert worker.stats["duplicates"] == 2
    with unit_of_work(loggers) as session:
        logger = session.get(Device, "fr-1")
        assert logger.battery == 0.9
        assert logger.last_reading_at == t + timedelta(minutes=4)


@pytest.mark.mqtt
def test_bad_payloads_are_dead_lettered_with_their_reason_and_good_readings_around_them_stored(
    loggers, mosquitto, start_worker, now
):
    worker = start_worker(mosquitto.url, loggers)
    t = now - timedelta(minutes=30)

    def at(minutes: int) -> str:
        return (t + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")

    bad = [
        ("fr-1", "readings", b"{not json", "not_json"),
        ("fr-1", "readings", f'{{"ts": "{at(1)}", "c": NaN}}'.encode(), "non_finite_c"),
        ("fr-1", "readings", b'{"ts": 1732183200, "c": 4.0}', "invalid_ts"),
        ("fr-1", "readings", f'{{"ts": "{at(2)}", "c": "4.0"}}'.encode(), "invalid_c"),
        ("fr-1", "readings", f'{{"ts": "{at(3)}", "c": -300}}'.encode(), "implausible_temperature"),
        ("fr-1", "readings", encode_reading(now + timedelta(minutes=6), 4.0), "future_ts"),
        ("fr-1", "readings", b"[4.0, 4.1]", "not_object"),
        (
            "fr-1",
            "readings",
            f'{{"device": "fr-2", "ts": "{at(4)}", "c": 4.0}}'.encode(),
            "device_mismatch",
        ),
        ("fr-1", "status", b"rebooting", "invalid_status"),
        ("ghost-7", "readings", encode_reading(t, 4.0), "unknown_device"),
        ("fr-old", "readings", encode_reading(t, 4.0), "retired_device"),
    ]
    mixed_batch = json.dumps(
        {
            "readings": [
                {"ts": at(10), "c": 4.1},
                {"ts": at(11), "c": "warm"},
                {"ts": at(12), "c": 4.3},
            ]
        }
    ).encode()
    with Device_(mosquitto.url, "tester") as device:
        mids = [
            device.publish(f"coldchain/v1/devices/{d}/{kind}", payload)
            for d, kind, payload, _ in bad
        ]
        mids.append(device.publish(readings_topic("fr-1"), mixed_batch))
        # after all of that, the worker still takes readings
        mids.append(
            device.publish(readings_topic("fr-1"), encode_reading(t + timedelta(minutes=20), 4.4))
        )
        device.wait_acked(mids)
    assert wait_until(all_acked(worker, len(mids)))

    assert Counter(dead_letters(loggers)) == Counter(
        [(d, reason) for d, _, _, reason in bad] + [("fr-1", "invalid_c")]
    )
    assert worker.stats["rejected"] == len(bad) + 1
    assert [(ts, c) for _, ts, c in stored(loggers)] == [
        (t + timedelta(minutes=10), 4.1),
        (t + timedelta(minutes=12), 4.3),
        (t + timedelta(minutes=20), 4.4),
    ]
    assert worker.connected


@pytest.mark.mqtt
def test_status_messages_record_whether_a_device_is_online(loggers, mosquitto, start_worker):
    worker = start_worker(mosquitto.url, loggers)
    with Device_(mosquitto.url, "tester") as device:
        device.wait_acked(
            [
                device.publish(status_topic("fr-1"), b"online"),
                device.publish(status_topic("fr-2"), b"offline"),
            ]
        )
    assert wait_until(all_acked(worker, 2))
    with unit_of_work(loggers) as session:
        assert session.get(Device, "fr-1").connection == "online"
        assert session.get(Device, "fr-2").connection == "offline"


@pytest.mark.mqtt
def test_broker_refuses_a_device_publishing_under_another_devices_id(
    seeded, tmp_path, mosquitto_factory, start_worker, now
):
    secret_1 = register(seeded, "fr-1", FRIDGE, now - timedelta(days=1))
    register(seeded, "fr-2", OTHER_FRIDGE, now - timedelta(days=1))
    with unit_of_work(seeded) as session:
        accounts = devices.broker_accounts(session)
    paths = write_broker_files(tmp_path, accounts, {SERVICE[0]: hash_password(SERVICE[1])})
    broker = mosquitto_factory(passwd_file=paths["passwd"], acl_file=paths["acl"])
    worker = start_worker(broker.url_for(*SERVICE), seeded)
    t = now - timedelta(minutes=5)

    with Device_(broker.url_for("fr-1", secret_1), "fr-1") as device:
        forged = device.publish_acked(readings_topic("fr-2"), encode_reading(t, 30.0))
        own = device.publish_acked(readings_topic("fr-1"), encode_reading(t, 4.2))
    assert forged.is_failure and forged.getName() == "Not authorized"
    assert not own.is_failure
    assert wait_until(all_acked(worker, 1))
    time.sleep(0.2)  # a forged message, had it passed, was published before the own one

    assert stored(seeded) == [("fr-1", t, 4.2)]
    assert worker.stats["received"] == 1


@pytest.mark.mqtt
def test_readings_wait_unacknowledged_while_the_database_is_down_and_are_stored_when_it_is_back(
    loggers, mosquitto, start_worker, now
):
    down = threading.Event()
    down.set()

    def ingest_while_up(session, at, batch):
        if down.is_set():
            raise OperationalError("INSERT INTO readings", {}, ConnectionError("server closed"))
        return telemetry.ingest(session, at, batch)

    worker = start_worker(mosquitto.url, loggers, ingest=ingest_while_up)
    t = now - timedelta(minutes=10)
    with Device_(mosquitto.url, "fr-1") as device:
        device.wait_acked(
            [
                device.publish(
                    readings_topic("fr-1"), encode_reading(t + timedelta(minutes=i), 4.0)
                )
                for i in range(3)
            ]
        )
    assert wait_until(lambda: worker.stats["commit_failures"] >= 2)
    assert worker.stats["acked"] == 0
    assert reading_count(loggers) == 0

    down.clear()
    assert wait_until(all_acked(worker, 3))
    assert [ts for _, ts, _ in stored(loggers)] == [t + timedelta(minutes=i) for i in range(3)]


@pytest.mark.mqtt
def test_a_message_the_service_cannot_take_is_dead_lettered_and_its_batch_stored(
    loggers, mosquitto, start_worker, now
):
    def ingest_failing_on_66(session, at, batch):
        if any(r.c == 66.6 for r in batch.readings):
            raise ValueError("cannot evaluate 66.6")
        return telemetry.ingest(session, at, batch)

    worker = start_worker(mosquitto.url, loggers, ingest=ingest_failing_on_66, max_delay_ms=300)
    t = now - timedelta(minutes=10)
    temperatures = [4.0, 4.1, 66.6, 4.3]
    with Device_(mosquitto.url, "fr-1") as device:
        device.wait_acked(
            [
                device.publish(readings_topic("fr-1"), encode_reading(t + timedelta(minutes=i), c))
                for i, c in enumerate(temperatures)
            ]
        )
    assert wait_until(all_acked(worker, len(temperatures)))

    assert [c for _, _, c in stored(loggers)] == [4.0, 4.1, 4.3]
    assert dead_letters(loggers) == [("fr-1", "ingest_error")]


# --- losing nothing -------------------------------------------------------------------------


N_STREAM = 600


def numbered(base: datetime, i: int) -> bytes:
    return encode_reading(base + timedelta(seconds=i), round(2.5 + (i % 50) / 10, 1))


def stream(
    device: Device_,
    base: datetime,
    sent: list[int],
    *,
    pause_every: int = 10,
    pause_s: float = 0.01,
) -> threading.Thread:
    """Publish N_STREAM numbered readings of fr-1 in the background, a little at a time."""

    def run() -> None:
        for i in range(N_STREAM):
            sent.append(device.publish(readings_topic("fr-1"), numbered(base, i)))
            if i % pause_every == pause_every - 1:
                time.sleep(pause_s)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def assert_stream_stored_once(factory, base: datetime) -> None:
    rows = stored(factory, "fr-1")
    assert len(rows) == N_STREAM
    assert [ts for _, ts, _ in rows] == [base + timedelta(seconds=i) for i in range(N_STREAM)]


@pytest.mark.mqtt
def test_workers_in_one_group_split_the_stream_and_store_it_once(
    loggers, mosquitto, start_worker, now
):
    workers = [
        start_worker(mosquitto.url, loggers, group="ingest", client_id=f"ingest-split-{k}")
        for k in range(2)
    ]
    assert all(w.filters[0].startswith("$share/ingest/") for w in workers)
    base = now - timedelta(hours=2)
    sent: list[int] = []
    with Device_(mosquitto.url, "fr-1", persistent=True) as device:
        stream(device, base, sent).join(20)
        device.wait_acked(sent)
        assert wait_until(lambda: sum(w.stats["stored"] for w in workers) >= N_STREAM, timeout=12)

    assert all(w.stats["received"] > 0 for w in workers), "one worker took the whole stream"
    assert sum(w.stats["received"] for w in workers) == N_STREAM
    assert_stream_stored_once(loggers, base)


@pytest.mark.mqtt
def test_a_worker_that_ran_alone_then_joins_a_group_takes_only_its_share(
    loggers, mosquitto, start_worker, now
):
    # ingest-1 ran alone (a plain subscription, kept by its persistent session); then a
    # second worker is added and both run in the group, as deploy/'s ingest@1 and ingest@2
    alone = start_worker(mosquitto.url, loggers, client_id="ingest-1")
    assert alone.filters[0] == READINGS_TOPIC
    alone.stop(timeout=5)
    counted_before = {k: stored_figure(f"ingest-{k}") for k in (1, 2)}
    workers = [
        start_worker(mosquitto.url, loggers, group="ingest", client_id=f"ingest-{k}")
        for k in (1, 2)
    ]
    base = now - timedelta(hours=2)
    sent: list[int] = []
    with Device_(mosquitto.url, "fr-1", persistent=True) as device:
        stream(device, base, sent).join(20)
        device.wait_acked(sent)
        assert wait_until(lambda: sum(w.stats["stored"] for w in workers) >= N_STREAM, timeout=12)

    assert all(w.stats["received"] > 0 for w in workers), "one worker took the whole stream"
    # nothing twice: the first worker no longer receives the whole stream beside its share
    assert sum(w.stats["received"] for w in workers) == N_STREAM
    assert sum(w.stats["duplicates"] for w in workers) == 0
    assert_stream_stored_once(loggers, base)
    # /metrics counts each worker's share
    for k, worker in zip((1, 2), workers, strict=True):
        assert stored_figure(f"ingest-{k}") - counted_before[k] == worker.stats["stored"]


def stored_figure(worker: str) -> float:
    return (
        REGISTRY.get_sample_value("inventory_ingest_readings_stored_total", {"worker": worker})
        or 0.0
    )


@pytest.mark.mqtt
def test_broker_restarted_mid_stream_loses_no_reading_and_stores_none_twice(
    loggers, mosquitto, start_worker, now
):
    # The default single worker, on a plain subscription, which Mosquitto keeps over a
    # restart (it keeps no $share subscription: see devices.ingest).
    worker = start_worker(mosquitto.url, loggers)
    assert worker.filters[0] == READINGS_TOPIC
    base = now - timedelta(hours=2)
    sent: list[int] = []
    with Device_(mosquitto.url, "fr-1", persistent=True) as device:
        publisher = stream(device, base, sent)
        assert wait_until(lambda: worker.stats["stored"] >= N_STREAM // 4, every=0.005)
        mosquitto.restart()
        publisher.join(20)
        assert wait_until(lambda: worker.stats["stored"] >= N_STREAM, timeout=12), (
            f"stored {reading_count(loggers)} of {N_STREAM}; worker {worker.stats}"
        )
        device.wait_acked(sent)

    assert worker.stats["connects"] >= 2, "the broker restart went unnoticed"
    assert_stream_stored_once(loggers, base)
    assert worker.stats["stored"] == N_STREAM


@pytest.mark.mqtt
def test_receiver_process_killed_mid_stream_is_replaced_and_no_reading_is_lost(
    loggers, mosquitto, start_worker, now
):
    worker = start_worker(mosquitto.url, loggers)
    first = worker._receiver
    base = now - timedelta(hours=2)
    sent: list[int] = []
    with Device_(mosquitto.url, "fr-1", persistent=True) as device:
        publisher = stream(device, base, sent)
        assert wait_until(lambda: worker.stats["stored"] >= N_STREAM // 4, every=0.005)
        first.send_signal(signal.SIGKILL)
        publisher.join(20)
        device.wait_acked(sent)
        assert wait_until(lambda: reading_count(loggers) >= N_STREAM, timeout=15), (
            f"stored {reading_count(loggers)} of {N_STREAM}; worker {worker.stats}"
        )

    assert first.poll() is not None and worker._receiver is not first, "no new receiver"
    assert worker.stats["connects"] >= 2
    assert_stream_stored_once(loggers, base)


class WorkerProcess:
    """`python -m devices.ingest` as its own process, configured by the environment."""

    def __init__(self, broker_url: str, database_url: str, client_id: str) -> None:
        env = {
            **os.environ,
            "INVENTORY_DATABASE_URL": database_url,
            "INVENTORY_MQTT_URL": broker_url,
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devices.ingest",
                "--client-id",
                client_id,
                "--batch-size",
                "50",
                "--max-delay-ms",
                "20",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with self.process.stderr:
            for line in self.process.stderr:
                self.lines.append(line.decode(errors="replace"))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def wait_subscribed(self, timeout: float = 15.0) -> None:
        assert wait_until(
            lambda: (
                any(" subscribed to " in line for line in self.lines)
                or self.process.poll() is not None
            ),
            timeout,
        ), self.log
        assert self.process.poll() is None, self.log

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self._reader.join(5)


@pytest.fixture
def worker_process(mosquitto, database_url) -> Iterator[Callable[[str], WorkerProcess]]:
    processes: list[WorkerProcess] = []

    def start(client_id: str) -> WorkerProcess:
        process = WorkerProcess(mosquitto.url, database_url, client_id)
        processes.append(process)
        process.wait_subscribed()
        return process

    yield start
    for process in processes:
        process.close()


@pytest.mark.mqtt
def test_worker_killed_mid_stream_and_restarted_loses_no_reading(
    loggers, mosquitto, worker_process, now
):
    base = now - timedelta(hours=2)
    worker = worker_process("ingest-killed")
    sent: list[int] = []
    with Device_(mosquitto.url, "fr-1", persistent=True) as device:
        publisher = stream(device, base, sent, pause_s=0.02)
        assert wait_until(lambda: reading_count(loggers) >= N_STREAM // 4, every=0.005)
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(10)
        stored_when_killed = reading_count(loggers)

        worker = worker_process("ingest-killed")
        publisher.join(20)
        device.wait_acked(sent)
        assert wait_until(lambda: reading_count(loggers) >= N_STREAM, timeout=12), (
            f"stored {reading_count(loggers)} of {N_STREAM}\n{worker.log}"
        )

    assert stored_when_killed < N_STREAM, "the worker was killed after the stream had ended"
    assert_stream_stored_once(loggers, base)
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(15) == 0, worker.log
