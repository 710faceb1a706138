"""What the API answers, as marshmallow schemas: every JSON answer is dumped through one of
these (see inventory/api/contract.py) and the OpenAPI description is built from the same
classes, so a field that is not declared here does not leave the server.

Values arrive as the presentation helpers in render.py build them; dates and times may come
as ISO strings already (``Timestamp`` and ``Day`` pass those through)."""

from __future__ import annotations

from marshmallow import Schema, fields

from inventory.db.models import (
    CARTON_STATUSES,
    REQUEST_STATUSES,
    SHIPMENT_STATUSES,
    SITE_KINDS,
    STORAGE_UNIT_KINDS,
)
from inventory.db.planning import PLAN_STATUSES, REGION_PLAN_STATUSES, THAW_TASK_STATUSES
from inventory.db.telemetry import DEVICE_STATUSES
from inventory.domain.stability import State
from inventory.presentation import iso

STATES = [s.value for s in State]


class Answer(Schema):
    """Base of the answer schemas (their components keep their own names)."""


class Timestamp(fields.AwareDateTime):
    """An aware time in UTC, ISO 8601 with a Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value if value is None or isinstance(value, str) else iso(value)


class Day(fields.Date):
    def _serialize(self, value, attr, obj, **kwargs):
        return value if value is None or isinstance(value, str) else iso(value)


def text(**kw):
    return fields.String(required=True, **kw)


def maybe_text(**kw):
    return fields.String(required=True, allow_none=True, **kw)


def integer(**kw):
    return fields.Integer(required=True, **kw)


def maybe_integer(**kw):
    return fields.Integer(required=True, allow_none=True, **kw)


def number(**kw):
    return fields.Float(required=True, **kw)


def maybe_number(**kw):
    return fields.Float(required=True, allow_none=True, **kw)


def when(**kw):
    return Timestamp(required=True, **kw)


def maybe_when(**kw):
    return Timestamp(required=True, allow_none=True, **kw)


def one_of(values, **kw):
    return fields.String(required=True, metadata={"enum": list(values)}, **kw)


def counts():
    """An object of names (site or product codes, kinds) and numbers."""
    return fields.Dict(keys=fields.String(), values=fields.Float(), required=True)


# ---------------------------------------------------------------- errors


class ErrorDetail(Answer):
    code = text(metadata={"description": "machine-readable, e.g. invalid, not_found, held"})
    message = text()
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "per field (dotted for nested ones): what is wrong"},
    )


class Error(Answer):
    error = fields.Nested(ErrorDetail, required=True)


# ---------------------------------------------------------------- catalogue and network


class Product(Answer):
    code = text()
    name = text()
    programme = text()
    doses_per_vial = integer()
    gtins = fields.List(fields.String(), required=True)
    storage_profile = fields.Dict(required=True)
    thaw_lead_hours = number()


def opening_hours(**kw):
    return fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.List(fields.String())),
        required=True,
        allow_none=True,
        metadata={
            "description": 'per weekday (mon..sun), [opens, closes] in local time: {"mon": '
            '[["08:00", "16:00"]]}; a weekday without intervals is closed'
        },
        **kw,
    )


class Site(Answer):
    code = text()
    name = text()
    kind = one_of(SITE_KINDS)
    region = text()
    supplied_by = maybe_text()
    address = maybe_text()
    postcode = maybe_text()
    town = maybe_text()
    municipality = maybe_text(metadata={"description": "the municipality's code, e.g. 0101"})
    municipality_name = maybe_text()
    lat = maybe_number()
    lon = maybe_number()
    opening_hours = opening_hours()
    slots_per_hour = maybe_integer(metadata={"description": "people vaccinated an hour"})
    drop_in = fields.Boolean(required=True)
    booking_url = maybe_text(metadata={"description": "None: the national booking link"})
    accessibility = maybe_text()
    default_target_group = maybe_text(
        metadata={"description": "what an administration counts under when it names no group"}
    )


class BookingUrl(Answer):
    url = maybe_text(metadata={"description": "where citizens book"})


class StorageUnit(Answer):
    code = text()
    site = text()
    kind = one_of(STORAGE_UNIT_KINDS)
    min_c = number()
    max_c = number()
    capacity_vials = maybe_integer()


# ---------------------------------------------------------------- cartons and custody


class Hold(Answer):
    id = integer()
    kind = text()
    reason = maybe_text()
    excursion = maybe_integer()
    placed_at = when()
    placed_by = maybe_text()
    decision = maybe_text(metadata={"description": "released or discarded, once decided"})
    decision_reason = maybe_text()
    decided_at = maybe_when()
    decided_by = maybe_text()


class OpenVial(Answer):
    doses = integer()
    opened_at = maybe_when()
    bud = maybe_when()


class Exposure(Answer):
    out_of_range_s = number()
    min_c = maybe_number()
    max_c = maybe_number()


class Carton(Answer):
    id = integer()
    product = text()
    product_name = text()
    lot = text()
    lot_id = integer()
    expiry = Day(required=True)
    state = one_of(STATES)
    status = one_of(CARTON_STATUSES)
    vials = integer()
    doses = integer()
    doses_per_vial = integer()
    site = text()
    storage_unit = maybe_text()
    in_transit = fields.Boolean(required=True)
    shipment = maybe_integer()
    thawed_at = maybe_when()
    bud = maybe_when(metadata={"description": "beyond-use date"})
    days_left = maybe_number()
    open_vial = fields.Nested(OpenVial, required=True, allow_none=True)
    room_temp_hours = number()
    exposure = fields.Nested(Exposure, required=True)
    hold = fields.Nested(Hold, required=True, allow_none=True)
    holds = fields.List(fields.Nested(Hold), required=True)
    parent = maybe_integer()
    children = fields.List(fields.Integer(), required=True)
    serial = maybe_text()


class CustodyEvent(Answer):
    id = integer()
    at = when()
    actor = text()
    kind = text()
    carton = integer()
    doses = integer()
    change = integer()
    bucket = maybe_text()
    from_site = maybe_text()
    to_site = maybe_text()
    from_storage_unit = maybe_text()
    to_storage_unit = maybe_text()
    reason = maybe_text()
    details = fields.Dict(required=True, allow_none=True)


class Ancestor(Answer):
    id = integer()
    site = text()
    vials = integer()
    status = one_of(CARTON_STATUSES)


class Descendant(Answer):
    id = integer()
    site = text()
    vials = integer()
    doses = integer()
    status = one_of(CARTON_STATUSES)
    children = fields.List(fields.Nested(lambda: Descendant()), required=True)


class Lineage(Answer):
    ancestors = fields.List(fields.Nested(Ancestor), required=True)
    descendants = fields.List(fields.Nested(Descendant), required=True)


class CartonDetail(Carton):
    history = fields.List(fields.Nested(CustodyEvent), required=True)
    lineage = fields.Nested(Lineage, required=True)


class Repacked(Answer):
    parent = fields.Nested(Carton, required=True)
    cartons = fields.List(fields.Nested(Carton), required=True)


# ---------------------------------------------------------------- lots


class Lot(Answer):
    id = integer()
    product = text()
    number = text()
    expiry = Day(required=True)
    manufactured_on = Day(required=True, allow_none=True)
    recalled_at = maybe_when()
    recall_reason = maybe_text()


class Recalled(Lot):
    cartons_held = integer()


class Trace(Answer):
    lot = fields.Nested(Lot, required=True)
    doses_received = integer()
    doses_on_hand = integer()
    doses_in_transit = integer()
    administered_by_site = counts()
    wasted_by_site = counts()
    discarded_by_site = counts()
    cartons = fields.List(fields.Nested(Carton), required=True)


# ---------------------------------------------------------------- requests, shipments, stock


class StockRequest(Answer):
    id = integer()
    site = text()
    product = text()
    doses = integer()
    needed_on = Day(required=True)
    status = one_of(REQUEST_STATUSES)
    approved_doses = maybe_integer()
    reason = maybe_text()
    note = maybe_text()
    created_at = when()
    created_by = text()
    decided_at = maybe_when()
    decided_by = maybe_text()


class DeliveredItem(Answer):
    carton = integer()
    doses = integer()
    accepted = fields.Boolean(required=True, allow_none=True)
    reason = maybe_text()


class ProofOfDelivery(Answer):
    received_at = maybe_when()
    received_by = maybe_text()
    items = fields.List(fields.Nested(DeliveredItem), required=True)


class Shipment(Answer):
    id = integer()
    from_site = text()
    to_site = text()
    request = maybe_integer()
    status = one_of(SHIPMENT_STATUSES)
    created_at = when()
    created_by = text()
    dispatched_at = maybe_when()
    dispatched_by = maybe_text()
    cartons = fields.List(fields.Integer(), required=True)
    doses = integer()
    expected = fields.List(fields.Dict(), required=True, allow_none=True)
    note = maybe_text()
    cool_box = maybe_text()
    proof_of_delivery = fields.Nested(ProofOfDelivery, required=True, allow_none=True)


class StockLine(Answer):
    product = text()
    state = one_of(STATES)
    available = integer()
    held = integer()
    expired = integer()
    on_hand = integer()
    cartons = integer()
    in_transit_incoming = integer()
    in_transit_outgoing = integer()
    earliest_bud = maybe_when()


class Stock(Answer):
    site = text()
    at = when()
    lines = fields.List(fields.Nested(StockLine), required=True)


class SiteStock(Answer):
    site = text()
    lines = fields.List(fields.Nested(StockLine), required=True)


class RegionStock(Answer):
    """Every site of the region the caller sees, each as GET /stock?site= gives it."""

    region = text()
    at = when()
    sites = fields.List(fields.Nested(SiteStock), required=True)


class Cancelled(Answer):
    """A draft shipment cancelled: its cartons are free to be picked again."""

    id = integer()
    status = one_of(["cancelled"])
    cartons_released = fields.List(fields.Integer(), required=True)


# ---------------------------------------------------------------- appointments and settings


class AppointmentsStored(Answer):
    created = integer()
    updated = integer()
    cancelled = integer()
    unchanged = integer()
    rows = integer(metadata={"description": "rows in the batch"})


class BookedLine(Answer):
    site = text()
    day = Day(required=True)
    product = text()
    group = text()
    booked = integer()


class Booked(Answer):
    from_ = Day(required=True, data_key="from", attribute="from")
    to = Day(required=True)
    lines = fields.List(fields.Nested(BookedLine), required=True)


class EffectivePlanning(Answer):
    no_show_rate = number()
    walk_ins = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Float()),
        required=True,
    )
    source = one_of(["history", "configured"])
    history_days = integer()
    history_bookings = integer()


class SitePlanning(Answer):
    site = text()
    no_show_rate = maybe_number()
    walk_ins = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Float()),
        required=True,
        allow_none=True,
    )
    delivery_days = fields.List(fields.Integer(), required=True, allow_none=True)
    effective = fields.Nested(EffectivePlanning, required=True)
    updated_at = maybe_when()
    updated_by = maybe_text()


class Priority(Answer):
    priority = fields.List(fields.String(), required=True)


# ---------------------------------------------------------------- capacity


class CapacityDay(Answer):
    site = text()
    day = Day(required=True)
    product = text()
    usable_doses = integer()
    booked = integer()
    free = integer()
    overbooked = integer()
    standby_slots = integer()


class Invitations(Answer):
    booked = integer()
    overbooked = integer()
    invitations = integer(metadata={"description": "how many more invitations supply can back"})


class SiteInvitations(Invitations):
    site = text()
    by_product = fields.Dict(keys=fields.String(), values=fields.Nested(Invitations), required=True)


class CapacityTotals(Invitations):
    by_product = fields.Dict(keys=fields.String(), values=fields.Nested(Invitations), required=True)


class Capacity(Answer):
    from_ = Day(required=True, data_key="from", attribute="from")
    to = Day(required=True)
    at = when()
    site = maybe_text()
    region = maybe_text()
    product = maybe_text()
    view = one_of(("per_day", "promised"))
    days = fields.List(fields.Nested(CapacityDay), required=True)
    sites = fields.List(fields.Nested(SiteInvitations), required=True)
    totals = fields.Nested(CapacityTotals, required=True)


# ---------------------------------------------------------------- plans


class PlannedUnit(Answer):
    carton = integer()
    product = text()
    lot = maybe_text()
    state = one_of(STATES)
    doses_per_vial = integer()
    day = Day(required=True)
    vials = integer()


class PlannedShipment(PlannedUnit):
    site = text()
    doses = integer()


class Unmet(Answer):
    site = text()
    day = Day(required=True)
    product = text()
    group = text()
    appointments = integer()


class FillTheVial(Answer):
    site = text()
    day = Day(required=True)
    product = text()
    vials_opened = integer()
    doses_left = number()
    standby_slots = integer()


class PlanInputs(Answer):
    cartons = integer()
    sites = fields.List(fields.String(), required=True)
    appointments = integer()
    open_requests = integer()
    priority = fields.List(fields.String(), required=True)
    replanned_draft_shipments = fields.List(fields.Integer(), required=True)


class DraftShipment(Answer):
    shipment = maybe_integer()
    site = text()
    day = Day(required=True)
    status = text()
    cartons = fields.List(fields.Integer(), required=True)


class ThawTask(Answer):
    id = integer()
    plan = integer()
    carton = integer()
    site = text()
    product = text()
    day = Day(required=True)
    vials = integer()
    status = one_of(THAW_TASK_STATUSES)
    note = maybe_text()
    created_at = when()
    done_at = maybe_when()
    done_by = maybe_text()


class Plan(Answer):
    id = integer()
    status = one_of(PLAN_STATUSES)
    method = one_of(["optimal", "fefo"])
    solver_status = maybe_text()
    pharmacy = text()
    start = Day(required=True)
    days = integer()
    created_at = when()
    created_by = text()
    approved_at = maybe_when()
    approved_by = maybe_text()
    superseded_at = maybe_when()
    superseded_by = maybe_integer()
    region_plan = maybe_integer()
    projected_waste = counts()
    doses_used = maybe_number()
    unmet_appointments = integer()
    unmet = fields.List(fields.Nested(Unmet), required=True)
    fill_the_vial = fields.List(fields.Nested(FillTheVial), required=True)
    shipments = fields.List(fields.Nested(PlannedShipment), required=True)
    thaws = fields.List(fields.Nested(PlannedUnit), required=True)
    solve_seconds = maybe_number()
    inputs = fields.Nested(PlanInputs, required=True)
    draft_shipments = fields.List(fields.Nested(DraftShipment), required=True)
    thaw_tasks = fields.List(fields.Nested(ThawTask), required=True)


class UnmetAt(Answer):
    site = text()
    group = text()
    appointments = integer()


class Offers(Answer):
    offers = integer()
    vials_opened = integer()
    doses_left = number()
    standby_slots = integer()


class RegionTotals(Answer):
    projected_waste = counts()
    doses_used = number()
    unmet_appointments = integer()
    unmet_by_group = counts()
    unmet_by_site = counts()
    unmet = fields.List(fields.Nested(UnmetAt), required=True)
    fill_the_vial = fields.Nested(Offers, required=True)
    shipments = integer()
    solve_seconds = number()


class RegionPlan(Answer):
    id = integer()
    region = text()
    status = one_of(REGION_PLAN_STATUSES)
    method = one_of(["optimal", "fefo"])
    start = Day(required=True)
    days = integer()
    created_at = when()
    created_by = text()
    approved_at = maybe_when()
    approved_by = maybe_text()
    superseded_at = maybe_when()
    superseded_by = maybe_integer()
    pharmacies = fields.List(fields.String(), required=True)
    totals = fields.Nested(RegionTotals, required=True)
    plans = fields.List(fields.Nested(Plan), required=True)


# ---------------------------------------------------------------- devices and readings


class Device(Answer):
    id = text()
    storage_unit = maybe_text()
    interval_s = integer()
    status = one_of(DEVICE_STATUSES)
    status_reason = maybe_text()
    created_at = when()
    last_reading_at = maybe_when()
    last_heard_at = maybe_when()
    battery = maybe_number()
    connection = maybe_text()


class RegisteredDevice(Device):
    secret = text(metadata={"description": "the broker password, shown only this once"})


class Excursion(Answer):
    id = integer()
    site = text()
    storage_unit = text()
    device = maybe_text()
    direction = one_of(["hot", "cold"])
    started_at = when()
    ended_at = maybe_when()
    open = fields.Boolean(required=True)
    min_c = maybe_number()
    max_c = maybe_number()
    out_of_range_s = number()
    rule = fields.Dict(required=True, allow_none=True)
    fired_at = maybe_when()
    closed_reason = maybe_text()


class Alert(Answer):
    id = integer()
    kind = text()
    severity = text()
    site = text()
    storage_unit = maybe_text()
    device = maybe_text()
    excursion = maybe_integer()
    at = when()
    created_at = when()
    message = text()
    details = fields.Dict(required=True, allow_none=True)
    state = one_of(["open", "acknowledged", "resolved"])
    escalation_level = integer()
    acknowledged_by = maybe_text()
    acknowledged_at = maybe_when()
    ack_comment = maybe_text()


class Reading(Answer):
    ts = when()
    c = number()


class Bucket(Answer):
    start = when()
    min_c = number()
    max_c = number()
    count = integer()


class Readings(Answer):
    storage_unit = text()
    from_ = when(data_key="from", attribute="from")
    to = when()
    resolution = text(metadata={"description": "raw, or the bucket width such as 3600s"})
    min_c = number()
    max_c = number()
    readings = fields.List(fields.Nested(Reading), metadata={"description": "when raw"})
    buckets = fields.List(fields.Nested(Bucket), metadata={"description": "min/max per bucket"})


class TimeInRange(Answer):
    storage_unit = text()
    from_ = when(data_key="from", attribute="from")
    to = when()
    percent_in_range = maybe_number()
    covered_s = number()
    in_range_s = number()
    above_s = number()
    below_s = number()


# ---------------------------------------------------------------- service


PART_STATUSES = ["ok", "down", "not configured", "not running"]


class Health(Answer):
    """Each part's status beside the overall one (503 when one is down), and its figures:
    the broker's address, the ingest workers' last commit and age, the scheduler's lease."""

    status = one_of(["ok", "degraded"])
    database = one_of(PART_STATUSES)
    broker = one_of(PART_STATUSES)
    ingest = one_of(PART_STATUSES)
    scheduler = one_of(PART_STATUSES)
    details = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True)


