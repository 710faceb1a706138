"""Keyset paging, the one way every list is cut into pages.

A list is ordered on a stable key (its natural order, ending in the row id); a page is the
first `limit` rows after the cursor, which is the last row's key, opaque to clients (urlsafe
base64 of JSON). Visibility is part of the query before the limit, so a page is never short
because rows were filtered out after it was cut."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Integer, and_, bindparam, or_
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import Select

from inventory.domain.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


FIRST_PAGE = PageRequest()
# a worklist on a page: as many as one page may hold, and the page says when there are more
LARGEST_PAGE = PageRequest(MAX_LIMIT)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index]


# a mapped attribute (Carton.bud), or a table's column for a query of values
KeyColumn = InstrumentedAttribute | ColumnElement


@dataclass(frozen=True)
class Key:
    """One part of a list's order: a column, descending or not."""

    column: KeyColumn
    descending: bool = False


def asc(column: KeyColumn) -> Key:
    return Key(column)


def desc(column: KeyColumn) -> Key:
    return Key(column, descending=True)


def page_request(limit: str | int | None, cursor: str | None) -> PageRequest:
    """Read `limit` (1..1000, default 100) and `cursor` as given in a query string."""
    if limit in (None, ""):
        number = DEFAULT_LIMIT
    else:
        try:
            number = int(limit)
        except (TypeError, ValueError):
            number = 0
        if not 1 <= number <= MAX_LIMIT:
            raise InvalidInput(
                "limit is a number from 1 to 1000",
                fields={"limit": [f"a whole number from 1 to {MAX_LIMIT}"]},
            )
    return PageRequest(number, cursor or None)


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_tagged(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, order: Sequence[Key]) -> list[Any]:
    """The key values in a cursor, each of its column's type; a 422 naming `cursor` if it is
    not one this list gave."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = [_untagged(v) for v in json.loads(raw)]
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        values = None
    if (
        values is None
        or len(values) != len(order)
        or not all(_fits(k, v) for k, v in zip(order, values, strict=True))
    ):
        raise InvalidInput(
            "the cursor is not one this list gave", fields={"cursor": ["not a cursor of this list"]}
        )
    return values


def _fits(key: Key, value: Any) -> bool:
    expected = key.column.type.python_type
    if expected is float:
        expected = (int, float)
    # a bool is an int to Python, never a key
    return value is not None and not isinstance(value, bool) and isinstance(value, expected)


def _tagged(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _untagged(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        return date.fromisoformat(value["d"])
    if value is not None and not isinstance(value, (int, float, str)):
        raise TypeError("not a key value")
    return value


def after(order: Sequence[Key], values: Sequence[Any]):
    """Rows strictly after `values` in `order`: (a > x) or (a = x and b > y) or ..."""
    clauses = []
    for i, key in enumerate(order):
        column, value = key.column, values[i]
        beyond = column < value if key.descending else column > value
        clauses.append(
            and_(*(k.column == v for k, v in zip(order[:i], values, strict=False)), beyond)
        )
    return or_(*clauses)


def page_statement(query: Select, order: Sequence[Key], *, after_cursor: bool) -> Select:
    """`query` (visibility and filters already in it) as the statement of one page in
    `order`, which can be made once and run with `page_params`: one row more than the page's
    limit (to know whether more follow), with `after_cursor` those after a cursor's key."""
    if after_cursor:
        query = query.where(after(order, [bindparam(f"page_key_{i}") for i in range(len(order))]))
    return query.order_by(
        *(k.column.desc() if k.descending else k.column.asc() for k in order)
    ).limit(bindparam("page_limit", type_=Integer))


def page_params(order: Sequence[Key], request: PageRequest) -> dict[str, Any]:
    """The values a `page_statement` runs with for `request` (a 422 naming `cursor` if it
    is not one this list gave)."""
    params: dict[str, Any] = {"page_limit": request.limit + 1}
    if request.cursor is not None:
        for i, value in enumerate(decode_cursor(request.cursor, order)):
            params[f"page_key_{i}"] = value
    return params


def page_of_rows(
    rows: list, order: Sequence[Key], request: PageRequest, key: Callable | None = None
) -> Page:
    """The page in the rows a `page_statement` found, and the cursor of the next one when
    more follow. `key(row)` gives a row's sort values; by default the ordered columns'
    attributes of the row."""
    if len(rows) <= request.limit:
        return Page(rows, None)
    rows = rows[: request.limit]
    last = rows[-1]
    last_key = key(last) if key else [getattr(last, str(k.column.key)) for k in order]
    return Page(rows, encode_cursor(last_key))


def paged(
    session: Session,
    query: Select,
    order: Sequence[Key],
    request: PageRequest,
    key: Callable[[Any], Sequence[Any]] | None = None,
    *,
    params: dict[str, Any] | None = None,
) -> Page:
    """Run `query` (visibility and filters already in it, with their `params`) for one page
    of its first column (an entity) in `order`, whose last key must be unique (the id)."""
    statement = page_statement(query, order, after_cursor=request.cursor is not None)
    rows = list(session.scalars(statement, {**(params or {}), **page_params(order, request)}))
    return page_of_rows(rows, order, request, key)
