"""Declarative base, naming convention and the column types every backend stores alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, MetaData, String, literal_column
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

# Named constraints: Alembic's batch mode on SQLite can only alter what has a name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC in and out. PostgreSQL keeps timestamptz; SQLite keeps naive UTC text."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class IsoText(FunctionElement):
    """A UTC time column as the text an answer sends (inventory.presentation.iso): ISO 8601
    with a Z, the fraction only when there is one. Written by the database, it spares a
    long list of readings a datetime per row and its formatting in Python."""

    type = String()
    name = "iso_text"
    inherit_cache = True


# '.000000' can only be the fraction: the date and time before it hold no dot
@compiles(IsoText, "postgresql")
def _iso_text_postgresql(element, compiler, **kw):
    ts = compiler.process(element.clauses, **kw)
    pattern = """'YYYY-MM-DD"T"HH24:MI:SS.US'"""
    return f"replace(to_char({ts} AT TIME ZONE 'UTC', {pattern}), '.000000', '') || 'Z'"


@compiles(IsoText, "sqlite")
def _iso_text_sqlite(element, compiler, **kw):
    # stored as naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff'
    ts = compiler.process(element.clauses, **kw)
    return f"replace(replace({ts}, ' ', 'T'), '.000000', '') || 'Z'"


class JSONText(str):
    """A JSON value already encoded (by the database): an answer sends it as it is."""


class ReadingsJSON(FunctionElement):
    """A time-ordered JSON array of readings, ``[{"c": float, "ts": IsoText}, ...]``, written
    by PostgreSQL in one row, as json.dumps would write it: a float's shortest text keeps
    its ".0" (PostgreSQL writes 5 for 5.0). A day of a unit's readings is 720 rows the
    driver, the ORM and the encoder need not see one by one."""

    type = String()
    name = "readings_json"
    inherit_cache = True


@compiles(ReadingsJSON, "postgresql")
def _readings_json_postgresql(element, compiler, **kw):
    ts, c = (compiler.process(clause, **kw) for clause in element.clauses)
    iso = _iso_text_postgresql(IsoText(literal_column(ts)), compiler, **kw)
    number = f"{c}::text || CASE WHEN {c} = trunc({c}) AND abs({c}) < 1e15 THEN '.0' ELSE '' END"
    row = f"""'{{"c":' || {number} || ',"ts":"' || {iso} || '"}}'"""
    return f"'[' || coalesce(string_agg({row}, ',' ORDER BY {ts}), '') || ']'"


# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict: JSONType, list: JSONType}