# ---------------------------------------------------------------- public


class PublicDay(Answer):
    day = Day(required=True)
    free = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    total = integer()


class PublicSite(Answer):
    site = text()
    name = text()
    region = text()
    kind = one_of(SITE_KINDS)
    address = maybe_text()
    postcode = maybe_text()
    town = maybe_text()
    municipality = maybe_text(metadata={"description": "the municipality's name"})
    municipality_code = maybe_text()
    lat = maybe_number()
    lon = maybe_number()
    opening_hours = opening_hours()
    drop_in = fields.Boolean(required=True)
    booking_url = maybe_text(metadata={"description": "the site's, else the national one"})
    accessibility = maybe_text()
    free_total = integer(metadata={"description": "free appointments over all days shown"})
    first_free_day = Day(required=True, allow_none=True)
    days = fields.List(fields.Nested(PublicDay), required=True)


class Availability(Answer):
    generated_at = when()
    from_ = Day(required=True, data_key="from", attribute="from")
    to = Day(required=True)
    region = fields.String(metadata={"description": "when filtered by region"})
    days = fields.List(Day(), required=True)
    products = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    sites = fields.List(fields.Nested(PublicSite), required=True)


# ---------------------------------------------------------------- uptake


def per_name(values=None, **kw):
    """An object of names (groups, bands) and whole numbers."""
    return fields.Dict(keys=fields.String(), values=values or fields.Integer(), required=True, **kw)


