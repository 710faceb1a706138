"""Doses meet appointments: appointments in, honest capacity out, per-site planning settings,
allocation plans (for a hospital pharmacy, or region plans for all of a region's), their
approval, and thaw tasks."""

from __future__ import annotations

from datetime import date

from flask import g, url_for
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from inventory.api import api, body, body_list, responses
from inventory.api.contract import Reply, operation
from inventory.api.schemas import (
    CapacityQuery,
    DaysQuery,
    PlanQuery,
    RegionPlanQuery,
    ThawTaskQuery,
    day,
)
from inventory.db.models import Product
from inventory.db.planning import Plan, RegionPlan, ThawTask
from inventory.domain.errors import InvalidInput, NotFound
from inventory.presentation import iso, next_page_headers, page_of
from inventory.services import appointments, availability, capacity, planning
from inventory.services.common import site_by_code
from inventory.services.input import AppointmentSchema
from inventory.web_db import get_session, now, settings

MAX_BATCH = 10_000


class PrioritySchema(Schema):
    priority = fields.List(
        fields.String(
            validate=validate.OneOf(appointments.TARGET_GROUPS),
            metadata={"description": "a target group; the empty string is the one not given"},
        ),
        required=True,
        validate=validate.Length(max=len(appointments.TARGET_GROUPS)),
    )


def _walk_ins_per_day(value):
    if not isinstance(value, dict):
        raise ValidationError("an object of product codes and walk-ins per day")
    for product, n in value.items():
        if isinstance(n, bool) or not isinstance(n, (int, float)) or n < 0 or n > 10_000:
            raise ValidationError(f"{product}: a number of walk-ins from 0 to 10000")


class SitePlanningSchema(Schema):
    no_show_rate = fields.Float(validate=validate.Range(min=0, max=0.9))
    walk_ins = fields.Dict(
        keys=fields.String(validate=validate.OneOf(appointments.WEEKDAYS)),
        values=fields.Dict(validate=_walk_ins_per_day),
    )
    delivery_days = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=0, max=6)),
        allow_none=True,
        validate=validate.Length(min=1, max=7),
    )


class PlanSchema(Schema):
    """A plan for one hospital pharmacy, or a region plan for every hospital pharmacy of a
    region: exactly one of ``pharmacy`` and ``region``."""

    OPENAPI = {"oneOf": [{"required": ["pharmacy"]}, {"required": ["region"]}]}

    pharmacy = fields.String(validate=validate.Length(min=1, max=64))
    region = fields.String(validate=validate.Length(min=1, max=64))
    start = day(required=True)
    days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=planning.MAX_DAYS)
    )
    method = fields.String(load_default="optimal", validate=validate.OneOf(planning.METHODS))

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def pharmacy_or_region(self, data, original_data, **kwargs):
        given = {
            name
            for name in ("pharmacy", "region")
            if isinstance(original_data, dict) and name in original_data
        }
        if given == {"pharmacy", "region"}:
            raise ValidationError({"region": ["give a pharmacy or a region, not both"]})
        if not given:
            raise ValidationError(
                {
                    "pharmacy": ["a hospital pharmacy, or a region instead"],
                    "region": ["a region, or a hospital pharmacy instead"],
                }
            )


class ThawDoneSchema(Schema):
    storage_unit = fields.String(load_default=None, allow_none=True)


# ---------------------------------------------------------------- appointments


@api.put("/appointments")
@operation(responses.AppointmentsStored)
@body_list(AppointmentSchema, MAX_BATCH)
def put_appointments(payload):
    """Batch upsert and cancellation of appointments:
    [{ref, site, day, slot, product, status, group}]."""
    appointments.require_writer(g.actor)
    schema = AppointmentSchema()
    rows, unreadable = [], {}
    for index, raw in enumerate(payload):
        try:
            data = schema.load(raw)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"_row": exc.messages}
            unreadable[index] = {
                name: [str(m) for m in (v if isinstance(v, list) else [v])]
                for name, v in messages.items()
            }
            continue
        rows.append(appointments.AppointmentInput(**{**data, "group": data.get("group") or ""}))
    counts = appointments.upsert(
        get_session(), g.actor, now(), rows, errors=unreadable, total=len(payload)
    )
    return {**counts.as_dict(), "rows": len(payload)}


