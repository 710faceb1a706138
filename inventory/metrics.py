"""The service's figures for Prometheus, at GET /metrics in its text format.

Who writes what
    the API: requests by endpoint (the URL rule, not the raw path), method and status, and
    their duration; the ingest worker: readings stored, dead letters, batch commit time; the
    scheduler: job runs by job and outcome. Open excursions are counted in the database at
    each scrape.

Processes
    Under gunicorn every worker is a process of its own, and so are the ingest workers and the
    scheduler: with PROMETHEUS_MULTIPROC_DIR set (before the process starts), prometheus_client
    keeps each process's figures in files there. Each process gets a folder of its own (the
    shipped systemd units: /run/inventory/metrics/<process>, emptied at start), and /metrics
    adds up the files of every folder under INVENTORY_METRICS_DIR (/run/inventory/metrics),
    so one scrape of the API covers the whole host. Without PROMETHEUS_MULTIPROC_DIR the
    figures are this process's own.

Who may read it
    /metrics answers only a bearer token equal to INVENTORY_METRICS_TOKEN (Prometheus's
    `authorization: credentials_file`); without that setting it is not served at all (404).
    The figures carry no personal or stock data, but they are no one else's business either.
"""

from __future__ import annotations

import glob
import hmac
import os
import time
from collections.abc import Iterable
from pathlib import Path

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.orm import Session, sessionmaker

from inventory.db import unit_of_work
from inventory.services import monitoring

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_ENV):  # a process's first figure must find its folder
    os.makedirs(os.environ[MULTIPROC_ENV], exist_ok=True)

REQUESTS = Counter(
    "inventory_http_requests",
    "HTTP requests answered, by URL rule, method and status",
    ["endpoint", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "inventory_http_request_duration_seconds",
    "Time to answer a request, by URL rule",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
READINGS_STORED = Counter(
    "inventory_ingest_readings_stored", "Readings stored by the ingest worker(s)", ["worker"]
)
READINGS_DUPLICATE = Counter(
    "inventory_ingest_readings_duplicate",
    "Readings received again and not stored twice",
    ["worker"],
)
DEAD_LETTERS = Counter(
    "inventory_ingest_dead_letters",
    "Messages or readings refused and kept as dead letters",
    ["worker"],
)
BATCH_COMMIT_SECONDS = Histogram(
    "inventory_ingest_batch_commit_seconds",
    "Time to store and commit one ingest batch",
    ["worker"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
JOB_RUNS = Counter(
    "inventory_scheduler_job_runs", "Scheduled job runs, by job and outcome", ["job", "outcome"]
)


# ---------------------------------------------------------------- what the processes record

# a request's two figures, by (rule, method, status): `labels` checks and joins its values
# under a lock each time, a fifth of what counting a request cost
_answered: dict[tuple[str, str, str], tuple] = {}


def request_answered(rule: str, method: str, status: str, seconds: float | None) -> None:
    """Count an answer, and its duration when it is known."""
    key = (rule, method, status)
    figures = _answered.get(key)
    if figures is None:
        figures = _answered[key] = (
            REQUESTS.labels(rule, method, status),
            REQUEST_SECONDS.labels(rule),
        )
    count, duration = figures
    count.inc()
    if seconds is not None:
        duration.observe(seconds)


def batch_committed(worker: str, seconds: float, stored: int, duplicates: int, rejected: int):
    BATCH_COMMIT_SECONDS.labels(worker).observe(seconds)
    if stored:
        READINGS_STORED.labels(worker).inc(stored)
    if duplicates:
        READINGS_DUPLICATE.labels(worker).inc(duplicates)
    if rejected:
        DEAD_LETTERS.labels(worker).inc(rejected)


def job_ran(job: str, failed: bool) -> None:
    JOB_RUNS.labels(job, "failed" if failed else "ok").inc()


# ---------------------------------------------------------------- the API's side


def init_app(app: Flask) -> None:
    """Count every request by its URL rule and serve /metrics (see the module's docstring)."""

    @app.before_request
    def _started() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        started = g.get("metrics_started")
        request_answered(
            rule,
            request.method,
            str(response.status_code),
            None if started is None else time.perf_counter() - started,
        )
        return response

    app.add_url_rule("/metrics", "metrics", _serve_metrics)


def _serve_metrics() -> Response:
    from flask import current_app

    from inventory.web_db import session_factory, settings

    expected = settings().metrics_token
    given = request.headers.get("Authorization", "").partition(" ")[2].strip()
    if not expected:
        return Response("not found\n", status=404, mimetype="text/plain")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return Response(
            "a bearer token is required\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": "Bearer"},
        )
    body = exposition(session_factory(), settings().metrics_dir, current_app.logger)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def exposition(factory: sessionmaker[Session], metrics_dir: str, logger=None) -> bytes:
    """The text format: every process's figures, and what is read from the database now."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProcessFigures(metrics_dir))
    registry.register(_DatabaseFigures(factory, logger))
    return generate_latest(registry)


class _ProcessFigures:
    """The files of every process under `metrics_dir` (or PROMETHEUS_MULTIPROC_DIR), or this
    process's own registry when figures are not kept in files."""

    def __init__(self, metrics_dir: str) -> None:
        self.metrics_dir = metrics_dir

    def collect(self) -> Iterable[Metric]:
        own = os.environ.get(MULTIPROC_ENV)
        if not own:
            yield from REGISTRY.collect()
            return
        folders = [own]
        if self.metrics_dir:
            folders += [self.metrics_dir, *glob.glob(os.path.join(self.metrics_dir, "*/"))]
        files = sorted({f for d in folders for f in glob.glob(os.path.join(d, "*.db"))})
        yield from MultiProcessCollector.merge(files, accumulate=True)


class _DatabaseFigures:
    def __init__(self, factory: sessionmaker[Session], logger=None) -> None:
        self.factory, self.logger = factory, logger

    def collect(self) -> Iterable[Metric]:
        gauge = GaugeMetricFamily(
            "inventory_open_excursions", "Excursions going on now, counted at the scrape"
        )
        up = GaugeMetricFamily(
            "inventory_database_up", "1 when the scrape could read the database, else 0"
        )
        try:
            with unit_of_work(self.factory) as session:
                gauge.add_metric([], monitoring.open_excursion_count(session))
            up.add_metric([], 1)
        except Exception:
            if self.logger is not None:
                self.logger.warning("metrics: database not readable", exc_info=True)
            up.add_metric([], 0)
        yield from (gauge, up) if gauge.samples else (up,)


def clear_process_folder(path: str | os.PathLike[str]) -> None:
    """Empty a process's metrics folder before it starts (figures of dead processes go)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink(missing_ok=True)
