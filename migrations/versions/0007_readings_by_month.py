"""readings by month: declarative range partitions on PostgreSQL

Years of readings in one table make every chart, replay and backup slower each year. On
PostgreSQL `readings` becomes a table partitioned by month of `ts` (UTC), with a default
partition for readings whose month has no partition yet. Every existing reading is copied
into the new table, keeping its id; the id sequence carries on. The primary key becomes
(id, ts) and the dedupe key stays (device_id, ts): unique keys of a partitioned table must
hold the partition key. SQLite keeps its plain table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from alembic import op
from sqlalchemy import text

from inventory.db import partitions

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MONTHS_AHEAD = 2  # the scheduler keeps making them from here on

COLUMNS = "id, device_id, storage_unit_id, ts, c, received_at"


def _table(name: str, key: str, tail: str) -> str:
    return (
        f"CREATE TABLE {name} ("
        "id bigint NOT NULL DEFAULT nextval('readings_id_seq'::regclass), "
        "device_id varchar(64) NOT NULL, storage_unit_id integer NOT NULL, "
        "ts timestamp with time zone NOT NULL, c double precision NOT NULL, "
        "received_at timestamp with time zone NOT NULL, "
        f"CONSTRAINT pk_readings PRIMARY KEY ({key}), "
        "CONSTRAINT uq_readings_device_ts UNIQUE (device_id, ts))" + tail
    )


def _set_aside(old: str) -> None:
    """Rename the table and its constraints and index, whose names the new table takes."""
    op.execute(f"ALTER TABLE readings RENAME TO {old}")
    op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT pk_readings TO pk_{old}")
    op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT uq_readings_device_ts TO uq_{old}_device_ts")
    op.execute(f"ALTER INDEX ix_readings_unit_ts RENAME TO ix_{old}_unit_ts")


def _move_in(old: str) -> None:
    op.execute("ALTER SEQUENCE readings_id_seq OWNED BY readings.id")
    op.execute("CREATE INDEX ix_readings_unit_ts ON readings (storage_unit_id, ts)")


def _copy_from(old: str) -> None:
    op.execute(f"INSERT INTO readings ({COLUMNS}) SELECT {COLUMNS} FROM {old}")
    op.execute(f"DROP TABLE {old}")


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    months = set(partitions.existing_months(conn))
    this_month = partitions.month_start(conn.scalar(text("SELECT now()")))
    months |= {partitions.add_months(this_month, n) for n in range(MONTHS_AHEAD + 1)}
    _set_aside("readings_unpartitioned")
    op.execute(_table("readings", "id, ts", " PARTITION BY RANGE (ts)"))
    _move_in("readings_unpartitioned")
    partitions.create_default(conn)
    for month in sorted(months):
        partitions.create_month(conn, month)
    _copy_from("readings_unpartitioned")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    _set_aside("readings_partitioned")
    op.execute(_table("readings", "id", ""))
    _move_in("readings_partitioned")
    _copy_from("readings_partitioned")
