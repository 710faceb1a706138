"""The test database: a SQLite file by default, or the PostgreSQL database named by
INVENTORY_TEST_DATABASE_URL. Made once per run by the migrations, emptied between tests."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from inventory.db import Base
from inventory.db.migrate import alembic_config, upgrade  # noqa: F401  (tests import it from here)


def test_database_url(tmp_dir: Path) -> str:
    return os.environ.get("INVENTORY_TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite'}"


def migrate(url: str, revision: str = "head") -> None:
    upgrade(url, revision)


def empty_all_tables(engine: Engine) -> None:
    """Every table of the models empty and its ids starting again at 1, as after the migrations."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            _empty_postgresql(conn, tables)
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sequence(conn) else None


# PostgreSQL: a TRUNCATE makes new files for every table and index it empties, and its commit
# waits for the disk; on a busy machine that was a second and more before every test. Most
# tests leave a few tables with a few rows, so those are emptied by DELETE (one query first
# finds which hold rows), and only a table that holds many rows is truncated. The database's
# autovacuum may be off, so a table is also truncated once DELETEs have left many dead rows in
# it. Sequences used since the last emptying start again, as TRUNCATE ... RESTART IDENTITY did.
TRUNCATE_FROM_ROWS = 5_000
TRUNCATE_AFTER_DELETED = 50_000
_deleted_since_truncate: dict[tuple[str, str], int] = {}


def _empty_postgresql(conn: Connection, tables: list[str]) -> None:
    _bulk_transaction(conn)
    held = conn.execute(
        text(
            " UNION ALL ".join(
                f"SELECT '{t}', (SELECT count(*) FROM "
                f'(SELECT 1 FROM "{t}" LIMIT {TRUNCATE_FROM_ROWS}) AS r)'
                for t in tables
            )
        )
    ).all()
    rows = {name: n for name, n in held if n}
    database = conn.engine.url.render_as_string(hide_password=True)
    truncate, delete = [], []
    for table in tables:
        if table not in rows:
            continue
        key = (database, table)
        deleted = _deleted_since_truncate.get(key, 0) + rows[table]
        if rows[table] >= TRUNCATE_FROM_ROWS or deleted >= TRUNCATE_AFTER_DELETED:
            truncate.append(table)
            _deleted_since_truncate[key] = 0
        else:
            delete.append(table)
            _deleted_since_truncate[key] = deleted
    if truncate:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in truncate) + " CASCADE"))
    for table in delete:  # the referring tables before the ones they refer to
        conn.execute(text(f'DELETE FROM "{table}"'))
    conn.execute(
        text(
            "SELECT setval(s.seq, q.start_value, false) FROM "
            f"({_OWNED_SEQUENCES}) AS s JOIN pg_sequences AS q "
            "ON q.schemaname = s.schema AND q.sequencename = s.name "
            "WHERE q.last_value IS NOT NULL"
        ),
        {"tables": tables},
    )


def _bulk_transaction(conn: Connection) -> None:
    """Settings for a transaction that empties or fills whole tables: its commit need not wait
    for the disk, and (for a superuser) no foreign key is checked row by row, since every
    table is emptied, or filled with rows that were consistent when they were taken."""
    conn.execute(text("SET LOCAL synchronous_commit = off"))
    if conn.execute(text("SHOW is_superuser")).scalar() == "on":
        conn.execute(text("SET LOCAL session_replication_role = replica"))


# the sequences of the models' tables' serial and identity columns
_OWNED_SEQUENCES = (
    "SELECT s.oid AS seq, n.nspname AS schema, s.relname AS name "
    "FROM pg_class AS s JOIN pg_namespace AS n ON n.oid = s.relnamespace "
    "JOIN pg_depend AS d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass "
    "AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
    "JOIN pg_class AS t ON t.oid = d.refobjid "
    "WHERE s.relkind = 'S' AND n.nspname = current_schema() AND t.relname = ANY(:tables)"
)


def _has_sequence(conn) -> bool:
    return (
        conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first()
        is not None
    )


class Snapshot:
    """The rows of every table (and on PostgreSQL the state of the id sequences) as a set-up
    left them, to be put back into the emptied database far faster than the set-up runs again
    (the seed catalogue and network through the ORM took a third of a second and more).

    Values are copied as the database keeps them: PostgreSQL's COPY text, SQLite's values as
    its driver gives them; rows go back in the order of their primary key, the order they were
    made in, so that a site is there before the sites it supplies."""

    def __init__(self, engine: Engine) -> None:
        self.postgresql = engine.dialect.name == "postgresql"
        self.tables: list[tuple[str, str, list[tuple] | bytes]] = []
        self.sequences: list[tuple[str, int]] = []
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                columns = ", ".join(f'"{c.name}"' for c in table.columns)
                order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
                query = f'SELECT {columns} FROM "{table.name}" ORDER BY {order}'
                if self.postgresql:
                    with _cursor(conn) as cursor, cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
                        data = b"".join(bytes(block) for block in copy)
                    if data:
                        self.tables.append((table.name, columns, data))
                else:
                    rows = [tuple(row) for row in conn.execute(text(query))]
                    if rows:
                        self.tables.append((table.name, columns, rows))
            if self.postgresql:
                owned = conn.execute(
                    text(f"SELECT CAST(seq AS regclass)::text FROM ({_OWNED_SEQUENCES}) AS s"),
                    {"tables": [t.name for t in Base.metadata.sorted_tables]},
                ).scalars()
                for sequence in owned:
                    last, called = conn.execute(
                        text(f"SELECT last_value, is_called FROM {sequence}")
                    ).one()
                    if called:
                        self.sequences.append((sequence, last))

    def restore(self, engine: Engine) -> None:
        """Put the rows back into the emptied database."""
        with engine.begin() as conn:
            if self.postgresql:
                _bulk_transaction(conn)
                with _cursor(conn) as cursor:
                    for name, columns, data in self.tables:
                        with cursor.copy(f'COPY "{name}" ({columns}) FROM STDIN') as copy:
                            copy.write(data)
                for sequence, last in self.sequences:
                    conn.execute(
                        text("SELECT setval(CAST(:s AS regclass), :v)"), {"s": sequence, "v": last}
                    )
            else:
                for name, columns, rows in self.tables:
                    marks = ", ".join("?" * len(rows[0]))
                    conn.exec_driver_sql(f'INSERT INTO "{name}" ({columns}) VALUES ({marks})', rows)


def _cursor(conn: Connection):
    """The driver's own cursor in the connection's transaction (psycopg: for COPY)."""
    return conn.connection.dbapi_connection.cursor()


def _admin(admin_url: str, statement: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


if __name__ == "__main__":  # used by .ci/run: make or drop the run's own PostgreSQL database
    import sys

    action, admin_url, name = sys.argv[1:4]
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing database name {name!r}")
    _admin(
        admin_url,
        f'CREATE DATABASE "{name}"'
        if action == "create"
        else f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
    )
