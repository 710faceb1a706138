"""Allocation plans as work: build the planner's request from the database, store the plan,
and on approval turn it into draft shipments and thaw tasks.

The request for a hospital pharmacy and a horizon:

- pharmacy stock: its available cartons (not held, not picked for a shipment, or picked only for
  a draft shipment of its current approved plan, which a new approval withdraws), thawed ones
  with their beyond-use day, frozen ones with the product's fridge window and thaw lead time;
- the sites it serves (``supplied_by`` the pharmacy, vaccinating kinds): fridge and cool-box
  capacity in vials, delivery weekdays, expected no-shows and walk-ins, and their own usable
  stock (on hand, in transit to them, or on a draft shipment to them that no plan will redo);
- demand: booked appointments per site, day, product and target group;
- the sites' open and approved stock requests (the baseline honours them);
- the programme-wide priority order of target groups.

Approval, by a pharmacist: every earlier approved plan of the pharmacy is superseded (its
shipments still in draft are withdrawn and their cartons released; dispatched ones stay, and
their open thaw tasks are cancelled). Then each planned delivery of ``V`` vials from carton
``C`` picks ``C`` itself when ``V`` is all of it, or repacks ``V`` vials into a new carton in
the same storage unit first; the pieces for one site and day travel on one draft shipment.
Frozen pieces get a thaw task for the day the plan thaws them.

A region plan is one plan per hospital pharmacy of a region, made together over the same
horizon (each pharmacy with the sites it supplies, as above: a site is supplied by one
pharmacy, so the plans share no stock and no demand). Its totals are the sums of its plans.
Approving it approves each of its plans as above; it needs someone who may approve at every
one of those pharmacies.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.db.models import Carton, Lot, Product, Shipment, Site, StockRequest, StorageUnit
from inventory.db.planning import (
    REGION_PLAN_STATUSES,
    Plan,
    PlanShipment,
    RegionPlan,
    SitePlanning,
    ThawTask,
)
from inventory.domain import allocation
from inventory.domain import custody as rules
from inventory.domain.custody import CartonStatus
from inventory.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from inventory.domain.stability import FROZEN_STATES, State
from inventory.services import custody, shipments
from inventory.services.access import Actor, require, require_visible
from inventory.services.appointments import (
    VACCINATION_SITE_KINDS,
    booked_counts,
    expectations,
    local_today,
    priority_order,
    walk_ins_for,
)
from inventory.services.capacity import standby_slots_of, thaw_lead_days, thawed_window_days
from inventory.services.common import audit, carton_for_update, site_by_code
from inventory.services.paging import FIRST_PAGE, Page, PageRequest, asc, desc, paged
from inventory.services.shipments import withdraw_draft_shipment
from inventory.services.site_stock import CountedCarton, Whereabouts, stock_sites_count_on

METHODS = ("optimal", "fefo")
MAX_DAYS = 28
UNLIMITED_VIALS = 1_000_000
COLD_UNIT_KINDS = ("fridge", "cool_box")


# ---------------------------------------------------------------- the planner's request


@dataclass(frozen=True)
class PlanInput:
    request: allocation.PlanRequest
    cartons: dict[str, int]  # stock unit id -> carton id
    appointments: int
    replaceable_shipments: tuple[int, ...]


def _unit_id(carton_id: int) -> str:
    return f"c{carton_id}"


def current_plan(session: Session, pharmacy: Site) -> Plan | None:
    return session.scalar(
        select(Plan)
        .where(Plan.pharmacy_id == pharmacy.id, Plan.status == "approved")
        .order_by(Plan.id.desc())
        .limit(1)
    )


def _draft_shipments_of_approved_plans(session: Session, pharmacy: Site) -> set[int]:
    return set(
        session.scalars(
            select(PlanShipment.shipment_id)
            .join(Plan, Plan.id == PlanShipment.plan_id)
            .join(Shipment, Shipment.id == PlanShipment.shipment_id)
            .where(
                Plan.pharmacy_id == pharmacy.id,
                Plan.status == "approved",
                PlanShipment.withdrawn_at.is_(None),
                Shipment.status == "draft",
            )
        )
    )


def served_sites(session: Session, pharmacy: Site) -> list[Site]:
    return list(
        session.scalars(
            select(Site)
            .where(Site.supplied_by_id == pharmacy.id, Site.kind.in_(VACCINATION_SITE_KINDS))
            .order_by(Site.code)
        )
    )


def build_request(
    session: Session,
    now: datetime,
    pharmacy: Site,
    start: date,
    days: int,
    *,
    time_limit_s: float = 10.0,
) -> PlanInput:
    last = start + timedelta(days=days - 1)
    products = {p.id: p for p in session.scalars(select(Product))}
    replaceable = _draft_shipments_of_approved_plans(session, pharmacy)
    pharmacy_stock, cartons = _pharmacy_stock(session, pharmacy, products, replaceable)
    sites = served_sites(session, pharmacy)
    site_ids = [s.id for s in sites]
    bookings = booked_counts(session, site_ids, start, last)
    codes = {s.id: s.code for s in sites}
    request = allocation.PlanRequest(
        start=start,
        days=days,
        pharmacy_stock=tuple(pharmacy_stock),
        sites=tuple(
            _plan_sites(
                session, now, sites, bookings, _site_stock(session, sites, products, replaceable)
            )
        ),
        demand=_demand(bookings, codes, products),
        priority=tuple(priority_order(session)),
        open_requests=_open_requests(session, codes, products, start, last),
        time_limit_s=time_limit_s,
    )
    return PlanInput(request, cartons, sum(bookings.values()), tuple(sorted(replaceable)))


def _stock_unit(
    c: Carton | CountedCarton, product: Product, expiry: date, *, at_site: bool
) -> allocation.StockUnit | None:
    """The planner's view of a carton; None for stock that is not planned (a site's freezer,
    a punctured carton at the pharmacy, no unopened vial)."""
    if c.state in FROZEN_STATES:
        if at_site:
            return None  # a site gives thawed stock; its freezer is not planned
        return allocation.StockUnit(
            id=_unit_id(c.id),
            product=product.code,
            lot=str(c.lot_id),
            state=c.state,
            vials=c.vials,
            doses_per_vial=product.doses_per_vial,
            expiry=min(expiry, rules.last_usable_day(c.bud)),
            thawed_window_days=thawed_window_days(product),
            thaw_lead_days=thaw_lead_days(product),
        )
    vials = rules.unopened_vials(c)
    if (c.state == State.PUNCTURED and not at_site) or vials <= 0:
        return None
    return allocation.StockUnit(
        id=_unit_id(c.id),
        product=product.code,
        lot=str(c.lot_id),
        state=State.THAWED.value,
        vials=vials,
        doses_per_vial=product.doses_per_vial,
        expiry=expiry,
        bud=rules.last_usable_day(c.bud),
    )


def _pharmacy_stock(
    session: Session, pharmacy: Site, products: dict[int, Product], replaceable: set[int]
) -> tuple[list[allocation.StockUnit], dict[str, int]]:
    """The pharmacy's free cartons (or picked for a draft the new plan redoes), and the
    carton of each stock unit."""
    stock, cartons = [], {}
    rows = session.execute(
        select(Carton, Lot.expiry)
        .join(Lot, Lot.id == Carton.lot_id)
        .where(
            Carton.site_id == pharmacy.id,
            Carton.status == CartonStatus.AVAILABLE,
            Carton.in_transit.is_(False),
        )
        .order_by(Carton.id)
    ).all()
    for c, expiry in rows:
        if c.shipment_id is not None and c.shipment_id not in replaceable:
            continue
        unit = _stock_unit(c, products[c.product_id], expiry, at_site=False)
        if unit is not None:
            stock.append(unit)
            cartons[unit.id] = c.id
    return stock, cartons


def _site_stock(
    session: Session, sites: list[Site], products: dict[int, Product], replaceable: set[int]
) -> dict[int, list[allocation.StockUnit]]:
    """What each site counts on, but the drafts the new plan redoes."""
    stock: dict[int, list[allocation.StockUnit]] = defaultdict(list)
    counted = stock_sites_count_on(session, [s.id for s in sites])
    for c in sorted(counted, key=lambda c: (c.whereabouts is not Whereabouts.ON_HAND, c.id)):
        if c.shipment_id in replaceable:
            continue
        unit = _stock_unit(c, products[c.product_id], c.expiry, at_site=True)
        if unit is not None:
            stock[c.site_id].append(unit)
    return stock


def _plan_sites(
    session: Session,
    now: datetime,
    sites: list[Site],
    bookings: dict[tuple[int, date, int, str], int],
    site_stock: dict[int, list[allocation.StockUnit]],
) -> list[allocation.Site]:
    expected = expectations(session, sites, local_today(now))
    open_days: dict[int, set[date]] = defaultdict(set)
    for site_id, day, _pid, _group in bookings:
        open_days[site_id].add(day)
    capacity = _cold_capacity(session, [s.id for s in sites])
    plan_sites = []
    for site in sites:
        settings = session.get(SitePlanning, site.id)
        delivery = (
            frozenset(settings.delivery_days)
            if settings is not None and settings.delivery_days
            else None
        )
        exp = expected[site.id]
        plan_sites.append(
            allocation.Site(
                code=site.code,
                capacity_vials=capacity.get(site.id, UNLIMITED_VIALS),
                delivery_days=delivery,
                no_show_rate=exp.no_show_rate,
                walk_ins_per_day=walk_ins_for(exp, sorted(open_days[site.id])),
                stock=tuple(site_stock[site.id]),
            )
        )
    return plan_sites


def _demand(
    bookings: dict[tuple[int, date, int, str], int],
    codes: dict[int, str],
    products: dict[int, Product],
) -> tuple[allocation.Demand, ...]:
    return tuple(
        allocation.Demand(
            site=codes[site_id], day=day, product=products[pid].code, group=group, booked=n
        )
        for (site_id, day, pid, group), n in sorted(
            bookings.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2], kv[0][3])
        )
    )


def _open_requests(
    session: Session, codes: dict[int, str], products: dict[int, Product], start: date, last: date
) -> tuple[allocation.OpenRequest, ...]:
    if not codes:
        return ()
    return tuple(
        allocation.OpenRequest(
            site=codes[r.site_id],
            product=products[r.product_id].code,
            doses=r.approved_doses or r.doses,
            day=r.needed_on,
        )
        for r in session.scalars(
            select(StockRequest)
            .where(
                StockRequest.site_id.in_(list(codes)),
                StockRequest.status.in_(("open", "approved")),
                StockRequest.needed_on >= start,
                StockRequest.needed_on <= last,
            )
            .order_by(StockRequest.id)
        )
    )


def _cold_capacity(session: Session, site_ids: list[int]) -> dict[int, int]:
    """Vials a site's fridges and cool boxes hold; a unit without a stated capacity is unlimited."""
    capacity: dict[int, int] = defaultdict(int)
    if not site_ids:
        return capacity
    for site_id, vials in session.execute(
        select(StorageUnit.site_id, StorageUnit.capacity_vials).where(
            StorageUnit.site_id.in_(site_ids), StorageUnit.kind.in_(COLD_UNIT_KINDS)
        )
    ):
        capacity[site_id] = (
            UNLIMITED_VIALS if vials is None else min(capacity[site_id] + vials, UNLIMITED_VIALS)
        )
    return capacity


