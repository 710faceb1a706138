"""One scheduler at a time: the lease, and the scheduler process that holds it."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from inventory.db import unit_of_work
from inventory.db.models import Carton
from inventory.db.telemetry import Lease
from inventory.scheduler import (
    INTERVALS,
    acquire_lease,
    lease_holder,
    release_lease,
    renew_lease,
    run_scheduler,
)
from inventory.services import custody
from inventory.services.access import SYSTEM
from tests.conftest import T0

ROOT = Path(__file__).resolve().parents[2]
TTL = timedelta(seconds=60)
PATIENCE_S = 20


def eventually(condition, what: str):
    """Poll until the condition holds; fail (saying what) if it never does."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    pytest.fail(f"never happened: {what}")


# ---------------------------------------------------------------- the lease


def test_a_second_holder_cannot_take_a_live_lease_but_can_once_it_expired(db):
    assert acquire_lease(db, "scheduler", "host-a:1", T0, TTL)
    assert not acquire_lease(db, "scheduler", "host-b:2", T0 + timedelta(seconds=59), TTL)
    assert not acquire_lease(db, "scheduler", "host-b:2", T0 + timedelta(seconds=60), TTL)

    assert acquire_lease(db, "scheduler", "host-b:2", T0 + timedelta(seconds=61), TTL)
    assert lease_holder(db, "scheduler") == ("host-b:2", T0 + timedelta(seconds=121))


def test_renewing_keeps_the_lease_from_expiring(db):
    acquire_lease(db, "scheduler", "host-a:1", T0, TTL)
    assert renew_lease(db, "scheduler", "host-a:1", T0 + timedelta(seconds=20), TTL)

    assert not acquire_lease(db, "scheduler", "host-b:2", T0 + timedelta(seconds=70), TTL)
    assert lease_holder(db, "scheduler") == ("host-a:1", T0 + timedelta(seconds=80))


def test_a_holder_whose_lease_was_taken_over_cannot_renew_or_release_it(db):
    acquire_lease(db, "scheduler", "host-a:1", T0, TTL)
    acquire_lease(db, "scheduler", "host-b:2", T0 + timedelta(minutes=5), TTL)

    assert not renew_lease(db, "scheduler", "host-a:1", T0 + timedelta(minutes=5), TTL)
    assert not release_lease(db, "scheduler", "host-a:1")
    assert lease_holder(db, "scheduler")[0] == "host-b:2"


def test_a_released_lease_can_be_taken_at_once(db):
    acquire_lease(db, "scheduler", "host-a:1", T0, TTL)
    assert release_lease(db, "scheduler", "host-a:1")

    assert acquire_lease(db, "scheduler", "host-b:2", T0 + timedelta(seconds=1), TTL)


def test_the_holder_may_take_its_own_lease_again(db):
    acquire_lease(db, "scheduler", "host-a:1", T0, TTL)

    assert acquire_lease(db, "scheduler", "host-a:1", T0 + timedelta(seconds=10), TTL)
    assert lease_holder(db, "scheduler") == ("host-a:1", T0 + timedelta(seconds=70))


def test_leases_of_other_names_are_independent(db):
    assert acquire_lease(db, "scheduler", "host-a:1", T0, TTL)
    assert acquire_lease(db, "reports", "host-b:2", T0, TTL)


# ---------------------------------------------------------------- the scheduler process


def carton_past_its_bud(factory) -> int:
    with unit_of_work(factory) as session:
        carton = custody.receive(
            session,
            SYSTEM,
            T0 - timedelta(days=1),
            custody.ReceiptInput(
                storage_unit="RH-APO-F1",
                vials=10,
                state="thawed",
                product="comirnaty-grey-bivalent",
                lot="SCH1",
                expiry=date(2027, 6, 30),
            ),
        )
        carton.bud = T0 - timedelta(minutes=1)
        return carton.id


def status(factory, carton_id: int) -> str:
    with unit_of_work(factory) as session:
        return session.get(Carton, carton_id).status


def job_runs(job: str) -> float:
    labels = {"job": job, "outcome": "ok"}
    return REGISTRY.get_sample_value("inventory_scheduler_job_runs_total", labels) or 0.0


