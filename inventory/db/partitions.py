"""Readings by month on PostgreSQL: one range partition per calendar month (UTC), plus a
default partition that catches a reading whose month has no partition yet (a logger with a
wrong clock, a backlog from long ago), so no reading is ever refused for its time.

A month's partition is made ahead of time by the scheduler. Making one moves any rows of that
month out of the default partition first, in the same transaction. An old month is dropped
by detaching and dropping its partition: a catalogue change, never a long DELETE. SQLite keeps
one plain table; there, retention is a DELETE in bounded batches.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

TABLE = "readings"
DEFAULT = "readings_default"
_MONTHLY = re.compile(r"^readings_y(\d{4})m(\d{2})$")


def month_start(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    return datetime(value.year, value.month, 1, tzinfo=UTC)


def add_months(month: datetime, months: int) -> datetime:
    index = month.year * 12 + month.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition_name(month: datetime) -> str:
    return f"readings_y{month.year:04d}m{month.month:02d}"


def month_of(name: str) -> datetime | None:
    found = _MONTHLY.match(name)
    return datetime(int(found[1]), int(found[2]), 1, tzinfo=UTC) if found else None


def is_partition_name(name: str) -> bool:
    """Names Alembic must not compare with the models: partitions are storage of `readings`."""
    return name == DEFAULT or _MONTHLY.match(name) is not None


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return (
        conn.scalar(
            text(
                "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                "WHERE c.relname = :table AND c.relnamespace = current_schema()::regnamespace"
            ),
            {"table": TABLE},
        )
        is not None
    )


def monthly_partitions(conn: Connection) -> list[datetime]:
    """The months that have a partition of their own, oldest first."""
    names = conn.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :table "
            "AND p.relnamespace = current_schema()::regnamespace"
        ),
        {"table": TABLE},
    ).all()
    return sorted(m for m in map(month_of, names) if m is not None)


def _bound(value: datetime) -> str:
    return value.strftime("%Y-%m-%d 00:00:00+00")


def create_default(conn: Connection) -> None:
    conn.execute(text(f"CREATE TABLE IF NOT EXISTS {DEFAULT} PARTITION OF {TABLE} DEFAULT"))


def create_month(conn: Connection, month: datetime) -> bool:
    """Make the month's partition unless it exists; rows of that month waiting in the default
    partition move into it in the same transaction. True if it was made."""
    month = month_start(month)
    if month in monthly_partitions(conn):
        return False
    name, lo, hi = partition_name(month), _bound(month), _bound(add_months(month, 1))
    # Inserts into the default partition wait until the month is attached: a reading of
    # this month that arrives meanwhile lands in the new partition, never in between.
    conn.execute(text(f"LOCK TABLE {DEFAULT} IN SHARE ROW EXCLUSIVE MODE"))
    conn.execute(text(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)"))
    conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE ts >= '{lo}' AND ts < '{hi}' "
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        )
    )
    # the check lets ATTACH skip its scan of the new table
    conn.execute(
        text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_month CHECK (ts >= '{lo}' AND ts < '{hi}')")
    )
    conn.execute(
        text(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')")
    )
    conn.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_month"))
    return True


def drop_month(conn: Connection, month: datetime) -> None:
    name = partition_name(month)
    conn.execute(text(f"ALTER TABLE {TABLE} DETACH PARTITION {name}"))
    conn.execute(text(f"DROP TABLE {name}"))


def existing_months(conn: Connection) -> list[datetime]:
    """Each month that holds a reading (from the table being converted), oldest first."""
    rows = conn.execute(
        text(
            f"SELECT DISTINCT date_trunc('month', ts AT TIME ZONE 'UTC') FROM {TABLE}"  # noqa: S608
        )
    ).scalars()
    return sorted(month_start(m.replace(tzinfo=UTC)) for m in rows)