# ---------------------------------------------------------------- making and reading plans


def _pharmacy(session: Session, actor: Actor, code: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == code))
    if site is None or not actor.sees(site):
        raise InvalidInput(f"no site with code {code!r}", fields={"pharmacy": ["unknown site"]})
    if site.kind != "hospital_pharmacy":
        raise InvalidInput(
            f"{code} is a {site.kind}, not a hospital pharmacy",
            fields={"pharmacy": ["not a hospital pharmacy"]},
        )
    return site


def _check_plan_request(
    actor: Actor, now: datetime, *, start: date, days: int, method: str
) -> None:
    if not actor.may("plan"):
        raise Forbidden(f"role {actor.role} may not plan")
    errors = {}
    if method not in METHODS:
        errors["method"] = [f"one of {', '.join(METHODS)}"]
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = [f"between 1 and {MAX_DAYS}"]
    if start < local_today(now):
        errors["start"] = ["must be today or later"]
    if errors:
        raise InvalidInput("the plan request is invalid", fields=errors)


def create_plan(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    pharmacy: str,
    start: date,
    days: int,
    method: str = "optimal",
    time_limit_s: float = 10.0,
) -> Plan:
    """Plan a pharmacy's next ``days`` days from ``start`` with the chosen method and store it
    (status ``proposed``)."""
    _check_plan_request(actor, now, start=start, days=days, method=method)
    site = _pharmacy(session, actor, pharmacy)
    return _plan_pharmacy(session, actor, now, site, start, days, method, time_limit_s)


