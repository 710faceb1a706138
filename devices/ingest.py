"""The MQTT ingest worker: device readings and status in, stored through the telemetry service.

    python -m devices.ingest [--url mqtt://user:pass@host:1883] [--database-url URL]
        [--client-id ingest-1] [--group NAME] [--batch-size 500] [--max-delay-ms 200]

Defaults come from INVENTORY_MQTT_URL and INVENTORY_DATABASE_URL.

Delivery guarantees
    The worker subscribes at QoS 1 with a stable client id and a persistent session
    (clean_start False, a session expiry); with `--group NAME`, through `$share/NAME/...`
    filters so that several workers with different client ids split the stream. Messages are
    acknowledged by hand, and only after the database commit of the batch that holds them: a worker
    that dies (even by SIGKILL) leaves its unacknowledged messages with the broker, which
    delivers them again when the worker comes back with the same client id. Readings are
    stored once per (device, ts), so what is delivered twice is counted as a duplicate.

Broker restarts and shared subscriptions
    Mosquitto 2.0 saves a persistent session's queue and its plain subscriptions over a
    restart, but not its `$share` subscriptions: until the worker has reconnected and
    subscribed again (it does so on every connect), readings that devices publish to the
    restarted broker have no subscriber and are dropped by the broker. So a single worker,
    the default, subscribes without `$share`: that subscription is kept over a restart, and
    a broker restart loses nothing. Several workers need a shared group (`--group ingest`)
    and accept that window, or a broker that persists shared subscriptions.

Processes and threads
    The MQTT session lives in a receiver process of its own (devices.receiver), so that
    paho's per-message work and the store run on two cores. It decodes what it receives
    (devices.codec) and hands it over in small lists, which a listening thread here
    queues. One worker thread takes batches off the queue (up to --batch-size messages, or
    whatever arrived within --max-delay-ms of the oldest), ingests each batch in one unit
    of work, commits, has the receiver acknowledge its messages, then publishes pending
    alerts (through the receiver) in a unit of work of their own. If the receiver dies, a
    new one takes the session over; if this process dies, the receiver disconnects.
    A commit that fails for a database reason (down, locked, a serialization
    conflict) is retried with backoff, never acknowledged and never dropped. A batch that
    fails for any other reason is split until the message that breaks it is found; that
    message is kept as a dead letter ("ingest_error") so it cannot stall the stream.

Acknowledgements and reconnects
    A message id is only meaningful on the connection it arrived on. Each message records
    the connection it came on (numbered across receivers); after a reconnect, messages from
    the earlier connection are not acknowledged (the broker delivers them again on the
    resumed session, and they are then counted as duplicates).

SIGTERM / SIGINT: stop taking messages, store and acknowledge what was taken, disconnect.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from devices.codec import (
    READINGS_TOPIC,
    STATUS_TOPIC,
    MqttUrl,
    parse_mqtt_url,
    payload_text,
    shared_subscription,
)
from devices.receiver import tune_collector
from inventory import metrics
from inventory.clock import Clock
from inventory.config import Settings
from inventory.db import ConcurrentUpdate, make_engine, make_session_factory, unit_of_work
from inventory.services import health, leases, telemetry
from inventory.services.alerts import publish_pending_alerts
from inventory.services.telemetry import IncomingReading, IncomingReject, IngestBatch, IngestResult

log = logging.getLogger("devices.ingest")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIENT_ID = "ingest-1"
DEFAULT_GROUP = ""  # a plain subscription: see "Broker restarts" above
SHARED_GROUP = "ingest"  # the group the shipped deploy/ units use for several workers
DEFAULT_BATCH_SIZE = 500
DEFAULT_MAX_DELAY_MS = 200
# Unpublished alerts are looked for after every batch that raised one, and this often
# otherwise (alerts raised elsewhere, or left over by a failed publish).
ALERTS_EVERY_S = 5.0
RETRY_MIN_S = 0.2
RETRY_MAX_S = 10.0
STATS_LOG_EVERY_S = 60.0
RECEIVER_RESTART_S = 1.0
PUBLISH_TIMEOUT_S = 5.0

_TRANSIENT = (
    sa_exc.OperationalError,  # server down, connection lost, database locked, serialization
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # connection pool exhausted
    StaleDataError,
    ConcurrentUpdate,  # a commit that lost a race: stale rows or a locked database
)


class _Abandoned(Exception):
    """The worker was told to stop before a failing batch could be stored."""


@dataclass
class _Message:
    """One decoded MQTT message, waiting for its batch to be committed."""

    mid: int
    qos: int
    connection: int  # which connection it arrived on: its mid means nothing on another
    arrived: float  # time.monotonic()
    topic: str
    payload: bytes
    device_id: str | None = None
    readings: list[IncomingReading] = field(default_factory=list)
    rejects: list[IncomingReject] = field(default_factory=list)
    battery: float | None = None
    status: str | None = None


def _message(received: tuple, arrived: float) -> _Message:
    """What the receiver handed over for one message, (topic, payload, mid, qos, connection,
    decoded) with devices.codec.Message as plain tuples, in the telemetry service's terms."""
    topic, payload, mid, qos, connection, (device_id, readings, rejected, battery, status) = (
        received
    )
    return _Message(
        mid=mid,
        qos=qos,
        connection=connection,
        arrived=arrived,
        topic=topic,
        payload=payload,
        device_id=device_id,
        readings=[IncomingReading(device_id, ts, c) for ts, c in readings],
        rejects=[IncomingReject(topic, device_id, reason, raw) for reason, raw in rejected],
        battery=battery,
        status=status,
    )


