"""Request bodies and query strings: explicit marshmallow schemas whose validators raise with
per-field messages. Rules that span fields are also stated for the OpenAPI description
(``OPENAPI``: oneOf / anyOf of required fields)."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from inventory.api.contract import Paged, Query
from inventory.db.models import (
    CARTON_STATUSES,
    REQUEST_STATUSES,
    SHIPMENT_STATUSES,
    SITE_KINDS,
    STORAGE_UNIT_KINDS,
)
from inventory.db.planning import PLAN_STATUSES, REGION_PLAN_STATUSES, THAW_TASK_STATUSES
from inventory.domain import geo
from inventory.domain.custody import WASTE_REASONS
from inventory.domain.sites import opening_hours_errors
from inventory.domain.stability import State
from inventory.domain.uptake import POPULATION_GROUPS, TARGET_GROUPS
from inventory.seed_data import REGIONS
from inventory.services.input import DATE_RANGE, DAYS_SHOWN, Within, day  # noqa: F401

STATES = [s.value for s in State]
CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", error="letters, digits, '.', '_' or '-' (at most 64)"
)
REASON = fields.String(required=True, validate=validate.Length(min=1, max=2000))
ID_RANGE = validate.Range(min=1, max=2**31 - 1, error="not a known id")


TIMES_SHOWN = "2000-01-01T00:00:00Z to 2099-12-31T23:59:59Z"
TIME_RANGE = Within(
    datetime(2000, 1, 1, tzinfo=UTC), datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC), TIMES_SHOWN
)


def moment(**kwargs) -> fields.AwareDateTime:
    """A time with its UTC offset, within TIME_RANGE."""
    return fields.AwareDateTime(
        validate=TIME_RANGE,
        metadata={"description": f"with a UTC offset, from {TIMES_SHOWN}"},
        **kwargs,
    )


def one_of(values, **kwargs) -> fields.String:
    return fields.String(validate=validate.OneOf(values), **kwargs)


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


def _known_municipality(code: str) -> None:
    if code not in geo.municipalities():
        raise ValidationError("not a municipality code (four digits, e.g. 0101)")


def _valid_opening_hours(hours: dict) -> None:
    errors = opening_hours_errors(hours)
    if errors:
        raise ValidationError(errors)


URL = validate.URL(schemes={"http", "https"}, require_tld=True, error="an http(s) address")


class SiteFindingSchema(Schema):
    """What citizens need to find a site; every field may be left out or cleared (null)."""

    address = fields.String(allow_none=True, validate=validate.Length(min=1, max=200))
    postcode = fields.String(
        allow_none=True, validate=validate.Regexp(r"^\d{4}$", error="four digits")
    )
    town = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    municipality = fields.String(allow_none=True, validate=_known_municipality)
    # Denmark with its islands, Bornholm and Christiansø included
    lat = fields.Float(
        allow_none=True, validate=validate.Range(min=54.5, max=57.8, error="not in Denmark")
    )
    lon = fields.Float(
        allow_none=True, validate=validate.Range(min=8.0, max=15.2, error="not in Denmark")
    )
    opening_hours = fields.Dict(allow_none=True, validate=_valid_opening_hours)
    slots_per_hour = fields.Integer(
        allow_none=True, strict=True, validate=validate.Range(min=0, max=10_000)
    )
    drop_in = fields.Boolean()
    booking_url = fields.String(allow_none=True, validate=[URL, validate.Length(max=500)])
    accessibility = fields.String(allow_none=True, validate=validate.Length(max=2000))
    default_target_group = fields.String(
        allow_none=True, validate=validate.OneOf(TARGET_GROUPS, error="one of {choices}")
    )

    @validates_schema
    def _coordinates_come_in_pairs(self, data, **kwargs):
        if ("lat" in data) != ("lon" in data) or (data.get("lat") is None) != (
            data.get("lon") is None
        ):
            missing = "lon" if data.get("lat") is not None or "lat" in data else "lat"
            raise ValidationError("give latitude and longitude together", missing)


class SiteSchema(SiteFindingSchema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(SITE_KINDS))
    region = fields.String(required=True, validate=validate.OneOf(REGIONS))
    supplied_by = fields.String(load_default=None, allow_none=True)


class SitePatchSchema(SiteFindingSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))


class BookingUrlSchema(Schema):
    url = fields.String(required=True, allow_none=True, validate=[URL, validate.Length(max=500)])


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
    """A receipt names the product (``product``, ``gtin`` or ``scan``); without a scan it names
    the lot, and the expiry unless the lot is already known."""

    OPENAPI = {
        "allOf": [
            {"anyOf": [{"required": ["product"]}, {"required": ["gtin"]}, {"required": ["scan"]}]},
            {"anyOf": [{"required": ["scan"]}, {"required": ["lot"]}]},
        ]
    }

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
    expiry = day(load_default=None)
    scan = fields.String(load_default=None, validate=validate.Length(min=1, max=500))
    serial = fields.String(load_default=None, validate=validate.Length(max=20))
    manufactured_on = day(load_default=None)
    thawed_at = moment(load_default=None)
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
    at = moment(load_default=None)


class RepackPartSchema(Schema):
    vials = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    storage_unit = fields.String(required=True)


class RepackSchema(Schema):
    cartons = fields.List(
        fields.Nested(RepackPartSchema), required=True, validate=validate.Length(min=1, max=1000)
    )


class DosesSchema(Schema):
    doses = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))


class AdministerSchema(DosesSchema):
    # the person's target group (as the appointments'); the site's default when left out
    group = fields.String(load_default=None, allow_none=True)


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
    needed_on = day(required=True)
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


# ---------------------------------------------------------------- query strings


class CartonQuery(Paged):
    site = fields.String()
    storage_unit = fields.String()
    product = fields.String()
    status = one_of(CARTON_STATUSES)
    state = one_of(STATES)


class LotQuery(Paged):
    product = fields.String()
    number = fields.String()


class StockRequestQuery(Paged):
    site = fields.String()
    status = one_of(REQUEST_STATUSES)


class ShipmentQuery(Paged):
    site = fields.String()
    status = one_of(SHIPMENT_STATUSES)


class StockQuery(Query):
    """A site's stock, or (region) every site of a region the caller sees."""

    site = fields.String(
        validate=validate.Length(min=1), metadata={"description": "a site; or give region"}
    )
    region = fields.String(
        validate=validate.Length(min=1),
        metadata={"description": "every site of the region you see; or give site"},
    )

    @validates_schema
    def one_of_them(self, data, **kwargs):
        if bool(data.get("site")) == bool(data.get("region")):
            raise ValidationError("a site or a region, one of them", "site")


