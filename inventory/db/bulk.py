"""Batch writes for the telemetry hot path. PostgreSQL gets one JSON document per statement
(json_to_recordset: a handful of parameters whatever the batch size, and statement text that
never changes); SQLite, in process, gets the driver's own cursor with rows already in the
text form SQLAlchemy would store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.orm import Session

from inventory.db.telemetry import UnitEvaluation


def _postgres(session: Session) -> bool:
    return session.bind.dialect.name == "postgresql"


def _sqlite_cursor(session: Session):
    """The driver's own cursor, in the session's transaction: the hot path's plain rows skip
    SQLAlchemy's per-row parameter processing, which costs more than SQLite's work."""
    return session.connection().connection.driver_connection.cursor()


@lru_cache(maxsize=8192)
def sqlite_datetime(ts: datetime) -> str:
    """A time as a UTC column stores it on SQLite (naive UTC text, as SQLAlchemy writes it).
    Cached: the readings of a batch share few distinct times (devices report on the second)."""
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _json_rows(names: tuple[str, ...], rows) -> str:
    """Rows as one JSON document for json_to_recordset: the server parses it, and the
    client encodes it in C, which beats one array parameter per column."""
    return json.dumps([dict(zip(names, row, strict=True)) for row in rows], default=_iso)


@lru_cache(maxsize=8192)
def _iso(value: object) -> str:
    """Cached: the readings of a batch share few distinct times, and isoformat is slow."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def insert_new_readings(
    session: Session, rows: list[tuple[str, int, datetime, float]], received_at: datetime
) -> set[tuple[str, datetime]]:
    """Insert (device_id, storage_unit_id, ts, c) rows, skipping any (device, ts) already
    stored; return the (device_id, ts) pairs that were new."""
    if not rows:
        return set()
    if _postgres(session):
        result = session.execute(
            text(
                "INSERT INTO readings (device_id, storage_unit_id, ts, c, received_at) "
                "SELECT v.d, v.u, v.t, v.c, :received_at "
                "FROM json_to_recordset(CAST(:rows AS json)) AS v(d varchar, u integer, t timestamptz, c double precision) "
                "ON CONFLICT (device_id, ts) DO NOTHING RETURNING device_id, ts"
            ),
            {"rows": _json_rows(("d", "u", "t", "c"), rows), "received_at": received_at},
        )
        return {(device_id, ts.astimezone(UTC)) for device_id, ts in result.all()}
    # SQLite: one statement over a JSON array too; RETURNING gives only the rows inserted
    times = {}
    for _, _, ts, _ in rows:
        times[sqlite_datetime(ts)] = ts
    cursor = _sqlite_cursor(session)
    cursor.execute(
        "INSERT INTO readings (device_id, storage_unit_id, ts, c, received_at) "
        "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
        "json_extract(value, '$[3]'), ? FROM json_each(?) WHERE true "
        "ON CONFLICT (device_id, ts) DO NOTHING RETURNING device_id, ts",
        (
            sqlite_datetime(received_at),
            json.dumps([(d, u, sqlite_datetime(t), c) for d, u, t, c in rows]),
        ),
    )
    return {(device_id, times[ts]) for device_id, ts in cursor.fetchall()}


def units_with_readings_before(session: Session, before: dict[int, datetime]) -> set[int]:
    """The storage units (unit id -> time) with a stored reading earlier than that time."""
    if _postgres(session):
        return set(
            session.scalars(
                text(
                    "SELECT v.u FROM json_to_recordset(CAST(:rows AS json)) AS v(u integer, t timestamptz) "
                    "WHERE EXISTS (SELECT 1 FROM readings r WHERE r.storage_unit_id = v.u AND r.ts < v.t)"
                ),
                {"rows": _json_rows(("u", "t"), before.items())},
            ).all()
        )
    cursor = _sqlite_cursor(session)
    cursor.execute(
        "SELECT json_extract(value, '$[0]') FROM json_each(?) WHERE EXISTS (SELECT 1 FROM readings r "
        "WHERE r.storage_unit_id = json_extract(value, '$[0]') AND r.ts < json_extract(value, '$[1]'))",
        (json.dumps([(u, sqlite_datetime(t)) for u, t in before.items()]),),
    )
    return {unit_id for (unit_id,) in cursor.fetchall()}


def mark_devices_heard(session: Session, heard_at: datetime, newest: dict[str, datetime]) -> None:
    """Set last_heard_at, and last_reading_at to the newest of its own and the given time
    (device id -> newest reading time), in one go."""
    if not newest:
        return
    if _postgres(session):
        session.execute(
            text(
                "UPDATE devices SET last_heard_at = :heard_at, last_reading_at = GREATEST(last_reading_at, v.t) "
                "FROM json_to_recordset(CAST(:rows AS json)) AS v(id varchar, t timestamptz) WHERE devices.id = v.id"
            ),
            {"heard_at": heard_at, "rows": _json_rows(("id", "t"), newest.items())},
        )
        return
    heard = sqlite_datetime(heard_at)
    _sqlite_cursor(session).executemany(
        # the stored text compares as the times do: one format throughout
        "UPDATE devices SET last_heard_at = ?1, last_reading_at = max(coalesce(last_reading_at, ?2), ?2) WHERE id = ?3",
        [(heard, sqlite_datetime(ts), d) for d, ts in newest.items()],
    )


def save_evaluations(session: Session, inserts: list[dict], updates: list[dict]) -> None:
    """Evaluator snapshots: rows {uid, snapshot, last_ts, version}."""
    table = UnitEvaluation.__table__
    if inserts:
        session.execute(
            table.insert(),
            [
                {
                    "storage_unit_id": r["uid"],
                    "snapshot": r["snapshot"],
                    "last_ts": r["last_ts"],
                    "version": r["version"],
                }
                for r in inserts
            ],
        )
    if not updates:
        return
    if _postgres(session):
        # one JSON document for the whole batch: no per-row escaping inside an array
        session.execute(
            text(
                "UPDATE unit_evaluations SET snapshot = v.s, last_ts = v.t, version = v.n "
                "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(u integer, s jsonb, t timestamptz, n integer) "
                "WHERE unit_evaluations.storage_unit_id = v.u"
            ),
            {
                "rows": _json_rows(
                    ("u", "s", "t", "n"),
                    ((r["uid"], r["snapshot"], r["last_ts"], r["version"]) for r in updates),
                )
            },
        )
        return
    _sqlite_cursor(session).executemany(
        "UPDATE unit_evaluations SET snapshot = ?, last_ts = ?, version = ? WHERE storage_unit_id = ?",
        [
            (
                json.dumps(r["snapshot"]),
                sqlite_datetime(r["last_ts"]) if r["last_ts"] else None,
                r["version"],
                r["uid"],
            )
            for r in updates
        ],
    )
