"""Each operation's contract, declared once beside its view: the query it reads, the schema
its answer is serialised through, its success status and the errors it can answer. The OpenAPI
description (inventory/api/meta.py) is built from these same declarations, so the answers and
the description cannot drift apart; a route under /api/v1 or /public without one is missing
from the description, and tests/api/test_openapi.py names it.

    @api.get("/cartons")
    @operation(responses.Carton, many=True, query=CartonQuery)
    def list_cartons(args): ...          # returns rows as plain data; the schema dumps them

Team conventions the description states for every operation of a kind:
- a list operation (``many=True``) takes ``limit`` (1..1000, default 100) and an opaque ``cursor``;
  its body stays a JSON array, and when more rows exist the answer carries ``X-Next-Cursor`` and
  ``Link: <...>; rel="next"``;
- POST and PUT accept an ``Idempotency-Key`` header (a retry returns the first answer);
- every error is ``{"error": {"code", "message", "fields"}}``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, jsonify, request
from marshmallow import EXCLUDE, Schema, fields, validate
from werkzeug.wrappers import Response

from inventory.api.dumping import dumper
from inventory.db.base import JSONText

PAGE_LIMIT_MAX = 1000
PAGE_LIMIT_DEFAULT = 100


class Query(Schema):
    """Base of query-string schemas: parameters a view does not read are ignored."""

    class Meta:
        unknown = EXCLUDE


class Paged(Query):
    """The paging parameters every list operation takes."""

    limit = fields.Integer(
        load_default=PAGE_LIMIT_DEFAULT,
        validate=validate.Range(min=1, max=PAGE_LIMIT_MAX),
        metadata={"description": "rows per page"},
    )
    cursor = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "opaque: the X-Next-Cursor of the previous page"},
    )


@dataclass(frozen=True)
class Contract:
    """What the description says of one operation (see the module docstring)."""

    schemas: tuple[type[Schema], ...]  # the answer's schema; several when it is one of them
    many: bool = False
    status: int = 200
    query: type[Schema] | None = None
    html: bool = False
    media: str = "text/html"  # what a view that is not JSON answers with
    public: bool = False
    errors: tuple[int, ...] = ()  # statuses beyond the defaults (401, 403, 404, 422, 409 on writes)
    conflicts: tuple[str, ...] = ()  # the 409 codes worth naming
    also: dict[int, str] = field(default_factory=dict)  # other statuses answered with the schema
    headers: dict[str, str] = field(default_factory=dict)  # response headers set on success
    summary: str = ""


@dataclass
class Reply:
    """An answer that picks its schema (when several are declared), its status or headers."""

    payload: Any
    schema: type[Schema] | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


def operation(
    schema: type[Schema] | tuple[type[Schema], ...] | None = None,
    *,
    many: bool = False,
    status: int = 200,
    query: type[Schema] | None = None,
    html: bool = False,
    media: str = "text/html",
    public: bool = False,
    errors: tuple[int, ...] = (),
    conflicts: tuple[str, ...] = (),
    also: dict[int, str] | None = None,
    headers: dict[str, str] | None = None,
):
    """Declare a view's contract, load its query into ``args`` and serialise what it returns
    through the declared schema (an HTML view returns its own Response)."""
    schemas = schema if isinstance(schema, tuple) else ((schema,) if schema else ())
    if many and query is None:
        query = Paged

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if query is not None:
                kwargs["args"] = dict(_loaded(query, tuple(request.args.items())))
            result = view(*args, **kwargs)
            if isinstance(result, Response):
                return result  # a page, or the description itself
            return _serialise(wrapper.contract, result)

        wrapper.contract = Contract(
            schemas=schemas,
            many=many,
            status=status,
            query=query,
            html=html,
            media=media,
            public=public,
            errors=errors,
            conflicts=conflicts,
            also=also or {},
            headers=headers or {},
            summary=(view.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
        )
        return wrapper

    return decorate


def _serialise(contract: Contract, result):
    if isinstance(result, tuple):
        raise TypeError("answer with a Reply to set a status or headers, not a tuple")
    reply = result if isinstance(result, Reply) else Reply(result)
    schema = reply.schema or contract.schemas[0]
    if schema not in contract.schemas:
        raise TypeError(f"{schema.__name__} is not among the declared answers")
    status = reply.status or contract.status
    if status != contract.status and status not in contract.also:
        raise TypeError(f"status {status} is not declared")
    body = _dump(schema, contract.many, reply.payload)
    if current_app.testing:  # the compiled dumper answers exactly what marshmallow would
        expected = schema(many=contract.many).dump(_decoded(reply.payload))
        if _decoded(body) != expected or _types(_decoded(body)) != _types(expected):
            raise AssertionError(f"{schema.__name__}: the fast dump differs from marshmallow's")
    response = _json_response(body)
    response.status_code = status
    response.headers.update(reply.headers)
    return response


def _dump(schema: type[Schema], many: bool, payload):
    dump = dumper(schema)
    if many:
        return [dump(item) for item in payload]
    return dump(payload)


def _json_response(body) -> Response:
    """The answer as JSON; a value the database wrote as JSON text goes in as it is."""
    written = {k: v for k, v in body.items() if type(v) is JSONText} if type(body) is dict else {}
    if not written:
        return jsonify(body)
    marks = {k: f"\0{k}\0" for k in written}
    text = current_app.json.dumps(
        {k: marks.get(k, v) for k, v in body.items()}, separators=(",", ":")
    )
    for key, mark in marks.items():
        text = text.replace(json.dumps(mark), written[key], 1)
    return current_app.response_class(f"{text}\n", mimetype=current_app.json.mimetype)


def _decoded(value):
    """An answer with the JSON text the database wrote read back (to compare answers)."""
    if type(value) is dict:
        return {k: json.loads(v) if type(v) is JSONText else v for k, v in value.items()}
    return value


def _types(value):
    """The shape of a JSON value with its types: 1 and 1.0 are equal, but not the same answer."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


@functools.lru_cache(maxsize=4096)
def _loaded(query: type[Schema], args: tuple[tuple[str, str], ...]) -> dict:
    """A query string's values, loaded once: the same string always loads the same (every
    value is a string, number, flag or time), and a list's pages, reloads and polls ask
    the same few again and again (marshmallow's load cost a carton list about 4% of its
    instructions). A string that fails raises each time: nothing is kept of it."""
    return _instance(query).load(dict(args))


@functools.cache
def _instance(schema: type[Schema]) -> Schema:
    """One instance per query schema: making one copies every declared field."""
    return schema()