def _plan_pharmacy(
    session: Session,
    actor: Actor,
    now: datetime,
    site: Site,
    start: date,
    days: int,
    method: str,
    time_limit_s: float,
    region_plan: RegionPlan | None = None,
) -> Plan:
    inputs = build_request(session, now, site, start, days, time_limit_s=time_limit_s)
    planner = allocation.plan_optimal if method == "optimal" else allocation.plan_fefo
    result = planner(inputs.request)
    plan = Plan(
        pharmacy_id=site.id,
        start=start,
        days=days,
        method=method,
        status="proposed",
        solver_status=result.status,
        result=_result_json(session, inputs, result),
        created_at=now,
        created_by=actor.label,
        region_plan=region_plan,
    )
    session.add(plan)
    session.flush()
    after = {
        "pharmacy": site.code,
        "start": start.isoformat(),
        "days": days,
        "method": method,
        "solver_status": result.status,
    }
    if region_plan is not None:
        after["region_plan"] = region_plan.id
    audit(session, actor, now, "plan.create", "plan", plan.id, after=after)
    return plan


def _result_json(session: Session, inputs: PlanInput, plan: allocation.Plan) -> dict:
    units = {u.id: u for u in inputs.request.pharmacy_stock}
    lots = dict(
        session.execute(
            select(Lot.id, Lot.number).where(
                Lot.id.in_({int(u.lot) for u in units.values()} or {-1})
            )
        ).all()
    )

    def unit_json(stock_id: str) -> dict:
        u = units[stock_id]
        return {
            "carton": inputs.cartons[stock_id],
            "product": u.product,
            "lot": lots.get(int(u.lot)),
            "state": u.state,
            "doses_per_vial": u.doses_per_vial,
        }

    waste = {k: round(float(v), 2) for k, v in plan.waste_doses.items()}
    return {
        "shipments": [
            {
                "site": s.site,
                "day": s.day.isoformat(),
                **unit_json(s.stock_id),
                "vials": s.vials,
                "doses": s.vials * units[s.stock_id].doses_per_vial,
            }
            for s in sorted(plan.shipments, key=lambda s: (s.day, s.site, s.stock_id))
        ],
        "thaws": [
            {"day": t.day.isoformat(), **unit_json(t.stock_id), "vials": t.vials}
            for t in sorted(plan.thaws, key=lambda t: (t.day, t.stock_id))
        ],
        "unmet": [
            {
                "site": u.site,
                "day": u.day.isoformat(),
                "product": u.product,
                "group": u.group,
                "appointments": u.appointments,
            }
            for u in sorted(plan.unmet, key=lambda u: (u.day, u.site, u.product, u.group))
        ],
        "fill_the_vial": [
            {
                "site": f.site,
                "day": f.day.isoformat(),
                "product": f.product,
                "vials_opened": f.vials_opened,
                "doses_left": f.doses_left,
                "standby_slots": f.standby_slots,
            }
            for f in sorted(plan.fill_the_vial, key=lambda f: (f.day, f.site, f.product))
        ],
        "waste": {
            allocation.WASTE_EXPIRY_OR_BUD: 0.0,
            allocation.WASTE_OPEN_VIAL: 0.0,
            **waste,
            "total": round(sum(waste.values()), 2),
        },
        "doses_used": round(float(plan.doses_used), 2),
        "solve_seconds": round(plan.solve_seconds, 3),
        "objective": plan.objective,
        "inputs": {
            "cartons": len(inputs.request.pharmacy_stock),
            "sites": [s.code for s in inputs.request.sites],
            "appointments": inputs.appointments,
            "open_requests": len(inputs.request.open_requests),
            "priority": list(inputs.request.priority),
            "replanned_draft_shipments": list(inputs.replaceable_shipments),
        },
    }