@api.get("/appointments")
@operation(responses.Booked, query=DaysQuery)
def list_appointments(args):
    """Appointment counts per site, day, product, status and group (no references)."""
    session = get_session()
    sites = capacity.sites_in_scope(
        session, g.actor, site=args.get("site"), region=args.get("region")
    )
    first, last = _dates(args, past_allowed=True)
    found = appointments.booked_counts(session, [s.id for s in sites], first, last)
    codes = {s.id: s.code for s in sites}
    products = dict(session.execute(select(Product.id, Product.code)).all())
    lines = [
        {"site": codes[sid], "day": iso(day), "product": products[pid], "group": group, "booked": n}
        for (sid, day, pid, group), n in sorted(
            found.items(), key=lambda kv: (kv[0][1], codes[kv[0][0]])
        )
    ]
    return {"from": first, "to": last, "lines": lines}


# ---------------------------------------------------------------- planning settings


def _site_planning_json(session, site) -> dict:
    settings = appointments.settings_of(session, site)
    own = appointments.configured(settings)
    effective = appointments.expectations(session, [site], appointments.local_today(now()))[site.id]
    return {
        "site": site.code,
        "no_show_rate": own.no_show_rate,
        "walk_ins": own.walk_ins,
        "delivery_days": settings.delivery_days if settings else None,
        "effective": {
            "no_show_rate": effective.no_show_rate,
            "walk_ins": effective.walk_ins,
            "source": effective.source,
            "history_days": effective.history_days,
            "history_bookings": effective.history_bookings,
        },
        "updated_at": iso(settings.updated_at) if settings else None,
        "updated_by": settings.updated_by if settings else None,
    }


@api.get("/sites/<code>/planning")
@operation(responses.SitePlanning)
def get_site_planning(code):
    """A site's planning settings (no-show rate, walk-ins per weekday, delivery days) and
    what is used."""
    session = get_session()
    site = site_by_code(session, code)
    if not g.actor.sees(site):
        raise NotFound(f"no site with code {code!r}")
    return _site_planning_json(session, site)


@api.put("/sites/<code>/planning")
@operation(responses.SitePlanning)
@body(SitePlanningSchema)
def put_site_planning(code, data):
    """Set a site's planning settings (admin, or a pharmacist of the site or of its pharmacy)."""
    session = get_session()
    settings = appointments.update_site_settings(
        session,
        g.actor,
        now(),
        code,
        no_show_rate=data.get("no_show_rate"),
        walk_ins=data.get("walk_ins"),
        delivery_days=data.get("delivery_days"),
        clear_delivery_days="delivery_days" in data and data["delivery_days"] is None,
    )
    return _site_planning_json(session, settings.site)


@api.get("/planning/priority")
@operation(responses.Priority)
def get_priority():
    """The programme-wide order in which target groups are served when supply is short."""
    return {"priority": appointments.priority_order(get_session())}


@api.put("/planning/priority")
@operation(responses.Priority)
@body(PrioritySchema)
def put_priority(data):
    """Set the programme-wide priority order of target groups (admin)."""
    return {
        "priority": appointments.set_priority_order(get_session(), g.actor, now(), data["priority"])
    }


# ---------------------------------------------------------------- capacity


def _dates(args, *, past_allowed: bool = False) -> tuple[date, date]:
    today = appointments.local_today(now())
    first, last = args.get("from_"), args.get("to")
    if past_allowed:
        first = first or today
        last = last or first
        if last < first:
            raise InvalidInput(
                "the range ends before it starts", fields={"to": ["must not be before from"]}
            )
        return first, last
    return capacity.check_range(today, first, last)


