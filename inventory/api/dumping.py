"""Answers dumped through their schemas at the cost of a dict comprehension.

marshmallow's dump calls several functions per field and value; a list of 720 readings took
most of its request's time. The views hand over dicts of JSON values already (made by
inventory.presentation), so per schema a dumper is compiled once: each declared field's key,
and a conversion that returns a value of the declared type as it is and passes anything
else (and every field kind not listed here) to the field's own serialisation. The output is
what `schema.dump` gives: under TESTING the two are compared on every answer
(inventory.api.contract)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, missing

from inventory.api.responses import Day, Timestamp
from inventory.db.base import JSONText

Dump = Callable[[Any], Any]
_MISSING = object()
# field class -> the Python type its values have once dumped
_PLAIN: dict[type, type] = {
    fields.String: str,
    fields.Integer: int,
    fields.Float: float,
    fields.Boolean: bool,
    Timestamp: str,  # ISO strings already (or datetimes, converted by the field)
    Day: str,
}


@functools.cache
def dumper(schema_class: type[Schema]) -> Dump:
    schema = schema_class()
    steps = [
        (
            field.data_key or name,
            field.attribute or name,
            _converter(schema, field),
            field.dump_default is missing,
        )
        for name, field in schema.dump_fields.items()
    ]
    if any("." in attr for _, attr, _, _ in steps):
        return schema.dump

    def dump(obj: Any) -> Any:
        if not isinstance(obj, dict):
            return schema.dump(obj)
        out = {}
        for key, attr, convert, omitted in steps:
            value = obj.get(attr, _MISSING)
            if value is _MISSING:
                # a key left out without a default is left out of the answer (one of
                # "readings" and "buckets"); defaults follow marshmallow's own rules
                if omitted:
                    continue
                return schema.dump(obj)
            out[key] = convert(value, attr, obj)
        return out

    return dump


def _converter(schema: Schema, field: fields.Field) -> Callable[[Any, str, Any], Any]:
    plain = _PLAIN.get(type(field))
    if plain is not None and not getattr(field, "as_string", False):
        own = field._serialize
        return lambda v, attr, obj: v if v is None or type(v) is plain else own(v, attr, obj)
    # JSON text the database wrote (a long list of readings) is sent as it is
    nested = _nested_dumper(field.inner if isinstance(field, fields.List) else None)
    if nested is not None:
        return lambda v, attr, obj: (
            v if v is None or type(v) is JSONText else [nested(x) for x in v]
        )
    nested = _nested_dumper(field)
    if nested is not None:
        return lambda v, attr, obj: v if type(v) is JSONText else nested(v)
    accessor = schema.get_attribute
    return lambda v, attr, obj: field.serialize(attr, obj, accessor=accessor)


def _nested_dumper(field: fields.Field | None) -> Dump | None:
    """A dumper for a Nested field of one schema class (no only/exclude/many), else None."""
    if not isinstance(field, fields.Nested) or field.many or field.only or field.exclude:
        return None
    if not (isinstance(field.nested, type) and issubclass(field.nested, Schema)):
        return None
    inner = dumper(field.nested)
    return lambda v: None if v is None else inner(v)