def get_plan(session: Session, actor: Actor, plan_id: int, *, for_update: bool = False) -> Plan:
    query = select(Plan).where(Plan.id == plan_id)
    plan = session.scalar(query.with_for_update() if for_update else query)
    if plan is None or not actor.sees(plan.pharmacy):
        raise NotFound(f"no plan {plan_id}")
    return plan


def list_plans(
    session: Session,
    actor: Actor,
    *,
    pharmacy: str | None = None,
    status: str | None = None,
    page: PageRequest = FIRST_PAGE,
) -> Page[Plan]:
    query = select(Plan).where(actor.sees_site_id(Plan.pharmacy_id))
    if pharmacy:
        query = query.where(
            Plan.pharmacy_id == site_by_code(session, pharmacy, field="pharmacy").id
        )
    if status:
        query = query.where(Plan.status == status)
    return paged(session, query, (desc(Plan.id),), page)


# ---------------------------------------------------------------- region plans

MIN_SHARE_S = 0.5  # the least solver time a pharmacy of a region plan gets


def _region_pharmacies(session: Session, actor: Actor, region: str) -> list[Site]:
    """The hospital pharmacies of a region, all of which the actor must see. A region the
    actor sees nothing of is as unknown as one that does not exist."""
    in_region = list(session.scalars(select(Site).where(Site.region == region).order_by(Site.code)))
    if not any(actor.sees(s) for s in in_region):
        raise InvalidInput(f"no region {region!r}", fields={"region": ["unknown region"]})
    pharmacies = [s for s in in_region if s.kind == "hospital_pharmacy"]
    if not pharmacies:
        raise InvalidInput(
            f"region {region} has no hospital pharmacy",
            fields={"region": ["no hospital pharmacy in this region"]},
        )
    hidden = [s.code for s in pharmacies if not actor.sees(s)]
    if hidden:
        raise Forbidden(f"{actor.name} may not plan for {', '.join(hidden)}")
    return pharmacies


