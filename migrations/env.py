"""Alembic environment: the only way any schema (tests, demo, production) is made."""

from __future__ import annotations

from pathlib import Path

from alembic import context

from inventory.config import Settings
from inventory.db import Base, UTCDateTime, make_engine, partitions

config = context.config
ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    # Tests and the app hand a URL in through the config; the CLI reads the environment.
    return (
        config.attributes.get("database_url")
        or Settings.from_environment(ROOT / "instance").database_url
    )


def render_item(type_, obj, autogen_context):
    # Migrations describe storage, not app types: a UTC column is a timezone-aware timestamp.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def include_name(name, type_, parent_names) -> bool:
    # the monthly partitions of readings are its storage, not tables of their own
    return not (type_ == "table" and partitions.is_partition_name(name))


def run_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=Base.metadata,
        render_as_batch=True,
        literal_binds=True,
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
