"""Migrations are the only way a schema is made: they run up, down and up again on both
backends, and leave nothing the models describe unmigrated (alembic check)."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from inventory.db import Base, make_engine, partitions
from tests.support.database import alembic_config


@pytest.fixture
def scratch_database_url(database_url, tmp_path):
    """A database of its own, so going down to nothing does not disturb the other tests."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    name = f"migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        make_url(database_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(
            database="postgres"
        ),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield str(make_url(database_url).set(database=name))
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        # the monthly partitions of readings (PostgreSQL) are its storage, not model tables
        return {name for name in names if not partitions.is_partition_name(name)}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trip(scratch_database_url):
    config = alembic_config(scratch_database_url)
    command.upgrade(config, "head")
    assert tables(scratch_database_url) == set(Base.metadata.tables)
    command.downgrade(config, "base")
    assert tables(scratch_database_url) == set()
    command.upgrade(config, "head")
    assert tables(scratch_database_url) == set(Base.metadata.tables)


def test_models_and_migrations_agree(database_url):
    command.check(alembic_config(database_url))


def test_one_line_of_history():
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several heads: {heads}"


@pytest.mark.postgres
def test_roll_ups_are_vacuumed_after_every_50000_new_rows(scratch_database_url):
    """Long charts read the roll-ups from the index alone only where a vacuum has marked the
    pages all-visible; PostgreSQL's default waits for a fifth of the table (migration 0012)."""
    if not scratch_database_url.startswith("postgresql"):
        pytest.skip("autovacuum is PostgreSQL's")
    config = alembic_config(scratch_database_url)
    command.upgrade(config, "head")
    assert _reloptions(scratch_database_url, "reading_rollups") == {
        "autovacuum_vacuum_insert_threshold=50000",
        "autovacuum_vacuum_insert_scale_factor=0",
    }
    command.downgrade(config, "0011")
    assert _reloptions(scratch_database_url, "reading_rollups") == set()


def _reloptions(url: str, table: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            options = conn.scalar(
                text("SELECT reloptions FROM pg_class WHERE relname = :t"), {"t": table}
            )
        return set(options or [])
    finally:
        engine.dispose()
