"""The scheduler process: one per deployment (`flask --app wsgi scheduler`), never inside
create_app or a web worker.

Only the holder of the `scheduler` lease (a row in `leases`) runs jobs. It takes the lease
when it is free or expired, renews it every 20 s for another 60 s, and gives it back on exit.
A second scheduler that cannot take it waits, retries, and runs nothing; if the holder dies
without giving it back, the second takes over once the lease expires. A holder that cannot
renew (the database says another holds it, or it could not reach the database for a whole
lease period) stops its jobs and goes back to waiting.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import click
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app
from sqlalchemy.orm import Session, sessionmaker

from inventory import jobs, metrics
from inventory.clock import UTC, Clock
from inventory.config import Settings
from inventory.services import leases
from inventory.services.leases import (  # noqa: F401  (the scheduler's lease)
    acquire_lease,
    lease_holder,
    release_lease,
    renew_lease,
)
from inventory.web_db import session_factory, settings

log = logging.getLogger(__name__)

LEASE_NAME = leases.SCHEDULER
LEASE_TTL = leases.SCHEDULER_TTL
RENEW_EVERY_S = 20.0
RETRY_EVERY_S = 20.0
MQTT_CLIENT_ID = "scheduler-alerts"
MQTT_PUBLISH_TIMEOUT_S = 5.0

# job id -> interval in seconds
INTERVALS = {
    "silent_devices": 60,
    "beyond_use_sweep": 5 * 60,
    "escalate_alerts": 60,
    "roll_up_readings": 10 * 60,
    "deliver_alerts": 5,
    "maintain_readings": 6 * 3600,
}


# ---------------------------------------------------------------- the lease


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------- MQTT for alerts


class MqttPublisher:
    """Publishes alert payloads at QoS 1 and raises unless the broker acknowledged them, so
    an alert is only marked published once it is with the broker."""

    def __init__(self, url: str, client_id: str = MQTT_CLIENT_ID):
        from devices.connection import connect, make_client

        self._connected = threading.Event()
        self._disconnected = threading.Event()
        self._client = make_client(url, client_id, persistent=False)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        connect(self._client, asynchronous=True)
        self._client.loop_start()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            self._disconnected.clear()
            self._connected.set()
        else:
            log.warning("MQTT broker refused the alert publisher: %s", reason_code)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        self._disconnected.set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def wait_disconnected(self, timeout: float) -> bool:
        return self._disconnected.wait(timeout)

    def __call__(self, topic: str, payload: bytes) -> None:
        if not self._client.is_connected():
            raise ConnectionError("not connected to the MQTT broker")
        info = self._client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=MQTT_PUBLISH_TIMEOUT_S)
        if not info.is_published():
            raise ConnectionError(f"broker did not acknowledge the alert on {topic} (rc {info.rc})")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


# ---------------------------------------------------------------- the process


class SchedulerProcess:
    """Waits for the lease, runs the jobs while it holds it, renews it, gives it back on stop."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        settings: Settings,
        *,
        holder: str | None = None,
        lease_name: str = LEASE_NAME,
        ttl: timedelta = LEASE_TTL,
        renew_every_s: float = RENEW_EVERY_S,
        retry_every_s: float = RETRY_EVERY_S,
        publisher_factory: Callable[[str], MqttPublisher] = MqttPublisher,
        wall_clock: Clock | None = None,
    ):
        self.factory, self.clock, self.settings = factory, clock, settings
        self.holder = holder or default_holder()
        self.lease_name, self.ttl = lease_name, ttl
        self.renew_every_s, self.retry_every_s = renew_every_s, retry_every_s
        self.publisher_factory = publisher_factory
        # the job triggers run on real time whatever clock the jobs are given
        self.wall_clock = wall_clock or Clock()
        self.scheduler: BackgroundScheduler | None = None
        self.publisher: MqttPublisher | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed_at: datetime | None = None

    @property
    def running_jobs(self) -> bool:
        return self.scheduler is not None

    # -- lifecycle

    def run(self) -> None:
        """Until stop(): acquire or wait, then run the jobs and renew. Releases on the way out."""
        try:
            while not self._stop.is_set():
                if self.scheduler is None:
                    self._try_to_lead()
                    wait = self.renew_every_s if self.scheduler is not None else self.retry_every_s
                else:
                    self._renew()
                    wait = self.renew_every_s
                self._stop.wait(wait)
        finally:
            self._stand_down()
            try:
                if release_lease(self.factory, self.lease_name, self.holder):
                    log.info("scheduler %s released the lease", self.holder)
            except Exception:
                log.exception("could not release the scheduler lease (it expires by itself)")

    def start(self) -> SchedulerProcess:
        """Run in a background thread; stop() ends it."""
        self._thread = threading.Thread(target=self.run, name="scheduler-lease", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- leading

    def _try_to_lead(self) -> None:
        now = self.clock.now()
        try:
            acquired = acquire_lease(self.factory, self.lease_name, self.holder, now, self.ttl)
            held = None if acquired else lease_holder(self.factory, self.lease_name)
        except Exception:
            log.exception("could not reach the database to take the scheduler lease")
            return
        if not acquired:
            log.info(
                "scheduler lease held by %s until %s; %s waits and runs no jobs",
                held[0] if held else "?",
                held[1].isoformat() if held else "?",
                self.holder,
            )
            return
        self._renewed_at = now
        log.info("scheduler %s took the lease; starting jobs", self.holder)
        self._start_jobs()

    def _renew(self) -> None:
        now = self.clock.now()
        try:
            still_ours = renew_lease(self.factory, self.lease_name, self.holder, now, self.ttl)
        except Exception:
            log.exception("could not renew the scheduler lease")
            if self._renewed_at is not None and now - self._renewed_at >= self.ttl:
                log.error("scheduler lease lapsed; stopping jobs")
                self._stand_down()
            return
        if still_ours:
            self._renewed_at = now
        else:
            log.error("scheduler lease was taken over; %s stops its jobs", self.holder)
            self._stand_down()

    def _start_jobs(self) -> None:
        if self.settings.mqtt_url:
            try:
                self.publisher = self.publisher_factory(self.settings.mqtt_url)
            except Exception:
                log.exception("alerts will not be published over MQTT: cannot set up the client")
        scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        )
        first = self.wall_clock.now()
        factory, clock = self.factory, self.clock
        plan: list[tuple[str, Callable, tuple, dict]] = [
            ("silent_devices", jobs.check_silent_devices, (factory, clock), {}),
            ("beyond_use_sweep", jobs.sweep_beyond_use, (factory, clock), {}),
            (
                "escalate_alerts",
                jobs.escalate_alerts,
                (factory, clock, self.settings.alert_escalate_after_min),
                {},
            ),
            ("roll_up_readings", jobs.roll_up_readings, (factory, clock), {}),
            (
                "maintain_readings",
                jobs.maintain_readings,
                (factory, clock),
                {
                    "months_ahead": self.settings.reading_partitions_ahead,
                    "retention_months": self.settings.readings_retention_months,
                },
            ),
            (
                "deliver_alerts",
                jobs.deliver_alerts,
                (factory, clock),
                {"publish": self.publisher, "webhook_url": self.settings.webhook_url or None},
            ),
        ]
        for job_id, func, args, kwargs in plan:
            scheduler.add_job(
                func,
                "interval",
                seconds=INTERVALS[job_id],
                id=job_id,
                name=job_id,
                args=args,
                kwargs=kwargs,
                coalesce=True,
                max_instances=1,
                next_run_time=first,
            )
        scheduler.add_listener(_count_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start()
        self.scheduler = scheduler

    def _stand_down(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        publisher, self.publisher = self.publisher, None
        if publisher is not None:
            publisher.close()


def _count_run(event: JobExecutionEvent) -> None:
    metrics.job_ran(event.job_id, failed=event.exception is not None)


def run_scheduler(app: Flask, *, blocking: bool = True, **options) -> SchedulerProcess:
    """Run the scheduler for this app. Blocking: in the foreground until SIGTERM or SIGINT.
    Otherwise in a background thread; call `.stop()` on what is returned."""
    process = SchedulerProcess(session_factory(app), app.config["CLOCK"], settings(app), **options)
    if not blocking:
        return process.start()

    def on_signal(signum, _frame):
        log.info("scheduler %s stopping (%s)", process.holder, signal.Signals(signum).name)
        process._stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        process.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return process


@click.command("scheduler")
def command() -> None:
    """Run the scheduled jobs (silent devices, beyond-use sweep, escalation, roll-up, alert
    delivery, readings partitions and retention) until SIGTERM/SIGINT. Run one; a second
    waits for the lease."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # one line per job run drowns what matters: APScheduler speaks up only when something is wrong
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    process = run_scheduler(current_app._get_current_object())
    click.echo(f"scheduler {process.holder} stopped")
