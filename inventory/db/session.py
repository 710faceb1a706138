"""Engines and units of work. Business operations only flush; a unit of work commits once.

Every entry point (a web request, the MQTT ingest, a scheduled job, the CLI) ends its work
through `commit`: it commits or rolls back, turns the ways a commit loses a race into one
domain error (`ConcurrentUpdate` or `Conflict`), and runs the side effects registered with
`after_commit` only once the data is safe."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import cast

import orjson
from sqlalchemy import CursorResult, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from inventory.domain.errors import Conflict

log = logging.getLogger(__name__)

AFTER_COMMIT = "inventory.after_commit"


class ConcurrentUpdate(Conflict):
    """Another transaction changed the same rows at the same moment: reload and retry."""

    code = "concurrent_update"


def make_engine(url: str, *, echo: bool = False, read_only: bool = False) -> Engine:
    """An engine for `url`. `read_only` (PostgreSQL): connections outside any transaction
    that refuse every write: a read pays no BEGIN and COMMIT round trips, and a read that
    tried to write would fail at once. SQLite ignores it."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # Sessions in UTC: timestamps come back with the plain UTC tzinfo, the cheap one.
    options = "-c timezone=UTC" + (" -c default_transaction_read_only=on" if read_only else "")
    engine = create_engine(
        url,
        echo=echo,
        # JSON read back (a carton's page is mostly JSON: `Packed`) by orjson, several times
        # faster than the standard library's
        json_deserializer=orjson.loads,
        pool_size=10,
        max_overflow=20,
        connect_args={"options": options},
        # outside any transaction, a connection back in the pool, or a read's connection
        # closed, has nothing to roll back
        **(
            {
                "isolation_level": "AUTOCOMMIT",
                "pool_reset_on_return": None,
                "skip_autocommit_rollback": True,
            }
            if read_only
            else {}
        ),
    )
    event.listen(engine, "checkin", _note_idle_since)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


# A connection back from the pool is tried first (a server restart or a proxy's idle
# timeout may have closed it) only when it lay there a while: a busy worker's connections
# go straight back to work, without a round trip per request for the ping.
PING_AFTER_IDLE_S = 10.0


def _note_idle_since(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as exc:
        # the pool throws this connection away and checks out another
        raise sa_exc.DisconnectionError(str(exc)) from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def is_lock_conflict(exc: DBAPIError) -> bool:
    """Lost races the database reports: a serialization failure or deadlock (PostgreSQL),
    or a busy database (SQLite)."""
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01", "55P03") or "database is locked" in str(exc.orig)


def as_conflict(exc: BaseException) -> Conflict | None:
    """The domain error for a database failure that is a lost race or a conflict with
    existing data; None for anything else (a real failure)."""
    if isinstance(exc, StaleDataError):
        return ConcurrentUpdate(
            "someone else changed this stock at the same moment; reload and retry"
        )
    if isinstance(exc, IntegrityError):
        return Conflict(
            "the change conflicts with existing data or a simultaneous change", code="conflict"
        )
    if isinstance(exc, DBAPIError) and is_lock_conflict(exc):
        return ConcurrentUpdate("the stock is busy with another change; retry")
    return None


def rows_changed(session: Session, statement) -> int:
    """Run an UPDATE or DELETE; how many rows it touched."""
    return cast(CursorResult, session.execute(statement)).rowcount


def after_commit(session: Session, action: Callable[[], object]) -> None:
    """Run `action` (an MQTT publish, a webhook) once this session's work is committed;
    never if it is rolled back."""
    session.info.setdefault(AFTER_COMMIT, []).append(action)


def commit(session: Session) -> None:
    """Commit, mapping a lost race to ConcurrentUpdate or Conflict (after rolling back), then
    run the after-commit actions. A failing action is logged: the data is already safe."""
    try:
        session.commit()
    except (StaleDataError, DBAPIError) as exc:
        rollback(session)
        conflict = as_conflict(exc)
        if conflict is None:
            raise
        raise conflict from exc
    for action in session.info.pop(AFTER_COMMIT, []):
        try:
            action()
        except Exception:
            log.exception("an after-commit action failed")


def rollback(session: Session) -> None:
    """Undo the work and forget its after-commit actions."""
    session.info.pop(AFTER_COMMIT, None)
    session.rollback()


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back otherwise.
    The MQTT ingest, the scheduler's jobs and the CLI each open one per piece of work; a web
    request is one too (inventory.web_db)."""
    session = factory()
    try:
        yield session
        commit(session)
    except BaseException:
        rollback(session)
        raise
    finally:
        session.close()
