"""The test database: a SQLite file by default, or the PostgreSQL database named by
INVENTORY_TEST_DATABASE_URL. Made once per run by the migrations, emptied between tests."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from inventory.db import Base
from inventory.db.migrate import alembic_config, upgrade  # noqa: F401  (tests import it from here)


def test_database_url(tmp_dir: Path) -> str:
    return os.environ.get("INVENTORY_TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite'}"


def migrate(url: str, revision: str = "head") -> None:
    upgrade(url, revision)


def empty_all_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sequence(conn) else None


def _has_sequence(conn) -> bool:
    return (
        conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first()
        is not None
    )


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