def create_region_plan(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    region: str,
    start: date,
    days: int,
    method: str = "optimal",
    time_limit_s: float = 10.0,
) -> RegionPlan:
    """Plan every hospital pharmacy of ``region`` (each with the sites it supplies) over the same
    horizon and store them together as one region plan (status ``proposed``).

    ``time_limit_s`` bounds the solver time of the whole region: each pharmacy gets an equal
    share of what the ones before it left (at least ``MIN_SHARE_S``)."""
    _check_plan_request(actor, now, start=start, days=days, method=method)
    pharmacies = _region_pharmacies(session, actor, region)
    region_plan = RegionPlan(
        region=region,
        start=start,
        days=days,
        method=method,
        status="proposed",
        created_at=now,
        created_by=actor.label,
    )
    session.add(region_plan)
    session.flush()
    spent = 0.0
    for done, site in enumerate(pharmacies):
        share = max(
            (time_limit_s - spent) / (len(pharmacies) - done), min(MIN_SHARE_S, time_limit_s)
        )
        plan = _plan_pharmacy(session, actor, now, site, start, days, method, share, region_plan)
        spent += plan.result.get("solve_seconds") or 0.0
    audit(
        session,
        actor,
        now,
        "region_plan.create",
        "region_plan",
        region_plan.id,
        after={
            "region": region,
            "start": start.isoformat(),
            "days": days,
            "method": method,
            "plans": {p.pharmacy.code: p.id for p in region_plan.plans},
        },
    )
    return region_plan


def region_totals(region_plan: RegionPlan) -> dict:
    """What a region plan adds up to: the sums over its pharmacies' plans."""
    return totals_of(region_plan.plans)


def totals_of(plans: list[Plan]) -> dict:
    """The sums over plans of projected waste, doses used, unmet appointments (by target group
    and by site) and fill-the-vial offers (one plan's own summary, or a region's)."""
    waste: dict[str, float] = defaultdict(float)
    by_group: Counter[str] = Counter()
    by_site: Counter[str] = Counter()
    by_site_group: Counter[tuple[str, str]] = Counter()
    doses_used = solve_seconds = 0.0
    offers = vials_opened = doses_left = standby_slots = shipments_planned = 0
    for plan in plans:
        result = plan.result
        for kind, doses in result.get("waste", {}).items():
            waste[kind] += doses
        doses_used += result.get("doses_used") or 0.0
        solve_seconds += result.get("solve_seconds") or 0.0
        for u in result.get("unmet", []):
            by_group[u["group"]] += u["appointments"]
            by_site[u["site"]] += u["appointments"]
            by_site_group[(u["site"], u["group"])] += u["appointments"]
        for f in result.get("fill_the_vial", []):
            offers += 1
            vials_opened += f["vials_opened"]
            doses_left += f["doses_left"]
            standby_slots += standby_slots_of(f)
        shipments_planned += len(result.get("shipments", []))
    return {
        "projected_waste": {kind: round(doses, 2) for kind, doses in waste.items()},
        "doses_used": round(doses_used, 2),
        "unmet_appointments": sum(by_site.values()),
        "unmet_by_group": dict(sorted(by_group.items())),
        "unmet_by_site": dict(sorted(by_site.items())),
        "unmet": [
            {"site": site, "group": group, "appointments": n}
            for (site, group), n in sorted(by_site_group.items())
        ],
        "fill_the_vial": {
            "offers": offers,
            "vials_opened": vials_opened,
            "doses_left": doses_left,
            "standby_slots": standby_slots,
        },
        "shipments": shipments_planned,
        "solve_seconds": round(solve_seconds, 3),
    }


def _sees_region_plan(actor: Actor, region_plan: RegionPlan) -> bool:
    return all(actor.sees(p.pharmacy) for p in region_plan.plans)


def get_region_plan(
    session: Session, actor: Actor, region_plan_id: int, *, for_update: bool = False
) -> RegionPlan:
    query = select(RegionPlan).where(RegionPlan.id == region_plan_id)
    region_plan = session.scalar(query.with_for_update() if for_update else query)
    if region_plan is None or not _sees_region_plan(actor, region_plan):
        raise NotFound(f"no region plan {region_plan_id}")
    return region_plan


def list_region_plans(
    session: Session,
    actor: Actor,
    *,
    region: str | None = None,
    status: str | None = None,
    page: PageRequest = FIRST_PAGE,
) -> Page[RegionPlan]:
    # visible when the actor sees every pharmacy planned in it (as _sees_region_plan)
    hidden = select(Plan.id).where(
        Plan.region_plan_id == RegionPlan.id, ~actor.sees_site_id(Plan.pharmacy_id)
    )
    query = select(RegionPlan).where(~hidden.exists())
    if region:
        if session.scalar(select(Site.id).where(Site.region == region).limit(1)) is None:
            raise InvalidInput(f"no region {region!r}", fields={"region": ["unknown region"]})
        query = query.where(RegionPlan.region == region)
    if status:
        if status not in REGION_PLAN_STATUSES:
            raise InvalidInput(
                "unknown status", fields={"status": [f"one of {', '.join(REGION_PLAN_STATUSES)}"]}
            )
        query = query.where(RegionPlan.status == status)
    return paged(session, query, (desc(RegionPlan.id),), page)


