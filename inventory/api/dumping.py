"""Answers dumped through their schemas at the cost of building one dict.

marshmallow's dump calls several functions per field and value; a list of 720 readings took
most of its request's time. The views hand over dicts of JSON values already (made by
inventory.presentation), so per schema a dumper is compiled once: a function written for
that schema that reads each declared field's value and returns it as it is when it has the
declared type, passing anything else (and every field kind not listed here) to the field's
own serialisation. A dict that lacks a declared key, and anything not a dict, takes the
general way: a loop over the fields, then marshmallow itself. The output is what
`schema.dump` gives: under TESTING the two are compared on every answer
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
        for key, attr, (convert, _), omitted in steps:
            value = obj.get(attr, _MISSING)
            if value is _MISSING:
                # a key left out without a default is left out of the answer (one of
                # "readings" and "buckets"); defaults follow marshmallow's own rules
                if omitted:
                    continue
                return schema.dump(obj)
            out[key] = convert(value, attr, obj)
        return out

    return _written(schema_class.__name__, steps, dump)


def _written(name: str, steps: list, general: Dump) -> Dump:
    """`general` written out for a dict that has every declared key: one statement that
    reads them and builds the answer, each value's conversion inline."""
    names: dict[str, Any] = {"general": general, "JSONText": JSONText}
    reads, values = [], []
    for i, (key, attr, (convert, inline), _) in enumerate(steps):
        names |= {f"k{i}": key, f"a{i}": attr, f"c{i}": convert}
        reads.append(f"        v{i} = obj[a{i}]")
        if inline is None:
            expression = f"c{i}(v{i}, a{i}, obj)"
        else:
            kind, value = inline
            names[f"t{i}"] = value
            expression = _INLINE[kind].format(v=f"v{i}", t=f"t{i}", c=f"c{i}", a=f"a{i}")
        values.append(f"        k{i}: {expression},")
    source = "\n".join(
        [
            "def dump(obj):",
            "    if type(obj) is not dict:",
            "        return general(obj)",
            "    try:",
            *(reads or ["        pass"]),
            "    except KeyError:",
            "        return general(obj)",
            "    return {",
            *values,
            "    }",
        ]
    )
    exec(compile(source, f"<dumper of {name}>", "exec"), names)  # noqa: S102  (our own text)
    return names["dump"]


# what a value becomes, written inline: {v} the value, {t} the type or nested dumper, {c} the
# field's own conversion (given the value, its attribute and the object)
_INLINE = {
    # a value of the declared type as it is
    "plain": "{v} if {v} is None or type({v}) is {t} else {c}({v}, {a}, obj)",
    # a list of values of the declared type as it is
    "plain list": (
        "{v} if {v} is None or type({v}) is list and all(type(x) is {t} for x in {v}) "
        "else {c}({v}, {a}, obj)"
    ),
    # marshmallow copies a dict without declared keys or values, and converts nothing in it
    "dict": "{v} if {v} is None or type({v}) is dict else {c}({v}, {a}, obj)",
    # JSON text the database wrote (a long list of readings) is sent as it is
    "nested": "{v} if {v} is None or type({v}) is JSONText else {t}({v})",
    "nested list": (
        "{v} if {v} is None or type({v}) is JSONText "
        "else [None if x is None else {t}(x) for x in {v}]"
    ),
}


def _converter(schema: Schema, field: fields.Field) -> tuple[Callable, tuple | None]:
    """The field's conversion (given the value, its attribute and the object), and how to
    write it inline: a kind of `_INLINE` and its type or nested dumper (None: not inline)."""
    plain = _plain(field)
    if plain is not None:
        own = field._serialize

        def as_declared(v, attr, obj):
            return v if v is None or type(v) is plain else own(v, attr, obj)

        return as_declared, ("plain", plain)
    nested = _nested_dumper(field.inner if isinstance(field, fields.List) else None)
    if nested is not None:

        def nested_list(v, attr, obj):
            if v is None or type(v) is JSONText:
                return v
            return [None if x is None else nested(x) for x in v]

        return nested_list, ("nested list", nested)
    nested = _nested_dumper(field)
    if nested is not None:

        def nested_one(v, attr, obj):
            return v if v is None or type(v) is JSONText else nested(v)

        return nested_one, ("nested", nested)
    accessor = schema.get_attribute

    def serialize(v, attr, obj):
        return field.serialize(attr, obj, accessor=accessor)

    return serialize, _passed_on(field)


def _passed_on(field: fields.Field) -> tuple | None:
    """How a value marshmallow would serialise is written inline when it would come out as
    it went in: a list of values of the declared type, a dict of undeclared contents."""
    inner = _plain(field.inner) if isinstance(field, fields.List) else None
    if inner is not None:
        return "plain list", inner
    if type(field) is fields.Dict and field.key_field is None and field.value_field is None:
        return "dict", dict
    return None


def _plain(field: fields.Field | None) -> type | None:
    """The type a field's values have once dumped, if it passes them on as they are."""
    if field is None or getattr(field, "as_string", False):
        return None
    return _PLAIN.get(type(field))


def _nested_dumper(field: fields.Field | None) -> Dump | None:
    """A dumper for a Nested field of one schema (no only/exclude/many), else None. A schema
    given as a function (one that nests itself) is made when first dumped."""
    if not isinstance(field, fields.Nested) or field.many or field.only or field.exclude:
        return None
    if isinstance(field.nested, type) and issubclass(field.nested, Schema):
        return dumper(field.nested)
    if callable(field.nested) and not isinstance(field.nested, (type, Schema)):
        return _when_first_dumped(field)
    return None


def _when_first_dumped(field: fields.Nested) -> Dump:
    found: list[Dump] = []

    def dump(value: Any) -> Any:
        if not found:
            schema = field.schema  # marshmallow calls the function
            usual = type(schema)()
            same = not schema.many and schema.dump_fields.keys() == usual.dump_fields.keys()
            found.append(dumper(type(schema)) if same else schema.dump)
        return found[0](value)

    return dump