def build_batch(messages: Sequence[_Message]) -> IngestBatch:
    batch = IngestBatch()
    for message in messages:
        batch.readings.extend(message.readings)
        batch.rejects.extend(message.rejects)
        if message.device_id is not None:
            if message.battery is not None:
                batch.batteries[message.device_id] = message.battery
            if message.status is not None:
                batch.statuses[message.device_id] = message.status
    return batch


def _merge(a: IngestResult, b: IngestResult) -> IngestResult:
    return IngestResult(
        stored=a.stored + b.stored,
        duplicates=a.duplicates + b.duplicates,
        rejected=a.rejected + b.rejected,
        alert_ids=a.alert_ids + b.alert_ids,
        holds=a.holds + b.holds,
    )


class IngestWorker:
    """One ingest worker: a receiver process holding the MQTT session, and a thread here
    that stores batches.

    worker = IngestWorker(url, session_factory).start()
    worker.wait_subscribed()
    ...
    worker.stop()
    """

    def __init__(
        self,
        url: str | MqttUrl,
        session_factory: sessionmaker[Session],
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        group: str | None = DEFAULT_GROUP,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_delay_ms: float = DEFAULT_MAX_DELAY_MS,
        clock: Clock | None = None,
        receive_maximum: int | None = None,
        ingest: Callable[[Session, datetime, IngestBatch], IngestResult] = telemetry.ingest,
        on_commit: Callable[[IngestBatch, IngestResult], None] | None = None,
    ) -> None:
        """`on_commit`, if given, is called (on the worker thread) after each batch is
        committed and before its messages are acknowledged: metrics, benchmarks."""
        if batch_size < 1 or max_delay_ms < 0:
            raise ValueError("batch size must be at least 1 and the delay not negative")
        self.url = parse_mqtt_url(url) if isinstance(url, str) else url
        self.session_factory = session_factory
        self.client_id = client_id
        self.group = group
        self.batch_size = batch_size
        self.max_delay_s = max_delay_ms / 1000.0
        self.clock = clock or Clock()
        # How many unacknowledged messages the broker may have in flight to us: enough for
        # the batch being stored and the next ones filling up meanwhile.
        self.receive_maximum = min(65_535, receive_maximum or max(4 * batch_size, 100))
        self._ingest = ingest
        self._on_commit = on_commit
        self.lease_name = leases.INGEST_PREFIX + client_id
        self.holder = f"{client_id}@{socket.gethostname()}:{os.getpid()}"
        self._beat_due = 0.0
        # No group: plain subscriptions, for a single worker (see the module's docstring).
        topics = [READINGS_TOPIC, STATUS_TOPIC]
        self.filters = [shared_subscription(group, t) for t in topics] if group else topics
        # A persistent session keeps the subscriptions of the worker's earlier runs: one that
        # ran alone (plain) and now joins a group would go on receiving the whole stream
        # beside its share, and one that leaves the group would receive everything twice.
        earlier = [shared_subscription(SHARED_GROUP, t) for t in topics] if not group else topics
        self.stale_filters = [f for f in earlier if f not in self.filters]
        self.stats: dict[str, Any] = {
            "received": 0,
            "stored": 0,
            "duplicates": 0,
            "rejected": 0,
            "batches": 0,
            "acked": 0,
            "holds": 0,
            "alerts_published": 0,
            "commit_failures": 0,
            "connects": 0,
            "last_commit_at": None,
        }

        self._queue: collections.deque[_Message] = collections.deque()
        self._cond = threading.Condition()
        self._accepting = True
        self._stopping = False
        self._abandon = threading.Event()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        # The receiver's current connection: a message is acknowledged only on the
        # connection it arrived on (the receiver checks again).
        self._connection = 0
        self._thread: threading.Thread | None = None
        self._alerts_due = time.monotonic()

        self._epoch = 0
        self._receiver: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._send_lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._requests = itertools.count(1)
        self._published: dict[int, list] = {}  # request -> [done event, error]

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> IngestWorker:
        self._thread = threading.Thread(
            target=self._run, name=f"{self.client_id}-store", daemon=True
        )
        self._thread.start()
        self._start_receiver()
        log.info("ingest %s connecting to %s", self.client_id, self.url)
        return self

    def _start_receiver(self) -> None:
        """A receiver process for the session. It connects, and keeps retrying with backoff
        while the broker is unreachable."""
        ours, theirs = socket.socketpair()
        self._epoch += 1
        self._receiver = subprocess.Popen(
            [sys.executable, "-m", "devices.receiver", "--fd", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            cwd=PROJECT_ROOT,
        )
        theirs.close()
        self._conn = Connection(ours.detach())
        self._conn.send(
            {
                "url": self.url,
                "client_id": self.client_id,
                "filters": self.filters,
                "stale_filters": self.stale_filters,
                "receive_maximum": self.receive_maximum,
                "epoch": self._epoch,
                # the receiver judges readings from the future by the system clock, set as ours
                "clock_offset": self.clock.now() - datetime.now(UTC),
                "log_level": logging.getLevelName(log.getEffectiveLevel()),
            }
        )
        self._listener = threading.Thread(
            target=self._listen,
            args=(self._conn, self._receiver),
            name=f"{self.client_id}-listen",
            daemon=True,
        )
        self._listener.start()

    def wait_subscribed(self, timeout: float = 10.0) -> bool:
        return self._subscribed.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def receiver_pid(self) -> int | None:
        return None if self._receiver is None else self._receiver.pid

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking messages, store and acknowledge those taken, then disconnect.
        After `timeout` a batch that still cannot be stored is left unacknowledged (the
        broker delivers it again to the next worker with this client id)."""
        with self._cond:
            self._accepting = False
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("ingest %s: giving up on the batch being stored", self.client_id)
                self._abandon.set()
                self._thread.join(RETRY_MAX_S + 5)
        receiver = self._receiver
        if receiver is not None:
            try:
                self._send("stop")
            except OSError:
                pass
            try:
                receiver.wait(10)
            except subprocess.TimeoutExpired:
                receiver.kill()
                receiver.wait()
        if self._listener is not None:
            self._listener.join(5)
        if self._conn is not None:
            self._conn.close()
        self._connected.clear()
        log.info("ingest %s stopped: %s", self.client_id, self._stats_line())

    def __enter__(self) -> IngestWorker:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- the receiver's side (listening thread): nothing may escape ---------------------

    def _send(self, *request: Any) -> None:
        conn = self._conn
        if conn is None:
            raise OSError("no receiver")
        with self._send_lock:
            conn.send(request)

    def _listen(self, conn: Connection, receiver: subprocess.Popen[bytes]) -> None:
        while True:
            try:
                event = conn.recv()
            except (EOFError, OSError):
                break
            try:
                self._on_event(event)
            except Exception:
                log.exception(
                    "ingest %s: could not take %s from the receiver", self.client_id, event[0]
                )
        self._connected.clear()
        for waiting in list(self._published.values()):
            waiting[1] = "the receiver is gone"
            waiting[0].set()
        if self._stopping:
            return
        # The receiver died under us: what it had not acknowledged stays with the broker,
        # and a new receiver resumes the session.
        receiver.wait()
        log.error(
            "ingest %s: receiver exited (%s); starting another", self.client_id, receiver.returncode
        )
        conn.close()
        while True:
            time.sleep(RECEIVER_RESTART_S)
            if self._stopping:
                return
            try:
                self._start_receiver()  # its own listening thread takes over from here
                return
            except Exception:
                log.exception("ingest %s: could not start a receiver; trying again", self.client_id)

    def _on_event(self, event: tuple) -> None:
        kind = event[0]
        if kind == "messages":
            self._on_messages(event[1])
        elif kind == "connected":
            _, self._connection, session_present = event
            self.stats["connects"] += 1
            self._connected.set()
            log.info("ingest %s connected (session present: %s)", self.client_id, session_present)
        elif kind == "subscribed":
            if event[1]:
                log.error("ingest %s: subscription refused: %s", self.client_id, event[1])
                return
            log.info("ingest %s subscribed to %s", self.client_id, ", ".join(self.filters))
            self._subscribed.set()
        elif kind == "disconnected":
            self._connected.clear()
            if not self._stopping:
                log.warning("ingest %s disconnected: %s", self.client_id, event[1])
        elif kind == "published":
            waiting = self._published.get(event[1])
            if waiting is not None:
                waiting[1] = event[2]
                waiting[0].set()

    def _on_messages(self, received: list[tuple]) -> None:
        if not self._accepting:
            return  # not acknowledged: the broker delivers them again later
        arrived = time.monotonic()
        messages = []
        for one in received:
            try:
                messages.append(_message(one, arrived))
            except Exception:
                # Unacknowledged, so it comes back after a reconnect; logged to be looked at.
                log.exception("ingest %s: could not take message on %s", self.client_id, one[0])
        with self._cond:
            was_empty = not self._queue
            self._queue.extend(messages)
            self.stats["received"] += len(messages)
            if was_empty or len(self._queue) >= self.batch_size:
                self._cond.notify()

    # --- the worker thread ----------------------------------------------------------------

    def _run(self) -> None:
        last_stats = time.monotonic()
        while True:
            try:
                messages = self._take()
                if messages is None:
                    break
                if messages:
                    self._process(messages)
                elif time.monotonic() >= self._beat_due:
                    self._beat()
                if time.monotonic() >= self._alerts_due:
                    self._publish_alerts()
                if time.monotonic() - last_stats >= STATS_LOG_EVERY_S:
                    last_stats = time.monotonic()
                    log.info("ingest %s: %s", self.client_id, self._stats_line())
            except _Abandoned:
                log.warning("ingest %s: stopped with a batch not stored", self.client_id)
                break
            except Exception:
                # Never lets the thread die; the messages of a failed batch stay unacked.
                log.exception("ingest %s: unexpected failure in the store loop", self.client_id)
                time.sleep(RETRY_MIN_S)

    def _take(self) -> list[_Message] | None:
        """The next batch; [] when idle for a while; None once stopping with nothing left."""
        with self._cond:
            if not self._queue:
                if self._stopping:
                    return None
                self._cond.wait(ALERTS_EVERY_S)
                if not self._queue:
                    return None if self._stopping else []
            deadline = self._queue[0].arrived + self.max_delay_s
            while len(self._queue) < self.batch_size and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            count = min(self.batch_size, len(self._queue))
            return [self._queue.popleft() for _ in range(count)]

    def _process(self, messages: list[_Message]) -> None:
        result = self._store(messages)
        self._ack(messages)
        stats = self.stats
        stats["batches"] += 1
        stats["stored"] += result.stored
        stats["duplicates"] += result.duplicates
        stats["rejected"] += result.rejected
        stats["holds"] += result.holds
        stats["last_commit_at"] = self.clock.now()
        if result.alert_ids:
            self._publish_alerts()

    def _store(self, messages: list[_Message]) -> IngestResult:
        """Ingest and commit the batch; retried until stored (or the worker is abandoned)."""
        delay = RETRY_MIN_S
        failures = 0
        while True:
            try:
                return self._commit(build_batch(messages))
            except _TRANSIENT as exc:
                failures = 0
                self.stats["commit_failures"] += 1
                log.warning(
                    "ingest %s: batch of %d not stored (%s); retrying in %.1f s",
                    self.client_id,
                    len(messages),
                    type(exc).__name__,
                    delay,
                )
            except Exception:
                failures += 1
                self.stats["commit_failures"] += 1
                if failures >= 2:
                    return self._isolate(messages)
                log.exception("ingest %s: batch of %d failed", self.client_id, len(messages))
                delay = 0.0  # once more at once: a conflict with another worker may be gone
            if self._abandon.wait(delay):
                raise _Abandoned()
            delay = min(max(delay * 2, RETRY_MIN_S), RETRY_MAX_S)

    def _isolate(self, messages: list[_Message]) -> IngestResult:
        """Split a batch that keeps failing to find the message that breaks it."""
        if len(messages) > 1:
            half = len(messages) // 2
            return _merge(self._store(messages[:half]), self._store(messages[half:]))
        message = messages[0]
        log.error(
            "ingest %s: message on %s cannot be stored; kept as a dead letter",
            self.client_id,
            message.topic,
            exc_info=True,
        )
        exc = sys.exc_info()[1]
        reason = f"ingest_error: {type(exc).__name__}: {exc}" if exc else "ingest_error"
        reject = IncomingReject(
            message.topic, message.device_id, reason, payload_text(message.payload)
        )
        dead = IngestBatch(rejects=[reject])
        delay = RETRY_MIN_S
        while True:
            try:
                return self._commit(dead)
            except Exception:
                log.exception("ingest %s: dead letter not stored; retrying", self.client_id)
            if self._abandon.wait(delay):
                raise _Abandoned()
            delay = min(delay * 2, RETRY_MAX_S)

    def _commit(self, batch: IngestBatch) -> IngestResult:
        started = time.perf_counter()
        with unit_of_work(self.session_factory) as session:
            now = self.clock.now()
            result = self._ingest(session, now, batch)
            self._renew(session, now)
        metrics.batch_committed(
            self.client_id,
            time.perf_counter() - started,
            result.stored,
            result.duplicates,
            result.rejected,
        )
        if self._on_commit is not None:
            try:
                self._on_commit(batch, result)
            except Exception:
                log.exception("ingest %s: on_commit failed", self.client_id)
        return result

    def _renew(self, session: Session, now: datetime) -> None:
        """The worker's lease, renewed with each commit: /health reads when it last committed."""
        leases.beat(session, self.lease_name, self.holder, now, health.INGEST_TTL)
        self._beat_due = time.monotonic() + health.INGEST_IDLE_BEAT.total_seconds()

    def _beat(self) -> None:
        """Idle: renew the lease on its own, so a quiet network is not a dead worker."""
        try:
            with unit_of_work(self.session_factory) as session:
                self._renew(session, self.clock.now())
        except Exception:
            self._beat_due = time.monotonic() + RETRY_MAX_S
            log.warning("ingest %s: lease not renewed", self.client_id, exc_info=True)

    def _ack(self, messages: list[_Message]) -> None:
        if not self._connected.is_set():
            return
        current = self._connection
        acks = [
            (m.mid, m.qos, m.connection) for m in messages if m.qos > 0 and m.connection == current
        ]
        if not acks:
            return
        try:
            self._send("ack", acks)
        except OSError:
            return  # the receiver is gone: the broker delivers them again
        self.stats["acked"] += len(acks)

    def _publish_alerts(self) -> None:
        self._alerts_due = time.monotonic() + ALERTS_EVERY_S
        if not self._connected.is_set():
            return
        try:
            sent = publish_pending_alerts(self.session_factory, self.clock, self._publish)
            self.stats["alerts_published"] += sent
        except Exception:
            log.warning(
                "ingest %s: alerts not published; next round", self.client_id, exc_info=True
            )

    def _publish(self, topic: str, payload: bytes) -> None:
        """Publish at QoS 1 through the receiver; raises ConnectionError if it could not."""
        if not self._connected.is_set():
            raise ConnectionError("not connected to the broker")
        number = next(self._requests)
        waiting: list = [threading.Event(), None]
        self._published[number] = waiting
        try:
            self._send("publish", number, topic, payload)
            if not waiting[0].wait(PUBLISH_TIMEOUT_S):
                raise ConnectionError(f"publish to {topic}: no answer from the receiver")
        except OSError as exc:
            raise ConnectionError(f"publish to {topic}: {exc}") from exc
        finally:
            self._published.pop(number, None)
        if waiting[1] is not None:
            raise ConnectionError(waiting[1])

    def _stats_line(self) -> str:
        s = self.stats
        return (
            f"received {s['received']}, stored {s['stored']}, duplicates {s['duplicates']}, "
            f"rejected {s['rejected']}, batches {s['batches']}, queued {len(self._queue)}"
        )


# --- command line ------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    settings = Settings.from_environment(PROJECT_ROOT / "instance")
    parser = argparse.ArgumentParser(
        prog="python -m devices.ingest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--url",
        default=settings.mqtt_url,
        help="mqtt://[user:password@]host:port (default: $INVENTORY_MQTT_URL)",
    )
    parser.add_argument(
        "--database-url",
        default=settings.database_url,
        help="default: $INVENTORY_DATABASE_URL, else the instance SQLite file",
    )
    parser.add_argument(
        "--client-id",
        default=DEFAULT_CLIENT_ID,
        help="stable per worker: its session keeps unacknowledged messages",
    )
    parser.add_argument(
        "--group",
        default=DEFAULT_GROUP,
        help="shared-subscription group for several workers to split the stream "
        "(default: none, a plain subscription for a single worker, which a broker restart "
        "does not lose)",
    )
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--max-delay-ms", type=float, default=DEFAULT_MAX_DELAY_MS)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("no broker: give --url or set INVENTORY_MQTT_URL")
    try:
        parse_mqtt_url(args.url)
    except ValueError as exc:
        parser.error(f"--url: {exc}")
    if args.batch_size < 1 or args.max_delay_ms < 0:
        parser.error("--batch-size must be at least 1 and --max-delay-ms not negative")
    return args


def run(
    url: str,
    database_url: str,
    *,
    client_id: str = DEFAULT_CLIENT_ID,
    group: str | None = DEFAULT_GROUP,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_delay_ms: float = DEFAULT_MAX_DELAY_MS,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Run a worker until `stop` is set (or SIGTERM / SIGINT in the main thread); returns
    its stats."""
    stop = stop or threading.Event()
    engine = make_engine(database_url)
    worker = IngestWorker(
        url,
        make_session_factory(engine),
        client_id=client_id,
        group=group,
        batch_size=batch_size,
        max_delay_ms=max_delay_ms,
    )

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
    try:
        worker.start()
        while not stop.wait(1.0):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        worker.stop()
        engine.dispose()
    return dict(worker.stats)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    tune_collector()
    run(
        args.url,
        args.database_url,
        client_id=args.client_id,
        group=args.group,
        batch_size=args.batch_size,
        max_delay_ms=args.max_delay_ms,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