class Goal(Answer):
    name = text()
    groups = fields.List(fields.String(), required=True)
    population = fields.List(fields.String(), required=True)
    target = number(metadata={"description": "a share, e.g. 0.95"})


class Goals(Answer):
    goals = fields.List(fields.Nested(Goal), required=True)


class GoalStanding(Answer):
    goal = text()
    target = number()
    vaccinated = integer()
    population = integer()
    uptake = maybe_number()
    met = fields.Boolean(required=True)
    missing = integer(metadata={"description": "people still to vaccinate to reach the goal"})


class UptakeWeek(Answer):
    week = Day(required=True, metadata={"description": "the Monday the week starts"})
    by_group = per_name()


class UptakeArea(Answer):
    area = text(metadata={"description": "a municipality code or a region"})
    name = text()
    region = text()
    by_group = per_name()
    population = per_name()
    goals = fields.List(fields.Nested(GoalStanding), required=True)
    weekly = fields.List(fields.Nested(UptakeWeek), required=True)


class Uptake(Answer):
    by = one_of(("municipality", "region"))
    region = maybe_text()
    goals = fields.List(fields.Nested(Goal), required=True)
    areas = fields.List(fields.Nested(UptakeArea), required=True)


class PopulationStored(Answer):
    rows = integer()


class PublicGoal(Answer):
    goal = text()
    target = number()
    vaccinated = maybe_integer(metadata={"description": "null when below 5"})
    uptake = maybe_number()


