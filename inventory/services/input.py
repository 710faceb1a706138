"""Fields that input is read with, alike by the API's schemas and the CLI's imports: a
date within the bounds anything is planned for, and the booking system's appointment row."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate

from inventory.services.appointments import STATUSES


class Within(validate.Validator):
    """A date or time between two bounds, both included. Not a ``validate.Range``: JSON Schema
    has no bounds for date strings, so the description states them in words instead of the
    non-standard ``x-minimum``."""

    def __init__(self, first, last, shown: str):
        self.first, self.last, self.shown = first, last, shown

    def __call__(self, value):
        if not self.first <= value <= self.last:
            raise ValidationError(f"from {self.shown}")
        return value


# printed dates a label can carry, and the days anything is planned for; beyond is a typo
DAYS_SHOWN = "2000-01-01 to 2099-12-31"
DATE_RANGE = Within(date(2000, 1, 1), date(2099, 12, 31), DAYS_SHOWN)


def day(**kwargs) -> fields.Date:
    """A calendar date within DATE_RANGE (a 422 naming the field otherwise)."""
    return fields.Date(
        validate=DATE_RANGE, metadata={"description": f"a date from {DAYS_SHOWN}"}, **kwargs
    )


SLOT = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="a time of day as HH:MM")
GROUP = fields.String(load_default="", allow_none=True, validate=validate.Length(max=32))


class AppointmentSchema(Schema):
    """One appointment as the booking system sends it (PUT /appointments, import-appointments)."""

    ref = fields.String(required=True, validate=validate.Length(min=1, max=64))
    site = fields.String(required=True, validate=validate.Length(min=1, max=64))
    day = day(required=True)
    slot = fields.String(required=True, validate=SLOT)
    product = fields.String(required=True, validate=validate.Length(min=1, max=64))
    status = fields.String(load_default="booked", validate=validate.OneOf(STATUSES))
    group = GROUP