# ---------------------------------------------------------------- approval


def _supersede(session: Session, actor: Actor, now: datetime, old: Plan, new: Plan) -> dict:
    withdrawn, kept = [], []
    for link in old.shipment_links:
        if link.shipment_id is None:
            continue
        shipment = session.get(Shipment, link.shipment_id)
        if shipment is not None and shipment.status == "draft":
            withdrawn.append(shipment.id)
            withdraw_draft_shipment(session, actor, now, shipment)
        else:
            kept.append(link.shipment_id)
    cancelled = []
    for task in old.thaw_tasks:
        if task.status == "open":
            task.status = "cancelled"
            task.note = f"superseded by plan {new.id}"
            cancelled.append(task.id)
    old.status, old.superseded_at, old.superseded_by_id = "superseded", now, new.id
    audit(
        session,
        actor,
        now,
        "plan.supersede",
        "plan",
        old.id,
        before={"status": "approved"},
        after={
            "status": "superseded",
            "by": new.id,
            "withdrawn_shipments": withdrawn,
            "kept_shipments": kept,
            "cancelled_thaw_tasks": cancelled,
        },
    )
    region_plan = old.region_plan
    if region_plan is not None and region_plan.status == "approved" and new.region_plan_id is None:
        # A pharmacy's own plan replaces its part of an approved region plan: the region plan
        # no longer stands as a whole (its pharmacies' plans say which parts still hold). A
        # region plan approved after it supersedes it as a whole instead.
        region_plan.status, region_plan.superseded_at = "superseded", now
        audit(
            session,
            actor,
            now,
            "region_plan.supersede",
            "region_plan",
            region_plan.id,
            before={"status": "approved"},
            after={"status": "superseded", "by_plan": new.id},
        )
    return {"plan": old.id, "withdrawn_shipments": withdrawn, "kept_shipments": kept}


def approve_plan(session: Session, actor: Actor, now: datetime, plan_id: int) -> Plan:
    if not actor.may("plan.approve"):
        raise Forbidden(f"role {actor.role} may not approve plans")
    plan = get_plan(session, actor, plan_id, for_update=True)
    pharmacy = plan.pharmacy
    require(actor, "plan.approve", pharmacy)
    if plan.status != "proposed":
        raise Conflict(f"plan {plan.id} is {plan.status}", code=f"plan_{plan.status}")
    if plan.start + timedelta(days=plan.days - 1) < local_today(now):
        raise Conflict(f"plan {plan.id} covers days that have all passed", code="plan_past")
    superseded = [
        _supersede(session, actor, now, old, plan)
        for old in session.scalars(
            select(Plan)
            .where(Plan.pharmacy_id == pharmacy.id, Plan.status == "approved", Plan.id != plan.id)
            .order_by(Plan.id)
        )
    ]
    pieces, thaw_tasks = _cut_pieces(session, actor, now, plan)
    links = _draft_shipments(session, actor, now, plan, pieces)
    tasks = _thaw_tasks(session, now, plan, thaw_tasks)
    plan.status, plan.approved_at, plan.approved_by = "approved", now, actor.label
    session.flush()
    audit(
        session,
        actor,
        now,
        "plan.approve",
        "plan",
        plan.id,
        before={"status": "proposed"},
        after={
            "status": "approved",
            "shipments": links,
            "thaw_tasks": [
                {"id": t.id, "carton": t.carton_id, "day": t.day.isoformat(), "vials": t.vials}
                for t in tasks
            ],
            "superseded": superseded,
        },
    )
    return plan


# (carton id, day, vials, note) of a thaw to do
_ThawLine = tuple[int, date, int, str | None]


def _cut_pieces(
    session: Session, actor: Actor, now: datetime, plan: Plan
) -> tuple[dict[tuple[str, str], list[int]], list[_ThawLine]]:
    """Each planned carton picked whole or repacked into one piece per delivery; the pieces
    per (site, day), and the thaws frozen pieces need."""
    by_carton: dict[int, list[dict]] = defaultdict(list)
    for line in plan.result.get("shipments", []):
        by_carton[line["carton"]].append(line)
    thaws_by_carton: dict[int, list[dict]] = defaultdict(list)
    for line in plan.result.get("thaws", []):
        thaws_by_carton[line["carton"]].append(line)
    pieces: dict[tuple[str, str], list[int]] = defaultdict(list)  # (site, day) -> cartons
    thaw_tasks: list[_ThawLine] = []
    for carton_id in sorted(set(by_carton) | set(thaws_by_carton)):
        lines = sorted(by_carton.get(carton_id, []), key=lambda x: (x["day"], x["site"]))
        carton = _carton_as_planned(
            session, now, plan.pharmacy, carton_id, sum(line["vials"] for line in lines)
        )
        was_frozen = carton.state in FROZEN_STATES
        made = _pieces_of(session, actor, now, carton, lines)
        for line, piece in zip(lines, made, strict=False):
            pieces[(line["site"], line["day"])].append(piece.id)
        if was_frozen:
            thaw_tasks += _thaws_of(
                carton, lines, made, thaws_by_carton.get(carton_id, []), local_today(now)
            )
    return pieces, thaw_tasks


