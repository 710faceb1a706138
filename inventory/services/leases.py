"""Leases: a named row one process holds at a time, renewed while it is alive. The scheduler
holds `scheduler` (only its holder runs jobs); each ingest worker keeps `ingest:<client id>`
renewed with every batch it commits and while idle, so /health can tell how long ago it
last committed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from inventory.db import rows_changed, unit_of_work
from inventory.db.telemetry import Lease
from inventory.domain.errors import Conflict

INGEST_PREFIX = "ingest:"
SCHEDULER = "scheduler"
SCHEDULER_TTL = timedelta(seconds=60)


def acquire_lease(
    factory: sessionmaker[Session],
    name: str,
    holder: str,
    now: datetime,
    ttl: timedelta,
) -> bool:
    """Take the lease if it is free, expired or already ours. Works alike on SQLite and
    PostgreSQL: a conditional UPDATE, or an INSERT when there is no row yet; losing the race
    to insert it (IntegrityError) means another process has it."""
    try:
        with unit_of_work(factory) as session:
            taken = rows_changed(
                session,
                update(Lease)
                .where(Lease.name == name, (Lease.expires_at < now) | (Lease.holder == holder))
                .values(holder=holder, expires_at=now + ttl)
                .execution_options(synchronize_session=False),
            )
            if taken:
                return True
            if session.scalar(select(Lease.name).where(Lease.name == name)) is not None:
                return False
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
            session.flush()
        return True
    except (IntegrityError, Conflict):  # another process inserted it first
        return False


def renew_lease(
    factory: sessionmaker[Session],
    name: str,
    holder: str,
    now: datetime,
    ttl: timedelta,
) -> bool:
    """Extend our lease; False when it is no longer ours."""
    with unit_of_work(factory) as session:
        return bool(
            rows_changed(
                session,
                update(Lease)
                .where(Lease.name == name, Lease.holder == holder)
                .values(expires_at=now + ttl)
                .execution_options(synchronize_session=False),
            )
        )


def release_lease(factory: sessionmaker[Session], name: str, holder: str) -> bool:
    """Give the lease back (only if it is ours), so a successor need not wait for expiry."""
    with unit_of_work(factory) as session:
        return bool(
            rows_changed(
                session,
                delete(Lease)
                .where(Lease.name == name, Lease.holder == holder)
                .execution_options(synchronize_session=False),
            )
        )


def lease_holder(factory: sessionmaker[Session], name: str) -> tuple[str, datetime] | None:
    with unit_of_work(factory) as session:
        lease = session.get(Lease, name)
        return (lease.holder, lease.expires_at) if lease else None


def beat(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> None:
    """Renew `name` for `holder` whoever held it (a worker restarted under the same name
    takes its own lease back at once); part of the caller's unit of work."""
    renewed = rows_changed(
        session,
        update(Lease)
        .where(Lease.name == name)
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False),
    )
    if not renewed:
        session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        session.flush()


def leases(session: Session, *, prefix: str) -> list[Lease]:
    return list(session.scalars(select(Lease).where(Lease.name.startswith(prefix))))