@api.get("/capacity")
@operation(responses.Capacity, query=CapacityQuery)
def get_capacity(args):
    """Free appointments per site, day and product that the stock can serve, with totals and
    how many more invitations the supply can back. ``view=per_day`` (the default): each day's
    ``free`` as if booked that day. ``view=promised``: each dose promised once across the days
    shown, earlier days first, within each day's unbooked slots (what the public sees)."""
    session = get_session()
    first, last = _dates(args)
    view = args.get("view") or "per_day"
    sites = capacity.sites_in_scope(
        session, g.actor, site=args.get("site"), region=args.get("region")
    )
    result = capacity.capacity(session, now(), sites, first, last, product=args.get("product"))
    promised = (
        {
            (s.site.code, d.day, p): n
            for s in availability.promised(session, now(), sites, first, last)
            for d in s.days
            for p, n in d.free.items()
        }
        if view == "promised"
        else None
    )
    per_site: dict[str, dict] = {}
    by_product: dict[str, dict] = {}
    for (site, product), n in sorted(result.invitations.items()):
        booked, over = result.booked[(site, product)], result.overbooked[(site, product)]
        entry = per_site.setdefault(
            site, {"site": site, "booked": 0, "overbooked": 0, "invitations": 0, "by_product": {}}
        )
        entry["booked"] += booked
        entry["overbooked"] += over
        entry["invitations"] += n
        entry["by_product"][product] = {"booked": booked, "overbooked": over, "invitations": n}
        total = by_product.setdefault(product, {"booked": 0, "overbooked": 0, "invitations": 0})
        total["booked"] += booked
        total["overbooked"] += over
        total["invitations"] += n
    return {
        "from": first,
        "to": last,
        "at": now(),
        "site": args.get("site"),
        "region": args.get("region"),
        "product": args.get("product"),
        "view": view,
        "days": [
            {
                "site": line.site,
                "day": iso(line.day),
                "product": line.product,
                "usable_doses": line.usable,
                "booked": line.booked,
                "free": line.free
                if promised is None
                else promised.get((line.site, line.day, line.product), 0),
                "overbooked": line.overbooked,
                "standby_slots": line.standby,
            }
            for line in result.lines
        ],
        "sites": list(per_site.values()),
        "totals": {
            "booked": sum(t["booked"] for t in by_product.values()),
            "overbooked": sum(t["overbooked"] for t in by_product.values()),
            "invitations": sum(t["invitations"] for t in by_product.values()),
            "by_product": by_product,
        },
    }


# ---------------------------------------------------------------- plans


def plan_json(plan: Plan) -> dict:
    result = plan.result
    unmet = result.get("unmet", [])
    return {
        "id": plan.id,
        "status": plan.status,
        "method": plan.method,
        "solver_status": plan.solver_status,
        "pharmacy": plan.pharmacy.code,
        "start": iso(plan.start),
        "days": plan.days,
        "created_at": iso(plan.created_at),
        "created_by": plan.created_by,
        "approved_at": iso(plan.approved_at),
        "approved_by": plan.approved_by,
        "superseded_at": iso(plan.superseded_at),
        "superseded_by": plan.superseded_by_id,
        "region_plan": plan.region_plan_id,
        "projected_waste": result.get("waste", {}),
        "doses_used": result.get("doses_used"),
        "unmet_appointments": sum(u["appointments"] for u in unmet),
        "unmet": unmet,
        "fill_the_vial": result.get("fill_the_vial", []),
        "shipments": result.get("shipments", []),
        "thaws": result.get("thaws", []),
        "solve_seconds": result.get("solve_seconds"),
        "inputs": result.get("inputs", {}),
        "draft_shipments": [
            {
                "shipment": link.shipment_id,
                "site": link.site.code,
                "day": iso(link.day),
                "status": link.shipment.status if link.shipment is not None else "withdrawn",
                "cartons": [i.carton_id for i in link.shipment.items]
                if link.shipment is not None
                else [],
            }
            for link in plan.shipment_links
        ],
        "thaw_tasks": [thaw_task_json(t) for t in plan.thaw_tasks],
    }


def region_plan_json(region_plan: RegionPlan) -> dict:
    return {
        "id": region_plan.id,
        "region": region_plan.region,
        "status": region_plan.status,
        "method": region_plan.method,
        "start": iso(region_plan.start),
        "days": region_plan.days,
        "created_at": iso(region_plan.created_at),
        "created_by": region_plan.created_by,
        "approved_at": iso(region_plan.approved_at),
        "approved_by": region_plan.approved_by,
        "superseded_at": iso(region_plan.superseded_at),
        "superseded_by": region_plan.superseded_by_id,
        "pharmacies": [p.pharmacy.code for p in region_plan.plans],
        "totals": planning.region_totals(region_plan),
        "plans": [plan_json(p) for p in region_plan.plans],
    }