def _pieces_of(
    session: Session, actor: Actor, now: datetime, carton: Carton, lines: list[dict]
) -> list[Carton]:
    """The carton itself when one delivery takes all of it, else one repacked piece per
    delivery, in the same storage unit."""
    if len(lines) == 1 and lines[0]["vials"] == carton.vials:
        return [carton]
    if not lines:
        return []
    assert carton.storage_unit is not None  # _carton_as_planned made sure there is one
    unit = carton.storage_unit.code
    return custody.repack(session, actor, now, carton.id, [(line["vials"], unit) for line in lines])


def _thaws_of(
    carton: Carton, lines: list[dict], made: list[Carton], planned: list[dict], today: date
) -> list[_ThawLine]:
    """A thaw task per frozen piece, on the day the rule says; the vials the plan thaws that
    stay at the pharmacy are thawed on the plan's first thaw day."""
    lead = thaw_lead_days(carton.product)
    planned_thaws = sorted(date.fromisoformat(t["day"]) for t in planned)
    tasks: list[_ThawLine] = [
        (
            piece.id,
            rules.thaw_day_for_delivery(
                planned_thaws, date.fromisoformat(line["day"]), lead, today
            ),
            piece.vials,
            f"for delivery to {line['site']} on {line['day']}",
        )
        for line, piece in zip(lines, made, strict=False)
    ]
    left_thawed = sum(t["vials"] for t in planned) - sum(x["vials"] for x in lines)
    if (
        left_thawed > 0
        and planned_thaws
        and carton.vials > 0
        and (not made or made[0].id != carton.id)
    ):
        tasks.append(
            (
                carton.id,
                max(planned_thaws[0], today),
                min(left_thawed, carton.vials),
                "stays at the pharmacy",
            )
        )
    return tasks


