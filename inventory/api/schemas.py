"""Request bodies: explicit marshmallow schemas whose validators raise with per-field messages."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from inventory.db.models import SITE_KINDS, STORAGE_UNIT_KINDS
from inventory.domain.custody import WASTE_REASONS
from inventory.domain.stability import State

STATES = [s.value for s in State]
CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", error="letters, digits, '.', '_' or '-' (at most 64)"
)
REASON = fields.String(required=True, validate=validate.Length(min=1, max=2000))
ID_RANGE = validate.Range(min=1, max=2**31 - 1, error="not a known id")
# printed dates a label can carry; anything beyond is a typo, not a vaccine
DATE_RANGE = validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31))


class ProductSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    programme = fields.String(required=True, validate=validate.Length(min=1, max=64))
    doses_per_vial = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=100)
    )
    gtins = fields.List(
        fields.String(validate=validate.Regexp(r"^\d{14}$", error="14 digits")), load_default=list
    )
    storage_profile = fields.Dict(required=True)
    thaw_lead_hours = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=240))


class ProductPatchSchema(ProductSchema):
    class Meta:
        exclude = ("code",)

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class SiteSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(SITE_KINDS))
    region = fields.String(required=True, validate=validate.Length(min=1, max=64))
    supplied_by = fields.String(load_default=None, allow_none=True)


class StorageUnitSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    site = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(STORAGE_UNIT_KINDS))
    min_c = fields.Float(required=True, validate=validate.Range(min=-100, max=60))
    max_c = fields.Float(required=True, validate=validate.Range(min=-100, max=60))
    capacity_vials = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0)
    )


class ReceiptSchema(Schema):
    storage_unit = fields.String(required=True)
    vials = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    # opened vials are never received: they stay where they were opened
    state = fields.String(
        required=True, validate=validate.OneOf([s for s in STATES if s != "punctured"])
    )
    product = fields.String(load_default=None)
    gtin = fields.String(
        load_default=None, validate=validate.Regexp(r"^\d{14}$", error="14 digits")
    )
    lot = fields.String(load_default=None, validate=validate.Length(min=1, max=20))
    expiry = fields.Date(load_default=None, validate=DATE_RANGE)
    scan = fields.String(load_default=None, validate=validate.Length(min=1, max=500))
    serial = fields.String(load_default=None, validate=validate.Length(max=20))
    manufactured_on = fields.Date(load_default=None, validate=DATE_RANGE)
    thawed_at = fields.AwareDateTime(load_default=None)
    shipment = fields.Integer(load_default=None, strict=True, validate=ID_RANGE)

    @validates_schema
    def product_named(self, data, **kwargs):
        if not (data.get("product") or data.get("gtin") or data.get("scan")):
            raise ValidationError("give product, gtin or scan", field_name="product")
        # without a scan the lot must be named; its expiry may be left out only for a lot
        # already known (the service keeps the stored one and asks for it otherwise)
        if not data.get("scan") and not data.get("lot"):
            errors = {"lot": ["required without a scan"]}
            if not data.get("expiry"):
                errors["expiry"] = ["required unless the lot is already known"]
            raise ValidationError(errors)


class ThawSchema(Schema):
    storage_unit = fields.String(load_default=None)
    at = fields.AwareDateTime(load_default=None)


class RepackPartSchema(Schema):
    vials = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    storage_unit = fields.String(required=True)


class RepackSchema(Schema):
    cartons = fields.List(
        fields.Nested(RepackPartSchema), required=True, validate=validate.Length(min=1, max=1000)
    )


class DosesSchema(Schema):
    doses = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))


class WasteSchema(DosesSchema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(WASTE_REASONS),
    )
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class ReasonSchema(Schema):
    reason = REASON


class StockRequestSchema(Schema):
    site = fields.String(required=True)
    product = fields.String(required=True)
    doses = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=1_000_000)
    )
    needed_on = fields.Date(required=True, validate=DATE_RANGE)
    note = fields.String(load_default=None, validate=validate.Length(max=2000))

    @pre_load
    def date_alias(self, data, **kwargs):
        # "for a date": accept `date` as another name for needed_on
        if isinstance(data, dict) and "date" in data and "needed_on" not in data:
            data = {**data, "needed_on": data["date"]}
            del data["date"]
        return data


class ApproveSchema(Schema):
    doses = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))


class ShipmentSchema(Schema):
    from_site = fields.String(required=True)
    to_site = fields.String(required=True)
    cartons = fields.List(
        fields.Integer(strict=True, validate=ID_RANGE),
        load_default=list,
        validate=validate.Length(max=5000),
    )
    request = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID_RANGE)
    expected = fields.List(fields.Dict(), load_default=None, allow_none=True)
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
    cool_box = fields.String(load_default=None, allow_none=True)


class DeliveryItemSchema(Schema):
    carton = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    accepted = fields.Boolean(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ShipmentReceiveSchema(Schema):
    storage_unit = fields.String(required=True)
    items = fields.List(
        fields.Nested(DeliveryItemSchema), required=True, validate=validate.Length(min=1)
    )
