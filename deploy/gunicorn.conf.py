"""gunicorn's settings for the API and staff pages: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

From the environment (deploy/inventory.env.example):
    INVENTORY_BIND       where to listen (default 127.0.0.1:8000: behind the TLS proxy)
    INVENTORY_WORKERS    sync worker processes (default: 2 per core + 1)
    INVENTORY_TIMEOUT_S  a worker silent this long is killed and replaced (default 30)
    PROMETHEUS_MULTIPROC_DIR  the workers' metrics files (inventory.metrics); default: a
                         folder of its own in the temporary directory, emptied at start

The access log is one JSON object per line on standard output (journald keeps it).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
from pathlib import Path

from gunicorn.glogging import Logger

bind = os.environ.get("INVENTORY_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("INVENTORY_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"  # requests are short database reads and writes; the pool is per worker
timeout = int(os.environ.get("INVENTORY_TIMEOUT_S", "30"))
graceful_timeout = 30  # on SIGTERM, requests in flight finish within this
keepalive = 5  # behind a proxy that reuses connections
max_requests = 10_000  # a worker is replaced now and then: memory does not creep
max_requests_jitter = 1_000
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeats off the disk
forwarded_allow_ips = os.environ.get("INVENTORY_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("INVENTORY_LOG_LEVEL", "info")

# Every worker must see the same metrics folder before it imports prometheus_client.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="inventory-metrics-")


def on_starting(server) -> None:
    """The figures of an earlier run's workers go: counters start again from zero."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink(missing_ok=True)


def post_worker_init(worker) -> None:
    """The worker has loaded the app: its objects are kept out of the collector's full
    passes (devices.receiver.tune_collector, as the ingest does)."""
    from devices.receiver import tune_collector

    tune_collector()


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class JsonAccessLogger(Logger):
    """One JSON object per request: fields a log pipeline reads without a pattern."""

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        line = {
            "time": self.now(),
            "remote": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"],
            "status": getattr(resp, "status_code", None),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "referer": atoms["f"],
            "agent": atoms["a"],
            "pid": atoms["p"],
        }
        try:
            self.access_log.info(json.dumps(line, separators=(",", ":")))
        except Exception:
            self.exception("access log line not written")

    def now(self) -> str:
        from datetime import UTC, datetime

        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


logger_class = JsonAccessLogger
