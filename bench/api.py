"""Authenticated reads against the framework's own cost, under gunicorn on PostgreSQL.
Prints figures, asserts nothing.

    python bench/api.py [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--database inventory_bench] [--seconds 5] [--rounds 5] [--connections 32]
        [--token-cache-s 10] [--profile]

A database of its own (`--database`, made again each run): the catalogue, the network and
the demo season's stock (bin/demo's), a logger with a day of readings every 2 minutes in a
fridge of the hospital pharmacy and one of the centre. Two servers under gunicorn, 2 sync
workers each: the real app (wsgi:app, INVENTORY_TOKEN_CACHE_S=--token-cache-s) and a bare
Flask app answering one indexed SELECT (a carton by id) as JSON on the same database. Each
endpoint is driven by wrk (or, without wrk, a threaded Python client) with --connections
for --seconds, as a centre manager (RH-VC-BELLA) and as a hospital pharmacy (RH-APO), with
the baseline driven between them: each endpoint's 100% is the mean of the baseline just
before and just after it. --rounds of that; each endpoint's ratio in every round is printed,
and the target (60% each) is judged on their median (five by default: on a shared machine
the median of three swung by ten points between runs of the same code). Beside it, where
/proc tells: the CPU time each request cost the app's processes and PostgreSQL's, against
the bare app's.
--profile: each endpoint's requests made in this process under cProfile, top entries.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from inventory.clock import Clock  # noqa: E402
from inventory.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from inventory.db.models import Carton, Site, StorageUnit  # noqa: E402
from inventory.services import seed, telemetry  # noqa: E402
from inventory.services.telemetry import IncomingReading, IngestBatch  # noqa: E402
from inventory.services.tokens import create_token  # noqa: E402
from tests.support.database import migrate  # noqa: E402

TARGET = 0.60
BARE_APP = """
import os
from flask import Flask, jsonify
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["BARE_DATABASE_URL"], pool_size=5)
app = Flask(__name__)


@app.get("/carton/<int:carton_id>")
def carton(carton_id):
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, status, doses FROM cartons WHERE id = :id"), {"id": carton_id}
        ).first()
    return jsonify(id=row.id, status=row.status, doses=row.doses)
"""


def admin(pg_url: str, statement: str) -> None:
    engine = create_engine(
        make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def prepare(url: str) -> dict:
    """The demo's network and stock, tokens, and a day of readings in two fridges."""
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    now = Clock().now()
    with unit_of_work(factory) as session:
        seed.load_catalogue(session)
        seed.load_network(session)
        seed.load_booking_url(session, now)
        seed.load_demo_stock(session, now)
        tokens = {
            who: create_token(session, now, role=role, name=f"bench {who}", site=site)[1]
            for who, role, site in (
                ("centre", "centre_manager", "RH-VC-BELLA"),
                ("pharmacy", "pharmacist", "RH-APO"),
            )
        }
        units, cartons = {}, {}
        for who, site in (("centre", "RH-VC-BELLA"), ("pharmacy", "RH-APO")):
            site_id = session.scalar(select(Site.id).where(Site.code == site))
            units[who] = session.scalars(
                select(StorageUnit).where(StorageUnit.site_id == site_id).order_by(StorageUnit.id)
            ).first()
            cartons[who] = session.scalar(
                select(Carton.id).where(Carton.site_id == site_id).order_by(Carton.id)
            )
        for who, unit in units.items():
            session.execute(
                text(
                    "INSERT INTO devices (id, secret_hash, storage_unit_id, interval_s, status, "
                    "created_at) VALUES (:d, 'x', :u, 120, 'active', :t)"
                ),
                {"d": f"bench-{who}", "u": unit.id, "t": now - timedelta(days=2)},
            )
            # within the unit's range, stored as the ingest stores them
            middle = (unit.min_c + unit.max_c) / 2
            day = [
                IncomingReading(
                    f"bench-{who}", now - timedelta(minutes=2 * i), middle + random.random() - 0.5
                )
                for i in range(720, -1, -1)
            ]
            telemetry.ingest(session, now, IngestBatch(readings=day))
        units = {who: unit.code for who, unit in units.items()}
    engine.dispose()
    return {"tokens": tokens, "units": units, "cartons": cartons}


