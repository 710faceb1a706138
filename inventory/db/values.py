"""Reading values rather than ORM objects: statements of a table's columns for answers that
only show them (no identity map, no loaders), and their rows read fast."""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Result, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

# a row read by `named_rows`: its values by name (row.id, row.site)
Values = Any


def named_rows(result: Result) -> list[Values]:
    """The rows of `result` as named tuples. A Row's value by attribute name costs about
    0.5 us, a named tuple's a tenth of that: an answer that reads thirty values of each
    of a hundred cartons spent more on reading them than on making the answer."""
    row = _row_class(tuple(result.keys()))
    return [row._make(values) for values in result]


@functools.lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]):
    return namedtuple("Values", names)  # type: ignore[misc]


def constant_in(column: ColumnElement, values: Iterable[str]) -> ColumnElement[bool]:
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