def _draft_shipments(
    session: Session,
    actor: Actor,
    now: datetime,
    plan: Plan,
    pieces: dict[tuple[str, str], list[int]],
) -> list[dict]:
    """One draft shipment per (site, day), linked to the plan."""
    links = []
    for (site_code, day), carton_ids in sorted(pieces.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        shipment = shipments.create_shipment(
            session,
            actor,
            now,
            from_site=plan.pharmacy.code,
            to_site=site_code,
            cartons=carton_ids,
            note=f"plan {plan.id}: deliver on {day}",
        )
        session.add(
            PlanShipment(
                plan=plan,
                shipment_id=shipment.id,
                site_id=shipment.to_site_id,
                day=date.fromisoformat(day),
            )
        )
        links.append(
            {"shipment": shipment.id, "site": site_code, "day": day, "cartons": carton_ids}
        )
    return links


def _thaw_tasks(
    session: Session, now: datetime, plan: Plan, thaw_lines: list[_ThawLine]
) -> list[ThawTask]:
    """One open thaw task per carton and day (vials of the same carton and day add up)."""
    tasks: dict[tuple[int, date], ThawTask] = {}
    for carton_id, day, vials, note in thaw_lines:
        key = (carton_id, day)
        if key in tasks:
            tasks[key].vials += vials
            continue
        task = ThawTask(
            plan=plan,
            carton_id=carton_id,
            site_id=plan.pharmacy_id,
            day=day,
            vials=vials,
            status="open",
            note=note,
            created_at=now,
        )
        session.add(task)
        tasks[key] = task
    return list(tasks.values())


def approve_region_plan(
    session: Session, actor: Actor, now: datetime, region_plan_id: int
) -> RegionPlan:
    """Approve every pharmacy plan of a region plan, each as ``approve_plan`` does (a plan already
    approved on its own is kept as it is). Needs someone who may approve at every pharmacy of the
    region plan; a later approved region plan of the region supersedes the earlier ones."""
    if not actor.may("plan.approve"):
        raise Forbidden(f"role {actor.role} may not approve plans")
    region_plan = get_region_plan(session, actor, region_plan_id, for_update=True)
    for plan in region_plan.plans:
        require(actor, "plan.approve", plan.pharmacy)
    if region_plan.status != "proposed":
        raise Conflict(
            f"region plan {region_plan.id} is {region_plan.status}",
            code=f"plan_{region_plan.status}",
        )
    if region_plan.start + timedelta(days=region_plan.days - 1) < local_today(now):
        raise Conflict(
            f"region plan {region_plan.id} covers days that have all passed", code="plan_past"
        )
    for plan in region_plan.plans:
        if plan.status == "superseded":
            raise Conflict(
                f"the plan for {plan.pharmacy.code} (plan {plan.id}) was approved and then "
                f"superseded by plan {plan.superseded_by_id}: make a new region plan",
                code="plan_superseded",
            )
    approved, kept = [], []
    for plan in region_plan.plans:
        if plan.status == "approved":
            kept.append(plan.id)
            continue
        approve_plan(session, actor, now, plan.id)
        approved.append(plan.id)
    superseded = []
    for old in session.scalars(
        select(RegionPlan)
        .where(
            RegionPlan.region == region_plan.region,
            RegionPlan.status == "approved",
            RegionPlan.id != region_plan.id,
        )
        .order_by(RegionPlan.id)
    ):
        old.status, old.superseded_at, old.superseded_by_id = "superseded", now, region_plan.id
        superseded.append(old.id)
    region_plan.status, region_plan.approved_at, region_plan.approved_by = (
        "approved",
        now,
        actor.label,
    )
    session.flush()
    audit(
        session,
        actor,
        now,
        "region_plan.approve",
        "region_plan",
        region_plan.id,
        before={"status": "proposed"},
        after={
            "status": "approved",
            "approved_plans": approved,
            "already_approved_plans": kept,
            "superseded_region_plans": superseded,
        },
    )
    return region_plan


def _carton_as_planned(
    session: Session, now: datetime, pharmacy: Site, carton_id: int, vials: int
) -> Carton:
    """The carton, still as the plan saw it: at the pharmacy, free, usable, with the vials."""
    carton = carton_for_update(session, carton_id)

    def stale(why: str):
        return Conflict(
            f"carton {carton_id} {why} since the plan was made: make a new plan", code="plan_stale"
        )

    if carton.site_id != pharmacy.id or carton.in_transit:
        raise stale("has left the pharmacy")
    if carton.status != CartonStatus.AVAILABLE:
        raise stale(f"is {carton.status}")
    if carton.shipment_id is not None:
        raise stale(f"was picked for shipment {carton.shipment_id}")
    if now >= carton.bud:
        raise stale("passed its beyond-use date")
    if carton.vials < vials or carton.open_vial_doses:
        raise stale(f"holds {carton.vials} vials")
    if carton.storage_unit is None:
        raise stale("has no storage unit")
    return carton


# ---------------------------------------------------------------- thaw tasks


def list_thaw_tasks(
    session: Session,
    actor: Actor,
    *,
    site: str | None = None,
    status: str | None = None,
    page: PageRequest = FIRST_PAGE,
) -> Page[ThawTask]:
    query = select(ThawTask).where(actor.sees_site_id(ThawTask.site_id))
    if site:
        at = site_by_code(session, site)
        require_visible(actor, at)
        query = query.where(ThawTask.site_id == at.id)
    if status:
        if status not in ("open", "done", "cancelled"):
            raise InvalidInput(
                "unknown status", fields={"status": ["one of open, done, cancelled"]}
            )
        query = query.where(ThawTask.status == status)
    return paged(session, query, (asc(ThawTask.day), asc(ThawTask.id)), page)


def complete_thaw_task(
    session: Session, actor: Actor, now: datetime, task_id: int, *, storage_unit: str | None = None
) -> ThawTask:
    """Do the thaw: take the carton out of the freezer (into ``storage_unit``, a fridge) and
    close the task."""
    task = session.scalar(select(ThawTask).where(ThawTask.id == task_id).with_for_update())
    if task is None or not actor.sees(task.site):
        raise NotFound(f"no thaw task {task_id}")
    require(actor, "thaw", task.site)
    if task.status != "open":
        raise Conflict(f"thaw task {task.id} is {task.status}", code=f"thaw_task_{task.status}")
    carton = session.get_one(Carton, task.carton_id)
    if State(carton.state) in FROZEN_STATES:
        if carton.shipment_id is not None:
            # a picked carton is thawed where it waits for its shipment
            shipment_id, carton.shipment_id = carton.shipment_id, None
            try:
                custody.thaw(session, actor, now, carton.id, storage_unit=storage_unit)
            finally:
                carton.shipment_id = shipment_id
        else:
            custody.thaw(session, actor, now, carton.id, storage_unit=storage_unit)
    task.status, task.done_at, task.done_by = "done", now, actor.label
    audit(session, actor, now, "thaw_task.done", "thaw_task", task.id, after={"carton": carton.id})
    return task