def thaw_task_json(task: ThawTask) -> dict:
    return {
        "id": task.id,
        "plan": task.plan_id,
        "carton": task.carton_id,
        "site": task.site.code,
        "product": task.carton.product.code,
        "day": iso(task.day),
        "vials": task.vials,
        "status": task.status,
        "note": task.note,
        "created_at": iso(task.created_at),
        "done_at": iso(task.done_at),
        "done_by": task.done_by,
    }


@api.post("/plans")
@operation(
    (responses.Plan, responses.RegionPlan),
    status=201,
    conflicts=("plan_past",),
    headers={"Location": "the region plan's own address, when a region was planned"},
)
@body(PlanSchema)
def create_plan(data):
    """Plan a hospital pharmacy's (or a whole region's) deliveries and thaws for a horizon."""
    time_limit_s = settings().plan_time_limit_s
    if "region" in data:
        region_plan = planning.create_region_plan(
            get_session(), g.actor, now(), time_limit_s=time_limit_s, **data
        )
        return Reply(
            region_plan_json(region_plan),
            schema=responses.RegionPlan,
            headers={"Location": url_for("api.get_region_plan", region_plan_id=region_plan.id)},
        )
    plan = planning.create_plan(get_session(), g.actor, now(), time_limit_s=time_limit_s, **data)
    return Reply(plan_json(plan), schema=responses.Plan)


@api.get("/plans")
@operation(responses.Plan, many=True, query=PlanQuery)
def list_plans(args):
    """Plans, newest first; filter by pharmacy and status."""
    found = planning.list_plans(
        get_session(),
        g.actor,
        pharmacy=args.get("pharmacy"),
        status=args.get("status"),
        page=page_of(args),
    )
    return Reply([plan_json(p) for p in found], headers=next_page_headers(found))


@api.get("/plans/<id:plan_id>")
@operation(responses.Plan)
def get_plan(plan_id):
    """One plan with its projected waste, unmet appointments, fill-the-vial offers and work."""
    return plan_json(planning.get_plan(get_session(), g.actor, plan_id))


@api.post("/plans/<id:plan_id>/approve")
@operation(responses.Plan, conflicts=("plan_stale", "plan_superseded", "plan_past"))
def approve_plan(plan_id):
    """Approve a plan (pharmacist): draft shipments and thaw tasks; earlier drafts withdrawn."""
    return plan_json(planning.approve_plan(get_session(), g.actor, now(), plan_id))


@api.get("/region-plans")
@operation(responses.RegionPlan, many=True, query=RegionPlanQuery)
def list_region_plans(args):
    """Region plans, newest first; filter by region and status."""
    found = planning.list_region_plans(
        get_session(),
        g.actor,
        region=args.get("region"),
        status=args.get("status"),
        page=page_of(args),
    )
    return Reply([region_plan_json(rp) for rp in found], headers=next_page_headers(found))


@api.get("/region-plans/<id:region_plan_id>")
@operation(responses.RegionPlan)
def get_region_plan(region_plan_id):
    """One region plan: its pharmacies' plans and their totals."""
    return region_plan_json(planning.get_region_plan(get_session(), g.actor, region_plan_id))


@api.post("/region-plans/<id:region_plan_id>/approve")
@operation(responses.RegionPlan, conflicts=("plan_stale", "plan_superseded", "plan_past"))
def approve_region_plan(region_plan_id):
    """Approve a region plan as a whole: each of its pharmacies' plans, as one approval does."""
    return region_plan_json(
        planning.approve_region_plan(get_session(), g.actor, now(), region_plan_id)
    )


@api.get("/thaw-tasks")
@operation(responses.ThawTask, many=True, query=ThawTaskQuery)
def list_thaw_tasks(args):
    """Thaw tasks at a site, by day; filter by status."""
    found = planning.list_thaw_tasks(
        get_session(), g.actor, site=args.get("site"), status=args.get("status"), page=page_of(args)
    )
    return Reply([thaw_task_json(t) for t in found], headers=next_page_headers(found))


@api.post("/thaw-tasks/<id:task_id>/done")
@operation(responses.ThawTask, conflicts=("already_thawed", "held"))
@body(ThawDoneSchema)
def thaw_task_done(task_id, data):
    """Do a thaw task: the carton leaves the freezer (into a fridge if named)."""
    return thaw_task_json(
        planning.complete_thaw_task(get_session(), g.actor, now(), task_id, **data)
    )
