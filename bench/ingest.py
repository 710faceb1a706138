"""The MQTT ingest under load, on SQLite and PostgreSQL; prints figures, asserts nothing.

    python bench/ingest.py [--devices 5000] [--interval 10] [--minutes 2] [--backlog 50000]
        [--backend sqlite|postgresql|both] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--batch-size 500] [--max-delay-ms 200] [--processes 2] [--quick]

Each backend gets its own Mosquitto (a throwaway broker on a free port) and its own
database (a temporary SQLite file, or a PostgreSQL database created for the run and dropped
after it), made by the migrations. N storage units (fridges, 2-8 C) on sites of 100 units
each, one logger registered and attached per unit, and a thawed carton in a few of them.

(a) bare subscriber: a paho client on a persistent session that only counts messages drains
    a QoS 1 backlog of --backlog readings (published while it was away). The ceiling. Two
    such sessions drain it, one before the workers and one after them; the faster counts
    (the rate swings from run to run on a shared machine, and the higher is the harder bar).
(p) pipeline: the worker with a null ingest (receive and decode in its receiver process,
    batch, an empty commit, ack): what the worker itself costs, apart from the telemetry
    service.
(b) ingest: the real worker (devices.ingest.IngestWorker: decode, batch, ingest through the
    telemetry service with dedupe and excursion evaluation, commit, ack) drains the same
    backlog, queued for its own session at the same time. Readings stored per second. The
    units are already watched, as in a service that has been running: each has had one
    reading ingested before the backlog, so it has a saved evaluator. The worker starts cold
    (no evaluators held in its process, as after a restart), so it restores them.
(c) live: N devices each publish a reading every --interval seconds for --minutes, through
    one connection; the worker stores them as they come. Publish-to-commit delay per
    reading (the publisher notes the wall time of each (device, ts), the worker's commit
    hook the time its batch was committed); excursion-to-hold delay for a hot reading (30 C,
    an instant rule) sent to each unit holding a carton, spread over the run (publish ->
    commit of the batch that put the carton on hold, checked in the database after);
    RSS of this process (worker, publisher and bookkeeping) at the start and end.

(m) ingest, --processes N: N real workers as processes of their own (`python -m
    devices.ingest`, distinct client ids, one `$share` group: how the service scales out),
    on a database of their own set up the same way. They connect and subscribe before the
    backlog is published, are paused (SIGSTOP) while it is, and resumed to drain it; stored
    per second counts rows appearing in their database.

The drains run one after the other, on the same machine and broker; (a), (p) and (b) in
this one process (and, for (p) and (b), the worker's receiver process), which tunes its
garbage collector as `python -m devices.ingest` does.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from devices.broker_config import hash_password  # noqa: E402
from devices.codec import READINGS_TOPIC, encode_reading, readings_topic, shared_subscription  # noqa: E402
from devices.connection import connect, make_client  # noqa: E402
from devices.ingest import IngestWorker  # noqa: E402
from devices.receiver import tune_collector  # noqa: E402
from inventory.clock import Clock  # noqa: E402
from inventory.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from inventory.db.models import Carton, Site, StorageUnit  # noqa: E402
from inventory.db.telemetry import Device, DeviceAttachment, Reading  # noqa: E402
from inventory.services import (  # noqa: E402
    custody,
    seed,
    telemetry,  # noqa: E402
)
from inventory.services.access import SYSTEM  # noqa: E402
from inventory.services.telemetry import IncomingReading, IngestBatch, IngestResult  # noqa: E402
from tests.support.database import migrate  # noqa: E402
from tests.support.mosquitto import MosquittoBroker  # noqa: E402

UNITS_PER_SITE = 100
HOT_UNITS = 5
HOT_C = 30.0
TARGETS = {"postgresql": 0.60, "sqlite": 0.50}
CLOCK = Clock()


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class DelayHistogram:
    """Delays counted in whole milliseconds: percentiles in constant memory, so that a long
    run's bookkeeping does not show up as the worker's memory growing."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.n = 0

    def add(self, seconds: float) -> None:
        ms = int(seconds * 1000)
        self.counts[ms] = self.counts.get(ms, 0) + 1
        self.n += 1

    def percentile(self, q: float) -> float:
        if not self.n:
            return float("nan")
        rank = min(self.n - 1, round(q * (self.n - 1)))
        seen = 0
        for ms in sorted(self.counts):
            seen += self.counts[ms]
            if seen > rank:
                return float(ms)
        return float(max(self.counts))

    def max(self) -> float:
        return float(max(self.counts)) if self.counts else float("nan")


