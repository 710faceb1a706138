"""Benchmark: the public availability overview under the national booking load.

1. Builds the network and the national booking load of ``bench/ledger.py`` (about 300
   vaccination sites, 300,000 appointments over 8 weeks, stock at every site) and times the
   computation behind ``/public/availability.json``: every site, 14 days, each dose promised
   once (target: under 1 s on PostgreSQL). For comparison it times the per-day capacity view
   over the same sites.
2. Serves the app with gunicorn (2 sync workers) on a free loopback port and measures cached
   responses of ``/public/availability.json`` and ``/public/availability`` with ``wrk`` (or,
   when wrk is missing, a small threaded client): requests/s (target: over 1,000). Beside it,
   under the same gunicorn settings, a bare WSGI app answers the same bytes; the two take
   turns (3 rounds, medians), so the ratio says whether the app's own work per request or
   the machine is the limit. The load average is printed with the figures.

    python bench/public.py [--events 20000] [--backend postgresql|sqlite]
                           [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]
                           [--seconds 10] [--connections 32]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ledger import T0, populate, populate_bookings, timed  # noqa: E402
from inventory.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from inventory.services import availability, capacity, seed  # noqa: E402
from tests.support.database import _admin, migrate  # noqa: E402

AT = T0 + timedelta(hours=8)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_computation(factory) -> None:
    def public():
        with unit_of_work(factory) as session:
            availability.public_overview(session, AT)

    def per_day():
        with unit_of_work(factory) as session:
            sites = capacity.sites_in_scope(session, None)
            first = AT.date()
            capacity.capacity(session, AT, sites, first, first + timedelta(days=13))

    with unit_of_work(factory) as session:
        overview = availability.public_overview(session, AT)
    free = sum(s["free_total"] for s in overview["sites"])
    print(f"  {len(overview['sites'])} sites in the overview, {free:,} free appointments promised")
    for label, action in (
        ("public overview, all sites, 14 days", public),
        ("per-day capacity, all sites, 14 days", per_day),
    ):
        median, p95 = timed(action, 10)
        print(f"  {label:40s} median {median:7.1f} ms   p95 {p95:7.1f} ms")


PATHS = ("/public/availability.json", "/public/availability")

# A WSGI app that answers every request with bytes kept in files beside it: the same sizes
# and headers as the app's cached answers, with none of the app's per-request work. Its rate
# under the same gunicorn settings, in the same run, is the most the machine gives.
BARE_APP = """\
from pathlib import Path
HERE = Path(__file__).parent
ANSWERS = {}
for path, name in %r:
    ANSWERS[path] = ((HERE / name).read_bytes(), (HERE / (name + ".type")).read_text())
def app(environ, start_response):
    body, mimetype = ANSWERS[environ["PATH_INFO"]]
    start_response("200 OK", [("Content-Type", mimetype), ("Content-Length", str(len(body))),
                              ("ETag", '"bare"'), ("Cache-Control", "public, max-age=60")])
    return [body]
"""


def serve(url: str, seconds: int, connections: int, rounds: int = 3) -> None:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        print("  gunicorn is not installed (bin/setup installs it): serving not measured")
        return
    app_dir = tempfile.mkdtemp()
    # the app at the load's own moment (the bookings start on 1 October)
    Path(app_dir, "bench_public_app.py").write_text(
        "from datetime import datetime\n"
        "from inventory import create_app\n"
        "from inventory.clock import FixedClock\n"
        f"app = create_app({{'DATABASE_URL': {url!r},"
        f" 'CLOCK': FixedClock(datetime.fromisoformat({AT.isoformat()!r}))}})\n"
    )
    names = [(path, f"answer{i}") for i, path in enumerate(PATHS)]
    Path(app_dir, "bench_bare_app.py").write_text(BARE_APP % (names,))
    servers = []
    try:
        app = _start(gunicorn, app_dir, "bench_public_app:app", servers)
        sizes = {}
        for path, name in names:
            # fill both workers' caches, and keep the answer for the bare app
            for _ in range(8):
                urllib.request.urlopen(app + path, timeout=60).read()
            with urllib.request.urlopen(app + path, timeout=60) as answer:
                body, mimetype = answer.read(), answer.headers.get_content_type()
            Path(app_dir, name).write_bytes(body)
            Path(app_dir, name + ".type").write_text(mimetype)
            sizes[path] = len(body)
        bare = _start(gunicorn, app_dir, "bench_bare_app:app", servers)
        print(f"  {_uptime()}")
        # the two servers take turns, so both see the same neighbours on the machine
        rates: dict[tuple[str, str], list[float]] = {}
        for _ in range(rounds):
            for path in PATHS:
                for base in (app, bare):
                    rates.setdefault((base, path), []).append(
                        _load(base + path, seconds, connections)
                    )
        print(f"  {_uptime()}")
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(app_dir, ignore_errors=True)
    for path in PATHS:
        ours, theirs = statistics.median(rates[(app, path)]), statistics.median(rates[(bare, path)])
        print(
            f"  GET {path:28s} {sizes[path] / 1024:6.0f} KB   {ours:8,.0f} requests/s"
            f"   (bare WSGI, same bytes: {theirs:8,.0f}; ratio {ours / theirs:.2f})"
        )


def _start(gunicorn: Path, app_dir: str, app: str, servers: list) -> str:
    """2 gunicorn workers (sync, as deploy/gunicorn.conf.py) serving ``app``; its address."""
    port = free_port()
    servers.append(
        subprocess.Popen(
            [
                str(gunicorn),
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "--pythonpath",
                f"{app_dir},{Path(__file__).resolve().parents[1]}",
                app,
            ],
            cwd=Path(__file__).resolve().parents[1],
            start_new_session=True,
        )
    )
    base = f"http://127.0.0.1:{port}"
    _wait_until_up(base + PATHS[0])
    return base


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _wait_until_up(url: str) -> None:
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=30).read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server did not come up")


def _load(url: str, seconds: int, connections: int) -> float:
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run(
            [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return _threaded_load(url, seconds, connections)


def _threaded_load(url: str, seconds: int, connections: int) -> float:
    done = [0] * connections
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            urllib.request.urlopen(url, timeout=30).read()
            done[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def run(name: str, url: str, events: int, seconds: int, connections: int) -> None:
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    populate(factory, events)
    with unit_of_work(factory) as session:
        seed.load_booking_url(session, T0)
    shape = populate_bookings(factory)
    print(f"\n{name}: {shape['sites']} vaccination sites, {shape['appointments']:,} appointments")
    print(f"  {_uptime()}")
    time_computation(factory)
    engine.dispose()
    serve(url, seconds, connections)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if args.backend == "postgresql":
        name = f"bench_public_{uuid.uuid4().hex[:8]}"
        _admin(args.pg_url, f'CREATE DATABASE "{name}"')
        try:
            url = args.pg_url.rsplit("/", 1)[0] + "/" + name
            run("PostgreSQL", url, args.events, args.seconds, args.connections)
        finally:
            _admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(
                "SQLite",
                f"sqlite:///{tmp}/public.sqlite",
                args.events,
                args.seconds,
                args.connections,
            )


if __name__ == "__main__":
    main()
