"""Readings at national size on PostgreSQL: charts, a late backlog's replay, and the ingest
ratio with and without partitions. Prints figures, asserts nothing.

    nice -n 10 python bench/national.py [--loggers 5000] [--days 30] [--interval-s 120]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--database inventory_national]
        [--ingest-devices 1000] [--ingest-backlog 30000] [--ingest-rounds 2] [--keep]
        [--ingest-only]

1. A database of its own (`--database`, dropped and made again; kept with `--keep`), migrated;
   one fridge and one logger per unit (bench/ingest.py's populate). Its PostgreSQL backend is
   reniced too when the script may (same machine, root): the work is the server's.
2. Readings: `--loggers` x `--days` at one every `--interval-s` (defaults: 5,000 loggers, a
   month, every 2 minutes: 108 million), made by the server (generate_series), a month's
   partition at a time, loaded before its indexes and then attached (the indexes are built
   once, sorted, instead of row by row). Logger 0 has a gap of 6 hours ending 6 hours ago:
   the late backlog of step 5.
3. Hourly roll-ups: of the readings, by one INSERT ... SELECT per day (the roll-up job's
   grouping); hours before the readings (up to 90 days) are made directly, as if rolled up
   and their raw readings let go; vacuumed, as autovacuum keeps it (migration 0012: every
   50,000 new rows), so the pages are all-visible. Then one round of the scheduler's roll-up job
   (monitoring.roll_up: the last 6 hours restated) is timed.
4. Charts, through the service the API calls (monitoring.readings), for 20 units chosen at
   random: the last 24 hours (raw readings) and the last 90 days (roll-ups, plus the raw
   readings of the hours not yet rolled up), the collector tuned as an API worker's is
   (devices.receiver.tune_collector). The first call (cold) and the median and worst
   of the rest. Target: each under 50 ms.
5. Excursion replay: logger 0's 6-hour backlog (180 readings, 20 minutes of them at 12 C)
   arrives late in one batch: telemetry.ingest evaluates the unit's readings again around it
   (the excursion, its hold and alerts), in one unit of work. Timed.
6. Ingest: bench/ingest.py's backlog drain (bare subscriber, then the real worker) on two
   fresh databases, one with the partitioned `readings` (the migrations' head) and one with
   a plain table (migration 0007's downgrade), in the same run. The ratio stored/s over the
   bare subscriber's msg/s, the kinds alternating round by round and both kinds of a round
   over the same bare rate (the best of the round's four bare drains); the median of the
   partitioned rounds must be within 5 points of the plain table's. `--ingest-only`:
   this step alone (`--ingest-rounds` of it).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ingest as ingest_bench  # noqa: E402
from alembic.operations import Operations  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from devices.receiver import tune_collector  # noqa: E402
from inventory.db import make_engine, make_session_factory, partitions, unit_of_work  # noqa: E402
from inventory.db.models import StorageUnit  # noqa: E402
from inventory.db.telemetry import Excursion  # noqa: E402
from inventory.services import monitoring, telemetry  # noqa: E402
from inventory.services.access import SYSTEM  # noqa: E402
from inventory.services.telemetry import IncomingReading, IngestBatch  # noqa: E402
from tests.support.database import migrate  # noqa: E402

CHART_TARGET_MS = 50.0
CHART_UNITS = 20
BACKLOG_HOURS = 6
BACKLOG_ENDS_AGO = timedelta(hours=6)


def admin(pg_url: str, statement: str) -> None:
    engine = create_engine(
        make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def database_url(pg_url: str, name: str) -> str:
    url = make_url(pg_url).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


def renice_backend(conn) -> None:
    """The server does the generating: its backend gets the same low priority as we have."""
    pid = conn.scalar(text("SELECT pg_backend_pid()"))
    try:
        os.setpriority(os.PRIO_PROCESS, pid, max(10, os.getpriority(os.PRIO_PROCESS, 0)))
    except OSError as exc:
        print(f"   (backend {pid} not reniced: {exc})")


def months_between(start: datetime, end: datetime) -> list[datetime]:
    month, months = partitions.month_start(start), []
    while month < end:
        months.append(month)
        month = partitions.add_months(month, 1)
    return months


# ---------------------------------------------------------------- 2. readings


def generate_readings(engine, start: datetime, end: datetime, interval_s: int) -> int:
    gap_end = end - BACKLOG_ENDS_AGO
    gap_start = gap_end - timedelta(hours=BACKLOG_HOURS)
    total = 0
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        renice_backend(conn)
        conn.execute(text("SET maintenance_work_mem = '1GB'"))
        conn.execute(text("SET synchronous_commit = off"))
        for month in months_between(start, end):
            total += load_month(conn, month, start, end, interval_s, (gap_start, gap_end))
        began = time.perf_counter()
        conn.execute(text("ANALYZE readings"))
        print(f"   analyzed in {time.perf_counter() - began:.0f} s", flush=True)
    return total


def load_month(conn, month, start, end, interval_s: int, gap) -> int:
    name = partitions.partition_name(month)
    lo, hi = month, partitions.add_months(month, 1)
    if month in partitions.monthly_partitions(conn):
        partitions.drop_month(conn, month)
    conn.execute(text(f"CREATE TABLE {name} (LIKE readings INCLUDING DEFAULTS)"))
    began, rows = time.perf_counter(), 0
    day = max(start, lo)
    while day < min(end, hi):
        until = min(day + timedelta(days=1), end, hi)
        rows += conn.execute(
            text(
                f"INSERT INTO {name} (device_id, storage_unit_id, ts, c, received_at) "
                "SELECT d.id, d.storage_unit_id, t, "
                "round((5.0 + 1.2 * sin(extract(epoch FROM t) / 3600.0 + d.storage_unit_id) "
                "+ random() * 0.4)::numeric, 2), t + interval '4 seconds' "
                "FROM generate_series(CAST(:lo AS timestamptz), CAST(:hi AS timestamptz) "
                "- interval '1 microsecond', make_interval(secs => :step)) t "
                "CROSS JOIN devices d "
                "WHERE NOT (d.id = :gap_device AND t >= :gap_lo AND t < :gap_hi)"
            ),
            {
                "lo": day,
                "hi": until,
                "step": interval_s,
                "gap_device": ingest_bench.device_id(0),
                "gap_lo": gap[0],
                "gap_hi": gap[1],
            },
        ).rowcount
        day = until
    loaded = time.perf_counter() - began
    began = time.perf_counter()
    bounds = f"ts >= '{lo.isoformat()}' AND ts < '{hi.isoformat()}'"
    conn.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_month CHECK ({bounds})"))
    conn.execute(
        text(
            f"ALTER TABLE readings ATTACH PARTITION {name} "
            f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{hi.isoformat()}')"
        )
    )
    conn.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_month"))
    print(
        f"   {name}: {rows:,} readings loaded in {loaded:.0f} s ({rows / max(loaded, 1e-9):,.0f}/s), "
        f"indexed and attached in {time.perf_counter() - began:.0f} s",
        flush=True,
    )
    return rows


# ---------------------------------------------------------------- 3. roll-ups


def roll_up(engine, factory, start: datetime, end: datetime, history_days: int) -> None:
    settled = end.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    began = time.perf_counter()
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        renice_backend(conn)
        day = start.replace(minute=0, second=0, microsecond=0)
        while day < settled:
            until = min(day + timedelta(days=1), settled)
            conn.execute(
                text(
                    "INSERT INTO reading_rollups (storage_unit_id, hour, min_c, max_c, count) "
                    "SELECT storage_unit_id, date_trunc('hour', ts AT TIME ZONE 'UTC') "
                    "AT TIME ZONE 'UTC', min(c), max(c), count(*) FROM readings "
                    "WHERE ts >= :lo AND ts < :hi GROUP BY 1, 2"
                ),
                {"lo": day, "hi": until},
            )
            day = until
        rolled = time.perf_counter() - began
        began = time.perf_counter()
        if history_days > 0:
            conn.execute(
                text(
                    "INSERT INTO reading_rollups (storage_unit_id, hour, min_c, max_c, count) "
                    "SELECT u.id, h, 3.8 + random(), 5.2 + random(), 30 FROM storage_units u "
                    "CROSS JOIN generate_series(CAST(:lo AS timestamptz), "
                    "CAST(:hi AS timestamptz) - interval '1 hour', interval '1 hour') h"
                ),
                {
                    "lo": start.replace(minute=0) - timedelta(days=history_days),
                    "hi": start.replace(minute=0),
                },
            )
        # as autovacuum leaves it (every 50,000 new rows, migration 0012): pages all-visible,
        # so a long chart is an index-only scan
        conn.execute(text("VACUUM (ANALYZE) reading_rollups"))
        count = conn.scalar(text("SELECT count(*) FROM reading_rollups"))
    print(
        f"   roll-ups: the readings' hours in {rolled:.0f} s, {history_days} days before them "
        f"in {time.perf_counter() - began:.0f} s; {count:,} roll-up rows",
        flush=True,
    )
    began = time.perf_counter()
    with unit_of_work(factory) as session:
        written, _ = monitoring.roll_up(session, end)
    print(
        f"   one round of the roll-up job (last 6 hours restated): {written:,} rows written "
        f"in {(time.perf_counter() - began) * 1000:,.0f} ms",
        flush=True,
    )


# ---------------------------------------------------------------- 4. charts


def time_charts(factory, end: datetime, loggers: int) -> dict[str, list[float]]:
    with unit_of_work(factory) as session:
        codes = session.scalars(select(StorageUnit.code).order_by(StorageUnit.id)).all()
    chosen = random.Random(7).sample(codes[:loggers], min(CHART_UNITS, loggers))
    timings: dict[str, list[float]] = {"24 h (raw)": [], "90 days (roll-ups)": []}
    for label, span in (
        ("24 h (raw)", timedelta(hours=24)),
        ("90 days (roll-ups)", timedelta(days=90)),
    ):
        vacuums = vacuums_running(factory)
        for code in chosen:
            with unit_of_work(factory) as session:
                began = time.perf_counter()
                chart = monitoring.readings(session, SYSTEM, code, end - span, end, end)
                points = len(chart["readings"] or chart["buckets"] or [])
                timings[label].append((time.perf_counter() - began) * 1000)
        vacuums |= vacuums_running(factory)
        slowest = max(range(len(chosen)), key=timings[label].__getitem__)
        print(
            f"   {label}: {points} points per chart; slowest {chosen[slowest]} "
            f"{timings[label][slowest]:.1f} ms; vacuums running: "
            + (", ".join(sorted(vacuums)) or "none"),
            flush=True,
        )
    return timings


def vacuums_running(factory) -> set[str]:
    """Tables (auto)vacuum is working through: a chart read beside a vacuum of a month's
    partition shares the disk with it."""
    with unit_of_work(factory) as session:
        rows = session.execute(
            text("SELECT relid::regclass::text, phase FROM pg_stat_progress_vacuum")
        )
        return {f"{table} ({phase})" for table, phase in rows}


def explain_chart(engine, end: datetime) -> None:
    with engine.connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT ts, c FROM readings "
                "WHERE storage_unit_id = 2 AND ts >= :lo AND ts < :hi ORDER BY ts"
            ),
            {"lo": end - timedelta(hours=24), "hi": end},
        ).scalars()
        print("   the 24-hour chart's query:\n" + "\n".join(f"      {line}" for line in plan))


# ---------------------------------------------------------------- 5. a late backlog


def replay_backlog(factory, end: datetime, interval_s: int) -> None:
    gap_end = end - BACKLOG_ENDS_AGO
    gap_start = gap_end - timedelta(hours=BACKLOG_HOURS)
    step = timedelta(seconds=interval_s)
    times = [gap_start + k * step for k in range((gap_end - gap_start) // step)]
    hot_from = gap_start + timedelta(hours=2)
    readings = [
        IncomingReading(
            ingest_bench.device_id(0),
            ts,
            12.0 if hot_from <= ts < hot_from + timedelta(minutes=20) else 5.0,
        )
        for ts in times
    ]
    with unit_of_work(factory) as session:
        before = session.scalar(select(Excursion.id).order_by(Excursion.id.desc()).limit(1)) or 0
    began = time.perf_counter()
    with unit_of_work(factory) as session:
        result = telemetry.ingest(session, end, IngestBatch(readings=readings))
    took = (time.perf_counter() - began) * 1000
    with unit_of_work(factory) as session:
        made = session.scalars(select(Excursion).where(Excursion.id > before)).all()
        found = [(e.direction, e.started_at.isoformat(), e.max_c) for e in made]
    print(
        f"   replay: {len(readings)} late readings in one batch: {took:,.0f} ms; stored "
        f"{result.stored}, {result.holds} hold(s), {len(result.alert_ids)} alert(s); "
        f"excursions {found}",
        flush=True,
    )


# ---------------------------------------------------------------- 6. ingest


def unpartition(db: ingest_bench.Database) -> None:
    """Migration 0007's downgrade on a database at the head: `readings` as one plain table."""
    spec = importlib.util.spec_from_file_location(
        "readings_by_month", ROOT / "migrations" / "versions" / "0007_readings_by_month.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    with db.engine.begin() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            module.downgrade()
        assert not partitions.is_partitioned(conn)


def ingest_ratios(args: argparse.Namespace) -> dict[str, list[float]]:
    bench_args = ingest_bench.parse_args(
        [
            "--backend", "postgresql", "--pg-url", args.pg_url, "--processes", "1",
            "--devices", str(args.ingest_devices), "--backlog", str(args.ingest_backlog),
        ]
    )  # fmt: skip
    ratios: dict[str, list[float]] = {"partitioned": [], "plain table": []}
    for _ in range(args.ingest_rounds):
        # both kinds of a round against one bare rate, the best of all four bare drains of
        # the pair: the bare subscriber's rate swings more between drains than the kinds differ
        pair = {kind: ingest_drain(args, bench_args, kind) for kind in ratios}
        bare = max(rate for figures in pair.values() for rate in figures.bare_rates)
        for kind, figures in pair.items():
            ratios[kind].append(figures.ingest_rate / bare)
            print(
                f"   ingest, {kind}: bare {figures.bare_rate:,.0f} msg/s, ingest "
                f"{figures.ingest_rate:,.0f} stored/s ({figures.ingest_rate / bare:.0%} of the "
                f"pair's bare {bare:,.0f})",
                flush=True,
            )
    return ratios


def ingest_drain(args, bench_args, kind: str):
    """bench/ingest.py's backlog drain on a fresh database of this kind of readings table."""
    broker = ingest_bench.QuietBroker(persistence=False).start()
    db = ingest_bench.Database("postgresql", args.pg_url)
    try:
        if kind == "plain table":
            unpartition(db)
        ingest_bench.populate(db, bench_args.devices, ingest_bench.CLOCK.now())
        figures = ingest_bench.Figures("postgresql")
        ingest_bench.drain_backlog(broker, db, bench_args, figures)
        return figures
    finally:
        db.close()
        broker.close()


# ---------------------------------------------------------------- the run


def report(timings, ratios, total: int, sizes: dict[str, str]) -> None:
    print(f"\n{total:,} readings; sizes: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    print("chart                 cold ms  median ms  worst ms  target")
    for label, values in timings.items():
        warm = values[1:] or values
        verdict = "met" if max(warm) < CHART_TARGET_MS else "MISSED"
        print(
            f"{label:<20} {values[0]:>8.1f} {statistics.median(warm):>10.1f} {max(warm):>9.1f}"
            f"  < {CHART_TARGET_MS:.0f} ms {verdict}"
        )
    if ratios:
        report_ingest(ratios)


def report_ingest(ratios: dict[str, list[float]]) -> None:
    """Each kind's median over the rounds (they alternate, so both see the same machine)."""
    middle = {kind: statistics.median(values) for kind, values in ratios.items()}
    gap = (middle["plain table"] - middle["partitioned"]) * 100
    for kind, values in ratios.items():
        print(f"ingest/bare, {kind}: " + ", ".join(f"{v:.0%}" for v in values))
    print(
        f"ingest/bare, medians: partitioned {middle['partitioned']:.0%}, plain table "
        f"{middle['plain table']:.0%} ({gap:+.1f} points; within 5: "
        f"{'met' if gap <= 5 else 'MISSED'})"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loggers", type=int, default=5000)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--interval-s", type=int, default=120)
    parser.add_argument("--history-days", type=int, default=90, help="roll-ups reach this far")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="inventory_national")
    parser.add_argument("--ingest-devices", type=int, default=1000)
    parser.add_argument("--ingest-backlog", type=int, default=30_000)
    parser.add_argument("--ingest-rounds", type=int, default=2, help="0: skip the ingest part")
    parser.add_argument("--keep", action="store_true", help="keep the database after the run")
    parser.add_argument("--ingest-only", action="store_true", help="only the ingest part")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.ingest_only:
        report_ingest(ingest_ratios(args))
        return 0
    if not args.database.replace("_", "").isalnum():
        raise SystemExit(f"refusing database name {args.database!r}")
    admin(args.pg_url, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    admin(args.pg_url, f'CREATE DATABASE "{args.database}"')
    url = database_url(args.pg_url, args.database)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        began = time.perf_counter()
        migrate(url)
        now = datetime.now(UTC)
        end = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 2)
        start = end - timedelta(days=args.days)
        ingest_bench.populate(ingest_bench_db(engine, factory), args.loggers, end)
        print(
            f"== {args.loggers:,} loggers, {args.days:g} days every {args.interval_s} s, "
            f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC; set up in "
            f"{time.perf_counter() - began:.0f} s",
            flush=True,
        )
        began = time.perf_counter()
        total = generate_readings(engine, start, end, args.interval_s)
        print(f"   {total:,} readings in {time.perf_counter() - began:.0f} s", flush=True)
        roll_up(engine, factory, start, end, max(0, args.history_days - int(args.days)))
        with engine.connect() as conn:
            sizes = {
                table: conn.scalar(text(f"SELECT pg_size_pretty({query})"))
                for table, query in (
                    ("readings", "(SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                     "WHERE inhparent = 'readings'::regclass)"),
                    ("roll-ups", "pg_total_relation_size('reading_rollups')"),
                )
            }  # fmt: skip
        tune_collector()  # the charts are read as an API worker reads them (its collector tuned)
        timings = time_charts(factory, end, args.loggers)
        explain_chart(engine, end)
        replay_backlog(factory, end, args.interval_s)
    finally:
        engine.dispose()
        if not args.keep:
            admin(args.pg_url, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    ratios = ingest_ratios(args) if args.ingest_rounds > 0 else {}
    report(timings, ratios, total, sizes)
    return 0


def ingest_bench_db(engine, factory):
    """bench/ingest.py's populate wants its Database; this one is ours."""
    db = ingest_bench.Database.__new__(ingest_bench.Database)
    db.engine, db.factory = engine, factory
    return db


if __name__ == "__main__":
    raise SystemExit(main())