def test_the_scheduler_takes_the_lease_runs_its_jobs_and_gives_the_lease_back_on_stop(app, seeded):
    carton_id = carton_past_its_bud(seeded)
    sweeps_before = job_runs("beyond_use_sweep")

    process = run_scheduler(app, blocking=False, holder="scheduler-test:1", retry_every_s=0.05)
    try:
        eventually(lambda: status(seeded, carton_id) == "expired", "the beyond-use sweep ran")
        eventually(lambda: job_runs("beyond_use_sweep") > sweeps_before, "/metrics counted it")
        assert lease_holder(seeded, "scheduler")[0] == "scheduler-test:1"
        jobs = {job.id: job for job in process.scheduler.get_jobs()}
        assert {
            job_id: job.trigger.interval.total_seconds() for job_id, job in jobs.items()
        } == INTERVALS
        assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    finally:
        process.stop()

    assert process.scheduler is None
    assert lease_holder(seeded, "scheduler") is None


def test_a_second_scheduler_waits_without_running_jobs_and_takes_over_when_the_first_stops(
    app, seeded, caplog
):
    caplog.set_level(logging.INFO, logger="inventory.scheduler")
    first = run_scheduler(app, blocking=False, holder="host-a:1", retry_every_s=0.05)
    second = None
    try:
        eventually(lambda: first.running_jobs, "the first scheduler started its jobs")
        second = run_scheduler(app, blocking=False, holder="host-b:2", retry_every_s=0.05)
        eventually(
            lambda: "host-b:2 waits and runs no jobs" in caplog.text, "the second scheduler waited"
        )
        assert not second.running_jobs

        first.stop()
        eventually(lambda: second.running_jobs, "the second scheduler took over")
        assert lease_holder(seeded, "scheduler")[0] == "host-b:2"
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_a_scheduler_takes_over_a_lease_its_dead_holder_never_gave_back(app, seeded, clock, caplog):
    caplog.set_level(logging.INFO, logger="inventory.scheduler")
    assert acquire_lease(seeded, "scheduler", "crashed-host:9", clock.now(), TTL)
    process = run_scheduler(app, blocking=False, holder="host-b:2", retry_every_s=0.05)
    try:
        eventually(
            lambda: "held by crashed-host:9" in caplog.text, "the scheduler found the lease taken"
        )
        assert not process.running_jobs
        clock.advance(seconds=61)
        eventually(lambda: process.running_jobs, "the scheduler took the expired lease")
    finally:
        process.stop()


def test_a_scheduler_that_lost_its_lease_stops_its_jobs(app, seeded):
    process = run_scheduler(
        app, blocking=False, holder="host-a:1", retry_every_s=0.05, renew_every_s=0.05
    )
    try:
        eventually(lambda: process.running_jobs, "the scheduler started its jobs")
        with unit_of_work(
            seeded
        ) as session:  # another process took it (say, after a long pause here)
            session.execute(
                update(Lease).where(Lease.name == "scheduler").values(holder="host-b:2")
            )

        eventually(lambda: not process.running_jobs, "the scheduler stopped its jobs")
    finally:
        process.stop()
    assert lease_holder(seeded, "scheduler")[0] == "host-b:2"


def test_the_scheduler_command_runs_until_sigterm_and_gives_the_lease_back(database_url, db):
    env = {**os.environ, "INVENTORY_DATABASE_URL": database_url}
    env.pop("INVENTORY_MQTT_URL", None)
    env.pop("INVENTORY_WEBHOOK_URL", None)
    command = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        eventually(
            lambda: lease_holder(db, "scheduler") is not None or command.poll() is not None,
            "the scheduler command took the lease",
        )
        assert command.poll() is None, command.stdout.read().decode()
        assert lease_holder(db, "scheduler")[0].endswith(f":{command.pid}")

        command.send_signal(signal.SIGTERM)
        output, _ = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()

    assert command.returncode == 0, output.decode()
    assert "stopped" in output.decode()
    with unit_of_work(db) as session:
        assert session.scalars(select(Lease)).all() == []
