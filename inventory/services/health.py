"""What /health reports: the database, the broker, the ingest workers and the scheduler.

Each part is `ok`, `down`, `not configured` or `not running`; only `down` makes the service
unhealthy:
- database: `SELECT 1` fails: down.
- broker: INVENTORY_MQTT_URL unset: not configured; a TCP connection to its host and port not
  made within BROKER_TIMEOUT_S: down.
- ingest: without a broker, not configured; each worker renews its lease `ingest:<client id>`
  with every batch it commits and at least every minute while idle; the newest renewal older
  than INGEST_STALE: down; no worker ever seen: not running.
- scheduler: its lease (renewed every 20 s for 60 s) lapsed: down; no lease (never started, or
  stopped and gave it back): not running."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from inventory.db.telemetry import Lease
from inventory.services import leases

OK, DOWN, NOT_CONFIGURED, NOT_RUNNING = "ok", "down", "not configured", "not running"
BROKER_TIMEOUT_S = 2.0
INGEST_TTL = timedelta(minutes=5)  # how long an ingest worker's renewal counts as alive
INGEST_IDLE_BEAT = timedelta(minutes=1)  # an idle worker renews at least this often


@dataclass
class Part:
    status: str
    detail: dict

    def as_dict(self) -> dict:
        return {"status": self.status, **self.detail}


def report(session: Session, now: datetime, mqtt_url: str) -> dict[str, Part]:
    database = _database(session)
    parts = {"database": database, "broker": _broker(mqtt_url)}
    if database.status != OK:
        parts["ingest"] = parts["scheduler"] = Part(DOWN, {"error": "no database"})
        return parts
    parts["ingest"] = _ingest(session, now) if mqtt_url else Part(NOT_CONFIGURED, {})
    parts["scheduler"] = _scheduler(session, now)
    return parts


def healthy(parts: dict[str, Part]) -> bool:
    return all(part.status != DOWN for part in parts.values())


def _database(session: Session) -> Part:
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:  # health reports, it does not fail
        session.rollback()
        return Part(DOWN, {"error": type(exc).__name__})
    return Part(OK, {})


def _broker(mqtt_url: str) -> Part:
    if not mqtt_url:
        return Part(NOT_CONFIGURED, {})
    parts = urlsplit(mqtt_url)
    where = f"{parts.hostname}:{parts.port or 1883}"
    try:
        with socket.create_connection(
            (parts.hostname or "localhost", parts.port or 1883), timeout=BROKER_TIMEOUT_S
        ):
            return Part(OK, {"address": where})
    except (OSError, ValueError) as exc:
        return Part(DOWN, {"address": where, "error": type(exc).__name__})


def _ingest(session: Session, now: datetime) -> Part:
    workers = leases.leases(session, prefix=leases.INGEST_PREFIX)
    if not workers:
        return Part(NOT_RUNNING, {})
    last = max(w.expires_at for w in workers) - INGEST_TTL
    age = (now - last).total_seconds()
    detail = {"last_commit_at": _iso(last), "age_s": round(age, 1), "workers": len(workers)}
    return Part(OK if now - last < INGEST_TTL else DOWN, detail)


def _scheduler(session: Session, now: datetime) -> Part:
    lease = session.scalar(select(Lease).where(Lease.name == leases.SCHEDULER))
    if lease is None:
        return Part(NOT_RUNNING, {})
    renewed = lease.expires_at - leases.SCHEDULER_TTL
    detail = {
        "holder": lease.holder,
        "lease_age_s": round((now - renewed).total_seconds(), 1),
        "expires_at": _iso(lease.expires_at),
    }
    return Part(OK if lease.expires_at >= now else DOWN, detail)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