def device_id(i: int) -> str:
    return f"bench-{i:05d}"


# --- the database --------------------------------------------------------------------------


class Database:
    """A migrated database of its own: a temporary SQLite file or a fresh PostgreSQL one."""

    def __init__(self, backend: str, pg_url: str) -> None:
        self.backend = backend
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._admin_url: str | None = None
        self._name: str | None = None
        if backend == "sqlite":
            self._tmp = tempfile.TemporaryDirectory(prefix="bench-ingest-")
            self.url = f"sqlite:///{self._tmp.name}/bench.sqlite"
        else:
            self._admin_url = pg_url
            self._name = f"bench_ingest_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            self._admin(f'CREATE DATABASE "{self._name}"')
            url = make_url(pg_url).set(database=self._name)
            self.url = url.render_as_string(hide_password=False)
        migrate(self.url)
        self.engine = make_engine(self.url)
        self.factory = make_session_factory(self.engine)

    def _admin(self, statement: str) -> None:
        assert self._admin_url is not None
        url = make_url(self._admin_url).set(drivername="postgresql+psycopg")
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(statement))
        engine.dispose()

    def close(self) -> None:
        self.engine.dispose()
        if self._name:
            self._admin(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)')
        if self._tmp:
            self._tmp.cleanup()


def populate(db: Database, devices: int, now: datetime) -> list[int]:
    """Sites, one fridge and one logger per device, a thawed carton in the first units.
    Returns the indexes of the devices whose unit holds a carton."""
    secret_hash = hash_password("bench")
    with unit_of_work(db.factory) as session:
        seed.load_catalogue(session)
        sites = []
        for s in range((devices + UNITS_PER_SITE - 1) // UNITS_PER_SITE):
            site = Site(
                code=f"BENCH-{s:03d}",
                name=f"Bench site {s}",
                kind="vaccination_centre",
                region="Bench",
            )
            session.add(site)
            sites.append(site)
        session.flush()
        unit_rows = [
            {
                "code": f"BENCH-{i // UNITS_PER_SITE:03d}-F{i:05d}",
                "site_id": sites[i // UNITS_PER_SITE].id,
                "kind": "fridge",
                "min_c": 2.0,
                "max_c": 8.0,
                "capacity_vials": 5000,
            }
            for i in range(devices)
        ]
        session.execute(insert(StorageUnit), unit_rows)
        unit_ids = dict(session.execute(select(StorageUnit.code, StorageUnit.id)).all())
        attached = now - timedelta(days=1)
        session.execute(
            insert(Device),
            [
                {
                    "id": device_id(i),
                    "secret_hash": secret_hash,
                    "storage_unit_id": unit_ids[row["code"]],
                    "interval_s": 10,
                    "status": "active",
                    "created_at": attached,
                }
                for i, row in enumerate(unit_rows)
            ],
        )
        session.execute(
            insert(DeviceAttachment),
            [
                {
                    "device_id": device_id(i),
                    "storage_unit_id": unit_ids[row["code"]],
                    "attached_at": attached,
                }
                for i, row in enumerate(unit_rows)
            ],
        )
        hot = list(range(min(HOT_UNITS, devices)))
        for i in hot:
            custody.receive(
                session,
                SYSTEM,
                now - timedelta(hours=1),
                custody.ReceiptInput(
                    storage_unit=unit_rows[i]["code"],
                    vials=50,
                    state="thawed",
                    product="vaxigriptetra",
                    lot=f"BENCH{i:03d}",
                    expiry=(now + timedelta(days=200)).date(),
                ),
            )
    return hot


# --- MQTT clients ------------------------------------------------------------------------------


class QuietBroker(MosquittoBroker):
    """The test broker without its per-packet log, which would cost the broker more than
    the messages themselves."""

    def _config(self) -> str:
        lines = super()._config().splitlines()
        kept = [line for line in lines if not line.startswith(("log_type", "connection_messages"))]
        return "\n".join(kept + ["log_type error", "log_type warning"]) + "\n"


class BareSubscriber:
    """Counts messages and does nothing else (paho acknowledges each on receipt)."""

    def __init__(self, url: str, target: int, name: str = "bare") -> None:
        self.count = 0
        self.target = target
        self.done = threading.Event()
        self.subscribed = threading.Event()
        self.finished_at = 0.0
        self.client = make_client(url, f"bench-{name}", persistent=True)
        topic = shared_subscription(name, READINGS_TOPIC)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message

    def _on_message(self, client, userdata, message) -> None:  # type: ignore[no-untyped-def]
        self.count += 1
        if self.count == self.target:
            self.finished_at = time.perf_counter()
            self.done.set()

    def start(self) -> float:
        started = time.perf_counter()
        connect(self.client)
        self.client.loop_start()
        return started

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Publisher:
    """One connection publishing for every device at QoS 1."""

    def __init__(self, url: str) -> None:
        self.acked = 0
        self._cond = threading.Condition()
        self.client = make_client(url, "bench-publisher", persistent=False)
        self.client.max_inflight_messages_set(1000)
        self.client.on_publish = self._on_publish
        self.sent = 0

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        with self._cond:
            self.acked += 1
            self._cond.notify_all()

    def __enter__(self) -> Publisher:
        connect(self.client)
        self.client.loop_start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, device: str, payload: bytes) -> None:
        self.client.publish(readings_topic(device), payload, qos=1)
        self.sent += 1

    def wait_all_acked(self, timeout: float = 120.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.acked >= self.sent, timeout)


# --- the runs --------------------------------------------------------------------------------


@dataclass
class Figures:
    backend: str
    backlog: int = 0
    publish_rate: float = 0.0
    bare_rate: float = 0.0
    bare_rates: list[float] = field(default_factory=list)
    pipeline_rate: float = 0.0
    ingest_rate: float = 0.0
    ingest_batches: int = 0
    multi_rate: float = 0.0
    live_published: int = 0
    live_stored: int = 0
    live_rate: float = 0.0
    delay_p50_ms: float = float("nan")
    delay_p99_ms: float = float("nan")
    delay_max_ms: float = float("nan")
    hold_delays_ms: list[float] = field(default_factory=list)
    holds_seen: int = 0
    rss_start_mb: float = float("nan")
    rss_end_mb: float = float("nan")
    rss_max_mb: float = float("nan")
    rss_per_minute_mb: list[float] = field(default_factory=list)
    receiver_rss_mb: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.ingest_rate / self.bare_rate if self.bare_rate else float("nan")

    @property
    def multi_ratio(self) -> float:
        return self.multi_rate / self.bare_rate if self.bare_rate else float("nan")


def make_worker(
    broker: MosquittoBroker,
    db: Database,
    args: argparse.Namespace,
    *,
    client_id: str = "bench-ingest",
    group: str = "ingest",
    **options,
) -> IngestWorker:
    return IngestWorker(
        broker.url,
        db.factory,
        client_id=client_id,
        group=group,
        batch_size=args.batch_size,
        max_delay_ms=args.max_delay_ms,
        **options,
    )


def null_ingest(session, now, batch: IngestBatch) -> IngestResult:  # type: ignore[no-untyped-def]
    return IngestResult(stored=len(batch.readings), rejected=len(batch.rejects))


def drain_with_worker(worker: IngestWorker, m: int, figures: Figures, what: str) -> float:
    """Readings stored per second while the worker drains a backlog of m messages."""
    began = time.perf_counter()
    worker.start()
    deadline = began + max(120.0, m / 500)
    while worker.stats["stored"] + worker.stats["duplicates"] + worker.stats["rejected"] < m:
        if time.perf_counter() > deadline:
            figures.notes.append(f"{what} stored only {worker.stats['stored']} of {m} in time")
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - began
    worker.stop()
    if worker.stats["rejected"] or worker.stats["duplicates"]:
        figures.notes.append(
            f"{what}: {worker.stats['rejected']} rejected, {worker.stats['duplicates']} duplicates"
        )
    return worker.stats["stored"] / elapsed


class WorkerProcesses:
    """Ingest workers as separate processes sharing one subscription group."""

    def __init__(self, broker: MosquittoBroker, db: Database, args: argparse.Namespace) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.subscribed = [threading.Event() for _ in range(args.processes)]
        for k in range(args.processes):
            command = [
                sys.executable,
                "-m",
                "devices.ingest",
                "--url",
                broker.url,
                "--database-url",
                db.url,
                "--client-id",
                f"bench-multi-{k}",
                "--group",
                "multi",
                "--batch-size",
                str(args.batch_size),
                "--max-delay-ms",
                str(args.max_delay_ms),
            ]
            # a session of its own, so that a signal reaches the worker and its receiver
            proc = subprocess.Popen(
                command, cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True
            )
            self.procs.append(proc)
            threading.Thread(
                target=self._watch, args=(proc, self.subscribed[k]), daemon=True
            ).start()

    @staticmethod
    def _watch(proc: subprocess.Popen[str], subscribed: threading.Event) -> None:
        assert proc.stderr is not None
        log = os.environ.get("BENCH_WORKER_LOG")
        out = open(f"{log}.{proc.pid}", "w") if log else None
        for line in proc.stderr:  # keep the pipe drained
            if out:
                out.write(line)
                out.flush()
            if " subscribed to " in line:
                subscribed.set()

    def wait_subscribed(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        return all(event.wait(max(0.0, deadline - time.monotonic())) for event in self.subscribed)

    def signal(self, sig: int) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, sig)

    def stop(self) -> None:
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def stored_readings(db: Database) -> int:
    with unit_of_work(db.factory) as session:
        return session.scalar(select(func.count(Reading.id)))


def drain_with_processes(workers: WorkerProcesses, db: Database, m: int, figures: Figures) -> float:
    """Readings stored per second while the paused worker processes, resumed, drain m."""
    before = stored_readings(db)
    began = time.perf_counter()
    workers.signal(signal.SIGCONT)
    deadline = began + max(120.0, m / 500)
    stored = 0
    while stored < m:
        if time.perf_counter() > deadline:
            figures.notes.append(
                f"{len(workers.procs)} processes stored only {stored} of {m} in time"
            )
            break
        time.sleep(0.02)
        stored = stored_readings(db) - before
    return stored / (time.perf_counter() - began)


def drain_backlog(
    broker: MosquittoBroker,
    db: Database,
    args: argparse.Namespace,
    figures: Figures,
    multi_db: Database | None = None,
) -> None:
    n, m = args.devices, args.backlog
    # Both sessions exist (and are away) before the backlog is published: the broker
    # queues every reading for each of them.
    bares = [BareSubscriber(broker.url, m, name=f"bare-{k}") for k in range(2)]
    for bare in bares:
        bare.start()
        bare.subscribed.wait(10)
        bare.stop()
    for options in ({}, {"client_id": "bench-pipeline", "group": "pipeline"}):
        worker = make_worker(broker, db, args, **options).start()
        worker.wait_subscribed(10)
        worker.stop()

    per_device = (m + n - 1) // n
    start = CLOCK.now() - timedelta(seconds=per_device * args.interval + 600)
    rng = random.Random(1)
    watch_units(db, n, start - timedelta(seconds=args.interval))
    processes = None
    if multi_db is not None:
        watch_units(multi_db, n, start - timedelta(seconds=args.interval))
        processes = WorkerProcesses(broker, multi_db, args)
        if not processes.wait_subscribed(60):
            figures.notes.append("worker processes did not subscribe in time")
        processes.signal(signal.SIGSTOP)
    with Publisher(broker.url) as publisher:
        began = time.perf_counter()
        sent = 0
        for k in range(per_device):
            for i in range(n):
                if sent == m:
                    break
                ts = start + timedelta(seconds=k * args.interval + i % args.interval)
                publisher.publish(device_id(i), encode_reading(ts, round(rng.gauss(5.0, 0.5), 2)))
                sent += 1
        publisher.wait_all_acked()
        figures.publish_rate = m / (time.perf_counter() - began)
    figures.backlog = m

    figures.bare_rates.append(drain_bare(bares[0], m, figures))
    pipeline = make_worker(
        broker, db, args, client_id="bench-pipeline", group="pipeline", ingest=null_ingest
    )
    figures.pipeline_rate = drain_with_worker(pipeline, m, figures, "pipeline")
    worker = make_worker(broker, db, args)
    figures.ingest_rate = drain_with_worker(worker, m, figures, "ingest")
    figures.ingest_batches = worker.stats["batches"]
    if processes is not None and multi_db is not None:
        try:
            figures.multi_rate = drain_with_processes(processes, multi_db, m, figures)
        finally:
            processes.stop()
    figures.bare_rates.append(drain_bare(bares[1], m, figures))
    figures.bare_rate = max(figures.bare_rates)


def drain_bare(bare: BareSubscriber, m: int, figures: Figures) -> float:
    began = bare.start()
    if not bare.done.wait(max(60.0, m / 2000)):
        figures.notes.append(f"bare subscriber counted only {bare.count} of {m}")
    rate = bare.count / ((bare.finished_at or time.perf_counter()) - began)
    bare.stop()
    return rate


def watch_units(db: Database, n: int, at: datetime) -> None:
    """One reading per unit through the telemetry service, then forget the evaluators this
    process holds: the units have a saved state, the worker has no copy of it."""
    batch = IngestBatch(readings=[IncomingReading(device_id(i), at, 5.0) for i in range(n)])
    with unit_of_work(db.factory) as session:
        telemetry.ingest(session, CLOCK.now(), batch)
    telemetry.forget_evaluators()


def live_run(
    broker: MosquittoBroker,
    db: Database,
    args: argparse.Namespace,
    hot_devices: list[int],
    figures: Figures,
) -> None:
    published: dict[tuple[str, datetime], float] = {}
    hot_published: dict[tuple[str, datetime], float] = {}
    delays = DelayHistogram()
    hold_delays: list[float] = []
    lock = threading.Lock()

    def on_commit(batch: IngestBatch, result: IngestResult) -> None:
        committed = time.time()
        with lock:
            for reading in batch.readings:
                key = (reading.device_id, reading.ts)
                sent = published.pop(key, None)
                if sent is not None:
                    delays.add(committed - sent)
                sent = hot_published.pop(key, None)
                if sent is not None and result.holds:
                    hold_delays.append(committed - sent)

    worker = make_worker(broker, db, args, on_commit=on_commit).start()
    worker.wait_subscribed(10)
    stored_before = worker.stats["stored"]
    n, interval = args.devices, args.interval
    duration = args.minutes * 60
    rng = random.Random(2)
    phases = [rng.uniform(0, interval) for _ in range(n)]
    # each unit holding a carton gets one hot reading, spread over the middle of the run
    hot_at = {
        i: duration * (0.2 + 0.6 * j / max(1, len(hot_devices))) for j, i in enumerate(hot_devices)
    }

    figures.rss_start_mb = rss_mb()
    rss_max = figures.rss_start_mb
    receiver = worker.receiver_pid
    figures.receiver_rss_mb.append(rss_mb(receiver))
    with Publisher(broker.url) as publisher:
        began = time.monotonic()
        schedule = sorted((phases[i], i) for i in range(n))
        rounds = 0
        while True:
            round_start = began + rounds * interval
            if round_start - began >= duration:
                break
            for phase, i in schedule:
                due = round_start + phase
                if due - began >= duration:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                ts = CLOCK.now()
                device = device_id(i)
                hot = i in hot_at and hot_at[i] <= due - began
                c = HOT_C if hot else round(rng.gauss(5.0, 0.3), 2)
                now = time.time()
                with lock:
                    published[(device, ts)] = now
                    if hot:
                        hot_published[(device, ts)] = now
                if hot:
                    del hot_at[i]
                publisher.publish(device, encode_reading(ts, c))
            rounds += 1
            rss_max = max(rss_max, rss_mb())
            if time.monotonic() - began >= 60 * len(figures.rss_per_minute_mb):
                figures.rss_per_minute_mb.append(rss_mb())
                figures.receiver_rss_mb.append(rss_mb(receiver))
        publisher.wait_all_acked()
        figures.live_published = publisher.sent
    deadline = time.monotonic() + 60
    while (
        worker.stats["stored"] - stored_before < figures.live_published
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    figures.rss_end_mb = rss_mb()
    figures.rss_max_mb = max(rss_max, figures.rss_end_mb)
    figures.receiver_rss_mb.append(rss_mb(receiver))
    worker.stop()
    figures.live_stored = worker.stats["stored"] - stored_before
    figures.live_rate = figures.live_stored / duration
    figures.delay_p50_ms = delays.percentile(0.50)
    figures.delay_p99_ms = delays.percentile(0.99)
    figures.delay_max_ms = delays.max()
    figures.hold_delays_ms = [d * 1000 for d in hold_delays]
    with unit_of_work(db.factory) as session:
        figures.holds_seen = session.scalar(
            select(func.count(Carton.id)).where(Carton.status == "held")
        )
        live_rows = session.scalar(select(func.count(Reading.id)))
    if figures.holds_seen < len(hot_devices):
        figures.notes.append(
            f"only {figures.holds_seen} of {len(hot_devices)} hot units' cartons held"
        )
    if figures.live_stored < figures.live_published:
        figures.notes.append(
            f"live: {figures.live_published - figures.live_stored} readings not stored "
            f"within 60 s of the end ({live_rows} rows in all)"
        )


def run_backend(backend: str, args: argparse.Namespace) -> Figures:
    figures = Figures(backend)
    print(
        f"\n== {backend}: {args.devices} devices, backlog {args.backlog}, live {args.minutes:g} min "
        f"every {args.interval:g} s",
        flush=True,
    )
    broker = QuietBroker(persistence=False).start()
    db = Database(backend, args.pg_url)
    multi_db = Database(backend, args.pg_url) if args.processes > 1 else None
    try:
        began = time.perf_counter()
        hot = populate(db, args.devices, CLOCK.now())
        if multi_db is not None:
            populate(multi_db, args.devices, CLOCK.now())
        print(f"   set up in {time.perf_counter() - began:.1f} s", flush=True)
        drain_backlog(broker, db, args, figures, multi_db)
        print(
            f"   backlog: published {figures.publish_rate:,.0f}/s; bare {figures.bare_rate:,.0f}/s "
            f"(runs: {', '.join(f'{r:,.0f}' for r in figures.bare_rates)}); "
            f"pipeline {figures.pipeline_rate:,.0f}/s; ingest {figures.ingest_rate:,.0f}/s in "
            f"{figures.ingest_batches} batches ({figures.ratio:.0%})",
            flush=True,
        )
        if multi_db is not None:
            print(
                f"   backlog, {args.processes} worker processes: {figures.multi_rate:,.0f}/s "
                f"({figures.multi_ratio:.0%})",
                flush=True,
            )
        live_run(broker, db, args, hot, figures)
        print(
            f"   live: {figures.live_stored}/{figures.live_published} stored, "
            f"delay p50 {figures.delay_p50_ms:.0f} ms p99 {figures.delay_p99_ms:.0f} ms",
            flush=True,
        )
    finally:
        db.close()
        if multi_db is not None:
            multi_db.close()
        broker.close()
    return figures


def report(all_figures: list[Figures], args: argparse.Namespace) -> None:
    print(
        "\nbackend     backlog  bare msg/s  pipeline/s  ingest stored/s  real/bare  target |"
        " live: readings/s  p50 ms  p99 ms  max ms  hold p99 ms (n)  RSS start/end/max MB"
    )
    for f in all_figures:
        target = TARGETS[f.backend]
        verdict = "met" if f.ratio >= target else "MISSED"
        hold = (
            f"{percentile(f.hold_delays_ms, 0.99):7.0f} ({len(f.hold_delays_ms)})"
            if f.hold_delays_ms
            else "      - (0)"
        )
        print(
            f"{f.backend:<10} {f.backlog:>8,} {f.bare_rate:>11,.0f} {f.pipeline_rate:>11,.0f} "
            f"{f.ingest_rate:>16,.0f} "
            f"{f.ratio:>9.0%}  {target:.0%} {verdict:<6}| {f.live_rate:>16,.1f} "
            f"{f.delay_p50_ms:>7.0f} {f.delay_p99_ms:>7.0f} {f.delay_max_ms:>7.0f}  {hold:>15}  "
            f"{f.rss_start_mb:.0f}/{f.rss_end_mb:.0f}/{f.rss_max_mb:.0f}"
        )
        if f.multi_rate:
            verdict = "met" if f.multi_ratio >= target else "MISSED"
            print(
                f"{'':<10} {'':>8} {'':>11} {args.processes:>7} procs {f.multi_rate:>16,.0f} "
                f"{f.multi_ratio:>9.0%}  {target:.0%} {verdict:<6}|"
            )
        if f.rss_per_minute_mb:
            print(
                f"           RSS each minute of the live run (MB): "
                f"{' '.join(f'{v:.0f}' for v in f.rss_per_minute_mb)}; the worker's receiver process: "
                f"{' '.join(f'{v:.0f}' for v in f.receiver_rss_mb)} (start, each minute, end)"
            )
        for note in f.notes:
            print(f"           note: {note}")
    print(
        f"\n{args.devices} devices every {args.interval:g} s for {args.minutes:g} min; batch size "
        f"{args.batch_size}, max delay {args.max_delay_ms:g} ms; {os.cpu_count()} CPUs"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument(
        "--interval", type=float, default=10.0, help="seconds between a device's readings"
    )
    parser.add_argument("--minutes", type=float, default=2.0, help="length of the live run")
    parser.add_argument(
        "--backlog",
        type=int,
        default=50_000,
        help="readings in the QoS 1 backlog (10 per device by default: a sustained rate)",
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an administrative URL: the run creates and drops its own database",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="also drain the backlog with this many worker processes (1: skip)",
    )
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--max-delay-ms", type=float, default=200.0)
    parser.add_argument(
        "--quick", action="store_true", help="500 devices every 5 s for 15 s, a 5,000 backlog"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.devices, args.interval, args.minutes, args.backlog = 500, 5.0, 0.25, 5_000
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tune_collector()  # this process stands for the worker's, which `python -m devices.ingest` tunes so
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    figures = [run_backend(backend, args) for backend in backends]
    report(figures, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