class SiteQuery(Paged):
    region = fields.String()
    kind = one_of(SITE_KINDS)


class StorageUnitQuery(Paged):
    site = fields.String()


class PeriodQuery(Query):
    """A period of readings; without ``to`` it ends now, without ``from`` it is the last day."""

    from_ = moment(data_key="from")
    to = moment()


class ExcursionQuery(Paged):
    site = fields.String()
    storage_unit = fields.String()
    open = fields.Boolean(metadata={"description": "only open (or closed)"})


class AlertQuery(Paged):
    site = fields.String()
    state = one_of(("open", "acknowledged", "resolved"))


class DaysQuery(Query):
    """Where (a site, or a region, or everything visible) and which days."""

    site = fields.String()
    region = fields.String()
    from_ = day(data_key="from")
    to = day()


class CapacityQuery(DaysQuery):
    product = fields.String()
    view = one_of(
        ("per_day", "promised"),
        metadata={
            "description": "per_day (default): each day as if booked that day; promised: each "
            "dose promised once across the days shown, within each day's unbooked slots"
        },
    )


class PlanQuery(Paged):
    pharmacy = fields.String()
    status = one_of(PLAN_STATUSES)


class RegionPlanQuery(Paged):
    region = fields.String()
    status = one_of(REGION_PLAN_STATUSES)


class ThawTaskQuery(Paged):
    site = fields.String()
    status = one_of(THAW_TASK_STATUSES)


class RegionQuery(Query):
    region = fields.String()


class GoalSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    groups = fields.List(fields.String(validate=validate.OneOf(TARGET_GROUPS)), required=True)
    population = fields.List(
        fields.String(validate=validate.OneOf(POPULATION_GROUPS)), required=True
    )
    target = fields.Float(required=True, validate=validate.Range(min=0, max=1, min_inclusive=False))


class GoalsSchema(Schema):
    goals = fields.List(fields.Nested(GoalSchema), required=True)


class PopulationRowSchema(Schema):
    municipality_code = fields.String(required=True, validate=_known_municipality)
    group = fields.String(required=True, validate=validate.OneOf(POPULATION_GROUPS))
    population = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=10_000_000)
    )


class PopulationSchema(Schema):
    rows = fields.List(
        fields.Nested(PopulationRowSchema), required=True, validate=validate.Length(min=1)
    )


class UptakeQuery(Query):
    by = fields.String(validate=validate.OneOf(("municipality", "region")))
    region = fields.String(validate=validate.OneOf(REGIONS))


class WasteQuery(Query):
    by = one_of(("region", "site", "product", "reason"))
    region = fields.String(validate=validate.OneOf(REGIONS))
    weeks = fields.Integer(validate=validate.Range(min=1, max=52))


class ExpiringQuery(Query):
    region = fields.String(validate=validate.OneOf(REGIONS))
    days = fields.Integer(validate=validate.Range(min=1, max=92))


class CoverQuery(ExpiringQuery):
    pass


class PublicPageQuery(Query):
    """The public pages' search: lenient, a citizen's typing is never an error."""

    q = fields.String(metadata={"description": "a postcode or a municipality"})
    vaccine = fields.String(metadata={"description": "a product code"})
    kind = fields.String(metadata={"description": "a type of site"})
    lang = fields.String(metadata={"description": "da (default) or en"})
    all = fields.String(metadata={"description": "1: list every site, not the first 24"})
