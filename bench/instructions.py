"""The instructions each authenticated read costs the app's own process, against the bare
Flask app's, counted by valgrind (callgrind). Prints figures, asserts nothing.

    python bench/instructions.py [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--database inventory_instructions] [--requests 100] [--only carton]

Throughput on a shared machine swings by ten points between runs of the same code
(bench/api.py); a count of instructions does not: the same code, data and requests give
the same count whatever else the machine does, so a change of a few percent in a request's
own work shows. What it leaves out: PostgreSQL's work, gunicorn's, the kernel's, and time
lost to caches and waiting.

The data are bench/api.py's (made again in `--database`). Each endpoint is requested in a
process of its own under callgrind, through the app's WSGI callable (no server, no
network to the client), a few times to warm up and then `--requests` times inside
`functools.reduce`, which is what callgrind counts (`--toggle-collect`). The bare app is
bench/api.py's: one indexed SELECT as JSON.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import api as api_bench  # noqa: E402  (bench/api.py: the data and the bare app)

WARM_UP = 30


def requested(url: str, path: str, token: str | None, bare: bool, requests: int) -> None:
    """In the measured process: the app, warmed up, then `requests` requests counted."""
    from werkzeug.test import EnvironBuilder

    if bare:
        os.environ["BARE_DATABASE_URL"] = url
        # not imported from a file: Flask is told where it is
        source = api_bench.BARE_APP.replace("Flask(__name__)", "Flask(__name__, root_path='.')")
        namespace: dict = {"__name__": "bench_bare_app"}
        exec(source, namespace)  # noqa: S102  (our own text)
        app = namespace["app"]
    else:
        os.environ["INVENTORY_DATABASE_URL"] = url
        os.environ["INVENTORY_TOKEN_CACHE_S"] = "3600"  # callgrind is slow: no expiry midway
        from inventory import create_app

        app = create_app()
    path, _, query = path.partition("?")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    environ = EnvironBuilder(path=path, query_string=query or None, headers=headers).get_environ()

    def one(*_):
        answer = app(dict(environ), lambda status, headers, exc_info=None: None)
        body = b"".join(answer)
        getattr(answer, "close", lambda: None)()
        return body

    for _ in range(WARM_UP):
        one()
    functools.reduce(one, range(requests), None)


def count(url: str, path: str, token: str | None, bare: bool, requests: int) -> float:
    """Instructions per request, counted by callgrind in a process of its own."""
    spec = json.dumps({"url": url, "path": path, "token": token, "bare": bare, "n": requests})
    run = subprocess.run(
        [
            "valgrind", "--tool=callgrind", "--toggle-collect=functools_reduce",
            "--callgrind-out-file=/dev/null", sys.executable, __file__, "--child", spec,
        ],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"{path}: callgrind failed\n{run.stderr[-2000:]}")
    return int(found.group(1)) / requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="inventory_instructions")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--only", default="", help="only endpoints whose label has this")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        requested(spec["url"], spec["path"], spec["token"], spec["bare"], spec["n"])
        return 0
    if not shutil.which("valgrind"):
        print("valgrind is not installed (apt-get install valgrind): nothing counted")
        return 0
    if not args.database.replace("_", "").isalnum():
        raise SystemExit(f"refusing database name {args.database!r}")
    api_bench.admin(args.pg_url, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    api_bench.admin(args.pg_url, f'CREATE DATABASE "{args.database}"')
    url = (
        api_bench.make_url(args.pg_url)
        .set(drivername="postgresql+psycopg", database=args.database)
        .render_as_string(hide_password=False)
    )
    shape = api_bench.prepare(url)
    reads = [read for read in api_bench.endpoints(shape) if args.only in read[1]]
    runs = [("bare", "one SELECT", f"/carton/{shape['cartons']['pharmacy']}", None, True)]
    runs += [(who, label, path, shape["tokens"][who], False) for who, label, path in reads]
    print(f"instructions per request ({args.requests} requests each, callgrind), in thousands")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = list(pool.map(lambda run: count(url, run[2], run[3], run[4], args.requests), runs))
    bare = counts[0]
    print("who       endpoint              k instr   bare / endpoint")
    for (who, label, *_), instructions in zip(runs, counts, strict=True):
        print(f"{who:<9} {label:<20} {instructions / 1000:>8,.0f} {bare / instructions:>16.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