def endpoints(shape: dict) -> list[tuple[str, str, str]]:
    """(who, label, path) for each read."""
    sites = {"centre": "RH-VC-BELLA", "pharmacy": "RH-APO"}
    reads = []
    for who, site in sites.items():
        reads += [
            (who, "stock?site=", f"/api/v1/stock?site={site}"),
            (who, "cartons?site=", f"/api/v1/cartons?site={site}"),
            (who, "alerts", "/api/v1/alerts"),
            (who, "readings of a unit", f"/api/v1/storage-units/{shape['units'][who]}/readings"),
        ]
        if shape["cartons"][who]:
            reads.append((who, "carton detail", f"/api/v1/cartons/{shape['cartons'][who]}"))
    return reads


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app: str, env: dict, pythonpath: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
            "--pythonpath", pythonpath, app,
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )  # fmt: skip
    return server, f"http://127.0.0.1:{port}"


def wait_up(url: str, headers: dict) -> None:
    for _ in range(240):
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2).read()
            return
        except OSError:
            time.sleep(0.25)
    raise SystemExit(f"{url} did not come up")


class Load(NamedTuple):
    """A load's requests per second, and the CPU time each request cost the server's
    processes (gunicorn and its workers) and PostgreSQL's (in microseconds; 0 where /proc
    cannot tell)."""

    rate: float
    app_us: float
    db_us: float


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used (Linux's /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone, or no /proc
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def pids_of(*pgrep_args: str) -> list[int]:
    if not shutil.which("pgrep"):
        return []  # the CPU figures read 0, and are left out
    found = subprocess.run(["pgrep", *pgrep_args], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def load(
    server: subprocess.Popen, url: str, seconds: int, connections: int, token: str | None = None
) -> Load:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for _ in range(20):  # both workers warm: connections, caches
        urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30).read()
    app, db = pids_of("-g", str(server.pid)), pids_of("-x", "postgres")
    app_before, db_before = cpu_seconds(app), cpu_seconds(db)
    wrk = shutil.which("wrk")
    if wrk:
        command = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", url]
        if token:
            command[1:1] = ["-H", f"Authorization: Bearer {token}"]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if errors:
            print(f"   ({errors.group(1)} error answers from {url})")
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    else:
        rate = threaded_load(url, seconds, connections, headers)
    requests = rate * seconds
    return Load(
        rate,
        1e6 * (cpu_seconds(app) - app_before) / requests,
        1e6 * (cpu_seconds(db) - db_before) / requests,
    )


def threaded_load(url: str, seconds: int, connections: int, headers: dict) -> float:
    done = [0] * connections
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30).read()
            done[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def profile(url: str, shape: dict, reads, cache_s: float, requests: int = 300) -> None:
    os.environ["INVENTORY_DATABASE_URL"] = url
    os.environ["INVENTORY_TOKEN_CACHE_S"] = str(cache_s)
    from inventory import create_app

    client = create_app().test_client()
    for who, label, path in reads:
        headers = {"Authorization": f"Bearer {shape['tokens'][who]}"}
        client.get(path, headers=headers)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            client.get(path, headers=headers)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(8)
        top = [line for line in out.getvalue().splitlines() if re.match(r"\s+\d", line)]
        print(f"\n   profile, {who} {label} ({requests} requests, by own time):")
        print("\n".join(f"     {line.strip()[:150]}" for line in top[:8]))


def mean(a: Load, b: Load) -> Load:
    return Load(*((x + y) / 2 for x, y in zip(a, b, strict=True)))


def measure_round(args, reads, shape, real, bare_server, bare_path: str, number: int) -> list:
    """One round: the bare app, then each endpoint followed by the bare app again, so each
    endpoint is compared with the baseline measured just before and just after it (a
    shared machine's speed drifts within a minute). (who, label, Load, baseline) each."""
    print(f"round {number + 1}", flush=True)
    real_server, real_url = real
    bare = load(bare_server, bare_path, args.seconds, args.connections)
    found = []
    for who, label, path in reads:
        got = load(
            real_server, real_url + path, args.seconds, args.connections, shape["tokens"][who]
        )
        after = load(bare_server, bare_path, args.seconds, args.connections)
        base = mean(bare, after)
        found.append((who, label, got, base))
        print(
            f"   {who:<9} {label:<20} {got.rate:8,.0f} req/s, bare {base.rate:,.0f}; CPU per "
            f"request: app {got.app_us:,.0f} + db {got.db_us:,.0f} us, bare "
            f"{base.app_us:,.0f} + {base.db_us:,.0f} us",
            flush=True,
        )
        bare = after
    return found


def report(args, reads, rounds: list) -> None:
    """Each endpoint's ratio in every round, and their median against the target."""
    bases = [base.rate for found in rounds for *_, base in found]
    print(
        f"\nbaseline (bare Flask, one indexed SELECT): {min(bases):,.0f}-{max(bases):,.0f} req/s; "
        f"token cache {args.token_cache_s:g} s; {os.cpu_count()} CPUs, gunicorn 2 sync workers "
        f"each, {args.connections} connections, {args.seconds} s per load, "
        f"{'wrk' if shutil.which('wrk') else 'a threaded client'}; each endpoint against the "
        "mean of the baseline just before and just after it"
    )
    heads = "".join(f"  round {r + 1:<2}" for r in range(len(rounds)))
    print(f"who       endpoint            {heads}  median  target 60%")
    for i, (who, label, _path) in enumerate(reads):
        ratios = [found[i][2].rate / found[i][3].rate for found in rounds]
        median = statistics.median(ratios)
        cells = "".join(f"{ratio:>10.0%}" for ratio in ratios)
        verdict = "met" if median >= TARGET else "MISSED"
        print(f"{who:<9} {label:<20}{cells}  {median:>6.0%}  {verdict}")
    cpu_report(reads, rounds)


def cpu_report(reads, rounds: list) -> None:
    """Where each request's time went: the CPU it cost the app's processes and PostgreSQL's,
    the median over the rounds, beside the bare app's (what throughput on a busy machine
    hides: a request's own cost)."""
    if not any(found[0][2].app_us for found in rounds):
        return  # no /proc
    print(
        "\nCPU per request, median of the rounds (us; app = gunicorn and its workers, "
        "db = PostgreSQL; the load generator not counted)"
    )
    print("who       endpoint              app     db   bare app  bare db  bare / endpoint")
    for i, (who, label, _path) in enumerate(reads):
        got = [found[i][2] for found in rounds]
        base = [found[i][3] for found in rounds]
        app = statistics.median(run.app_us for run in got)
        db = statistics.median(run.db_us for run in got)
        bare_app = statistics.median(run.app_us for run in base)
        bare_db = statistics.median(run.db_us for run in base)
        share = (bare_app + bare_db) / (app + db)
        print(
            f"{who:<9} {label:<20}{app:>6,.0f} {db:>6,.0f} {bare_app:>10,.0f} {bare_db:>8,.0f}"
            f" {share:>16.0%}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="inventory_bench")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--token-cache-s", type=float, default=10.0)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    if not args.database.replace("_", "").isalnum():
        raise SystemExit(f"refusing database name {args.database!r}")
    admin(args.pg_url, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    admin(args.pg_url, f'CREATE DATABASE "{args.database}"')
    url = (
        make_url(args.pg_url)
        .set(drivername="postgresql+psycopg", database=args.database)
        .render_as_string(hide_password=False)
    )
    shape = prepare(url)
    reads = endpoints(shape)
    app_dir = tempfile.mkdtemp()
    Path(app_dir, "bench_bare_app.py").write_text(BARE_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INVENTORY_", "PROMETHEUS"))}
    env |= {
        "INVENTORY_DATABASE_URL": url,
        "INVENTORY_SECRET_KEY": "bench",
        "INVENTORY_TOKEN_CACHE_S": str(args.token_cache_s),
        "BARE_DATABASE_URL": url,
    }
    real, real_url = start_gunicorn("wsgi:app", env, str(ROOT))
    bare, bare_url = start_gunicorn("bench_bare_app:app", env, app_dir)
    try:
        bare_path = f"{bare_url}/carton/{shape['cartons']['pharmacy']}"
        wait_up(bare_path, {})
        wait_up(f"{real_url}/api/v1/health", {})
        rounds = [
            measure_round(args, reads, shape, (real, real_url), bare, bare_path, r)
            for r in range(args.rounds)
        ]
    finally:
        for server in (real, bare):
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(app_dir, ignore_errors=True)
    report(args, reads, rounds)
    if args.profile:
        profile(url, shape, reads, args.token_cache_s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