class PublicRegionUptake(Answer):
    region = text()
    by_group = per_name(fields.Integer(allow_none=True), metadata={"description": "null: below 5"})
    goals = fields.List(fields.Nested(PublicGoal), required=True)


class PublicUptake(Answer):
    suppressed_below = integer()
    groups = fields.List(fields.String(), required=True)
    regions = fields.List(fields.Nested(PublicRegionUptake), required=True)


# ---------------------------------------------------------------- coordinators' figures


class WasteWeek(Answer):
    week = Day(required=True)
    administered = integer()
    wasted = integer()
    rate = maybe_number()


class WasteRow(Answer):
    key = text(metadata={"description": "the region, site, product or reason"})
    administered = integer(metadata={"description": "doses given (for a reason: all used or lost)"})
    wasted = integer()
    rate = maybe_number()
    indicative = maybe_number(metadata={"description": "WHO's rate for the vial sizes used"})
    weeks = fields.List(fields.Nested(WasteWeek), required=True)
    list = fields.Dict(required=True, metadata={"description": "the ledger query behind it"})


class Waste(Answer):
    by = one_of(("region", "site", "product", "reason"))
    region = maybe_text()
    since = Day(required=True)
    rows = fields.List(fields.Nested(WasteRow), required=True)


class SiteFigureRow(Answer):
    """One site's figure on a coordinator's dashboard, with the carton list behind it."""

    site = text()
    name = text()
    region = text()
    doses = integer()
    list = fields.Dict(required=True, metadata={"description": "the carton list behind it"})


class ExpiringRow(SiteFigureRow):
    product = text()


class Expiring(Answer):
    days = integer()
    region = maybe_text()
    doses = integer()
    rows = fields.List(fields.Nested(ExpiringRow), required=True)


class CoverRow(SiteFigureRow):
    booked_per_day = number()
    days_of_cover = maybe_number()


class Cover(Answer):
    days = integer()
    region = maybe_text()
    rows = fields.List(fields.Nested(CoverRow), required=True)
