"""Reading values rather than ORM objects: statements of a table's columns for answers that
only show them (no identity map, no loaders), and their rows read fast."""

from __future__ import annotations

import functools
import json
from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BindParameter,
    Boolean,
    ColumnElement,
    Result,
    Select,
    String,
    TypeDecorator,
    bindparam,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

from inventory.db.base import as_utc

# a row read by `Packed.read`: its values by name (row.id, row.site)
Values = Any


@dataclass(frozen=True)
class Packed:
    """A statement whose rows each come back as one JSON list of its columns' values
    (`JsonValues`), read back by `read` into named tuples with each value as the column's
    own type would give it. A driver describes every column of a result at every run
    whether anyone reads the description or not: for a carton's thirty columns that cost
    more than reading their values back from one list."""

    statement: Select
    row: type
    # (position, how to read it) of the values JSON does not keep: times, dates, floats...
    readers: tuple[tuple[int, Callable[[Any], Any]], ...]

    def rows(self, session: Session, params: dict[str, Any]) -> list[Values]:
        """Run the statement with `params` and `read` its rows."""
        return self.read(session.execute(self.statement, params))

    def read(self, result: Result) -> list[Values]:
        """The rows of `result` as named tuples (a Row's value by attribute name costs about
        0.5 us, a named tuple's a tenth of that)."""
        rows = []
        for (values,) in result.all():  # all at once: iterating fetches rows one by one
            for i, read in self.readers:
                if values[i] is not None:
                    values[i] = read(values[i])
            rows.append(self.row._make(values))
        return rows


def packed(query: Select) -> Packed:
    """`query` (its filters, order and limit as they are) with its columns as one JSON list a
    row, and how to read them back (`Packed`)."""
    columns = list(query.selected_columns)
    return Packed(
        query.with_only_columns(JsonValues(*columns)),
        _row_class(tuple(query.selected_columns.keys())),
        tuple((i, read) for i, column in enumerate(columns) if (read := _reader(column.type))),
    )


def _reader(type_: TypeEngine) -> Callable[[Any], Any] | None:
    """How a value of `type_` written into JSON is read back; None where JSON keeps it (a
    whole number, a text, JSON itself)."""
    try:  # a decorated type (UTCDateTime) reads as the type it decorates
        python_type = getattr(type_, "impl_instance", type_).python_type
    except NotImplementedError:
        return None
    if python_type is datetime:
        return utc
    return {date: date.fromisoformat, bool: bool, float: float}.get(python_type)


@functools.lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]):
    return namedtuple("Values", names)  # type: ignore[misc]


def constant_in(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """`column IN ('a', 'b')` for constants of the code (statuses, kinds) written into the
    statement: a list given as a parameter is expanded into the SQL again at every run."""
    written = []
    for value in values:
        text = str(value)
        if not text.replace("_", "").isalnum():
            raise ValueError(f"not a constant to write into SQL: {text!r}")
        written.append(literal_column(f"'{text}'", type_=column.type))
    return column.in_(written)


class IdList(FunctionElement):
    """An aggregate of whole numbers (ids) as one text, "3,1,2", in no given order: the
    children of each carton in its own row. (`aggregate_strings` would expand its separator
    into the SQL at every run.)"""

    type = String()
    name = "id_list"
    inherit_cache = True


@compiles(IdList, "postgresql")
def _id_list_postgresql(element, compiler, **kw):
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), ',')"


@compiles(IdList, "sqlite")
def _id_list_sqlite(element, compiler, **kw):
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


class JsonValues(FunctionElement):
    """A row's values as one JSON list, in order: JSON columns stay JSON; times are ISO text
    (read back by `utc`), booleans true/false on PostgreSQL and 1/0 on SQLite."""

    type = JSON()
    name = "json_values"
    inherit_cache = True


@compiles(JsonValues, "postgresql")
def _json_values_postgresql(element, compiler, **kw):
    return f"json_build_array({compiler.process(element.clauses, **kw)})"


@compiles(JsonValues, "sqlite")
def _json_values_sqlite(element, compiler, **kw):
    values = ", ".join(
        # SQLite keeps JSON as text: json() embeds it rather than quoting it
        f"json({compiler.process(clause, **kw)})"
        if isinstance(clause.type, JSON)
        else compiler.process(clause, **kw)
        for clause in element.clauses
    )
    return f"json_array({values})"


class JsonRows(FunctionElement):
    """An aggregate of rows as one JSON list of lists, each its columns' values in order
    (`JsonValues`): rows that belong to one row (a carton's ledger events) in that row. None
    when there are no rows."""

    type = JSON()
    name = "json_rows"
    inherit_cache = True


@compiles(JsonRows, "postgresql")
def _json_rows_postgresql(element, compiler, **kw):
    return f"json_agg({compiler.process(JsonValues(*element.clauses), **kw)})"


@compiles(JsonRows, "sqlite")
def _json_rows_sqlite(element, compiler, **kw):
    return f"json_group_array({compiler.process(JsonValues(*element.clauses), **kw)})"


def utc(text: str | None) -> datetime | None:
    """A time `JsonValues` wrote (PostgreSQL's with its offset, SQLite's stored UTC text)."""
    return None if text is None else as_utc(datetime.fromisoformat(text))


class _ListOf(TypeDecorator):
    """A list bound as one parameter: an array on PostgreSQL, a JSON array elsewhere."""

    impl = String
    cache_ok = True

    def __init__(self, item_type: TypeEngine):
        super().__init__()
        self.item_type = item_type

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(self.item_type))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value, dialect):
        return list(value) if dialect.name == "postgresql" else json.dumps(list(value))


class _InList(FunctionElement):
    type = Boolean()
    name = "in_list"
    inherit_cache = True


@compiles(_InList, "postgresql")
def _in_list_postgresql(element, compiler, **kw):
    column, values = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{column} = ANY({values})"


@compiles(_InList)
def _in_list_json(element, compiler, **kw):
    column, values = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{column} IN (SELECT value FROM json_each({values}))"


def in_list(column: Any, values: BindParameter | Iterable) -> ColumnElement[bool]:
    """`column IN (values)` with the list as one parameter, whatever its length: `values` is
    a bindparam's name's parameter (`in_list(c, bindparam("ids"))`) or the list itself. The
    statement's text never changes, so it is compiled once and psycopg keeps it prepared
    (an expanding IN list is written into the SQL again at every run)."""
    if isinstance(values, BindParameter):
        param = bindparam(values.key, type_=_ListOf(column.type))
    else:
        param = bindparam(None, list(values), type_=_ListOf(column.type))
    return cast(ColumnElement[bool], _InList(column, param))
