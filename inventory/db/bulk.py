"""Batch writes for the telemetry hot path. PostgreSQL gets arrays and unnest (a handful of
parameters whatever the batch size); SQLite, in process, gets a plain executemany."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from inventory.db.telemetry import Device, Reading, UnitEvaluation


def _postgres(session: Session) -> bool:
    return session.bind.dialect.name == "postgresql"


def _naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(timezone.utc).replace(tzinfo=None)


def insert_new_readings(session: Session, rows: list[tuple[str, int, datetime, float]],
                        received_at: datetime) -> set[tuple[str, datetime]]:
    """Insert (device_id, storage_unit_id, ts, c) rows, skipping any (device, ts) already
    stored; return the (device_id, ts) pairs that were new."""
    if not rows:
        return set()
    if _postgres(session):
        result = session.execute(text(
            "INSERT INTO readings (device_id, storage_unit_id, ts, c, received_at) "
            "SELECT d, u, t, c, :received_at FROM unnest(CAST(:d AS varchar[]), CAST(:u AS integer[]), "
            "CAST(:t AS timestamptz[]), CAST(:c AS double precision[])) AS v(d, u, t, c) "
            "ON CONFLICT (device_id, ts) DO NOTHING RETURNING device_id, ts"
        ), {"d": [r[0] for r in rows], "u": [r[1] for r in rows], "t": [r[2] for r in rows],
            "c": [r[3] for r in rows], "received_at": received_at})
        return {(device_id, ts.astimezone(timezone.utc)) for device_id, ts in result}
    statement = sqlite_insert(Reading).on_conflict_do_nothing(index_elements=["device_id", "ts"]).returning(
        Reading.device_id, Reading.ts)
    return set(session.execute(statement, [
        {"device_id": d, "storage_unit_id": u, "ts": t, "c": c, "received_at": received_at} for d, u, t, c in rows]))


def mark_devices_heard(session: Session, heard_at: datetime, newest: dict[str, datetime]) -> None:
    """Set last_heard_at and last_reading_at (device id -> newest reading time) in one go."""
    if not newest:
        return
    if _postgres(session):
        session.execute(text(
            "UPDATE devices SET last_heard_at = :heard_at, last_reading_at = v.t "
            "FROM unnest(CAST(:ids AS varchar[]), CAST(:ts AS timestamptz[])) AS v(id, t) WHERE devices.id = v.id"
        ), {"heard_at": heard_at, "ids": list(newest), "ts": list(newest.values())})
        return
    table = Device.__table__
    session.execute(table.update().where(table.c.id == bindparam("device_id")).values(
        last_heard_at=bindparam("heard_at"), last_reading_at=bindparam("ts")),
        [{"device_id": d, "heard_at": heard_at, "ts": ts} for d, ts in newest.items()])


def save_evaluations(session: Session, inserts: list[dict], updates: list[dict]) -> None:
    """Evaluator snapshots: rows {uid, snapshot, last_ts, version}."""
    table = UnitEvaluation.__table__
    if inserts:
        session.execute(table.insert(), [{"storage_unit_id": r["uid"], "snapshot": r["snapshot"],
                                          "last_ts": r["last_ts"], "version": r["version"]} for r in inserts])
    if not updates:
        return
    if _postgres(session):
        # one JSON document for the whole batch: no per-row escaping inside an array
        session.execute(text(
            "UPDATE unit_evaluations SET snapshot = v.s, last_ts = v.t, version = v.n "
            "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(u integer, s jsonb, t timestamptz, n integer) "
            "WHERE unit_evaluations.storage_unit_id = v.u"
        ), {"rows": json.dumps([{"u": r["uid"], "s": r["snapshot"],
                                 "t": r["last_ts"].isoformat() if r["last_ts"] else None, "n": r["version"]}
                                for r in updates])})
        return
    session.execute(table.update().where(table.c.storage_unit_id == bindparam("uid")).values(
        snapshot=bindparam("snapshot"), last_ts=bindparam("last_ts"), version=bindparam("version")), updates)
