"""Stock views: cartons on hand in first-expiry-first-out order, and doses per product."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from inventory.db.models import Carton, CustodyEvent, Product, Shipment, Site, StorageUnit
from inventory.domain.custody import ON_HAND_STATUSES, PRESENT_STATUSES, CartonStatus
from inventory.domain.errors import InvalidInput, NotFound
from inventory.services import custody, paging
from inventory.services.access import SYSTEM, Actor, require_visible
from inventory.services.common import audit, site_by_code, storage_unit_by_code
from inventory.services.paging import FIRST_PAGE, Page, PageRequest, asc, paged

CARTON_STATUSES = tuple(CartonStatus)
STATES = ("ultra_frozen", "frozen", "thawed", "punctured")


def get_carton(session: Session, actor: Actor, carton_id: int) -> Carton:
    # the whole lineage below it, level by level, with each carton's site
    return _visible_carton(
        session,
        actor,
        carton_id,
        selectinload(Carton.children, recursion_depth=-1).joinedload(Carton.site),
    )


@dataclass(frozen=True)
class CartonDetail:
    carton: Carton
    history: list[Row]
    lineage: Lineage


def carton_detail(session: Session, actor: Actor, carton_id: int) -> CartonDetail:
    """A carton with its history and whole lineage in five queries, however long either is:
    the carton (its lot, product, site and unit joined), its holds, its children, its
    history, its lineage."""
    carton = _visible_carton(session, actor, carton_id, selectinload(Carton.children))
    return CartonDetail(carton, history_with_places(session, carton), lineage(session, carton))


def _visible_carton(session: Session, actor: Actor, carton_id: int, children) -> Carton:
    carton = session.scalar(
        select(Carton)
        .where(Carton.id == carton_id)
        .options(
            joinedload(Carton.lot),
            joinedload(Carton.product),
            joinedload(Carton.site),
            joinedload(Carton.storage_unit),
            selectinload(Carton.holds),
            children,
        )
    )
    if carton is None or not actor.sees(carton.site):
        raise NotFound(f"no carton {carton_id}")
    return carton


def list_cartons(
    session: Session,
    actor: Actor,
    *,
    site: str | None = None,
    storage_unit: str | None = None,
    product: str | None = None,
    status: str | None = None,
    state: str | None = None,
    page: PageRequest = FIRST_PAGE,
) -> Page[Carton]:
    """Stock on hand, expiring soonest first. Without a status filter, only stock that is
    still there (available, held, expired, in transit) is listed."""
    # each carton's lot, product, site and unit in the same row (one to one: the page
    # keeps its size); holds and children in one query each
    query = select(Carton).options(
        joinedload(Carton.lot),
        joinedload(Carton.product),
        joinedload(Carton.site),
        joinedload(Carton.storage_unit),
        selectinload(Carton.holds),
        selectinload(Carton.children),
    )
    query = _filtered(session, actor, query, site, storage_unit, product, status, state)
    return paged(session, query, (asc(Carton.bud), asc(Carton.id)), page)


def at_hand(
    session: Session,
    actor: Actor,
    site: str,
    *,
    statuses: tuple[str, ...] = (CartonStatus.AVAILABLE,),
    opened_only: bool = False,
    open_first: bool = False,
    limit: int = paging.MAX_LIMIT,
) -> list[Carton]:
    """Cartons on a site's shelves (neither travelling nor picked for a shipment), first
    expiry first, or with open vials first (the ones to use up): the doses a centre takes
    from, and the beyond-use dates it counts down."""
    # the lot and product come in the same row: a page asks for these twice a request
    query = select(Carton).options(
        joinedload(Carton.lot, innerjoin=True), joinedload(Carton.product, innerjoin=True)
    )
    query = _filtered(session, actor, query, site, None, None, None, None)
    query = query.where(
        Carton.status.in_(statuses), Carton.in_transit.is_(False), Carton.shipment_id.is_(None)
    )
    if opened_only:
        query = query.where(Carton.open_vial_doses > 0)
    if open_first:
        query = query.order_by(Carton.open_vial_doses == 0)
    return list(session.scalars(query.order_by(Carton.bud, Carton.id).limit(limit)))


@dataclass(frozen=True)
class UnitTotal:
    storage_unit: str | None  # None: in transit or otherwise not in a unit
    cartons: int
    doses: int


def stock_totals(
    session: Session,
    actor: Actor,
    *,
    site: str | None = None,
    storage_unit: str | None = None,
    product: str | None = None,
    status: str | None = None,
    state: str | None = None,
) -> list[UnitTotal]:
    """Cartons and doses per storage unit of everything `list_cartons` would page through
    with the same filters: the whole answer's size, whichever page is shown."""
    query = select(
        StorageUnit.code, func.count(Carton.id), func.coalesce(func.sum(Carton.doses), 0)
    ).outerjoin(StorageUnit, StorageUnit.id == Carton.storage_unit_id)
    query = _filtered(session, actor, query, site, storage_unit, product, status, state)
    rows = session.execute(query.group_by(StorageUnit.code).order_by(StorageUnit.code))
    return [UnitTotal(code, int(n), int(d)) for code, n, d in rows]


def _filtered(session, actor, query, site, storage_unit, product, status, state):
    """`query` of cartons narrowed to what the filters and the actor's sight allow."""
    if site:
        at = site_by_code(session, site)
        require_visible(actor, at)
        query = query.where(Carton.site_id == at.id)
    if storage_unit:
        unit = storage_unit_by_code(session, storage_unit)
        require_visible(actor, unit.site)
        query = query.where(Carton.storage_unit_id == unit.id)
    if product:
        query = query.join(Product, Product.id == Carton.product_id).where(Product.code == product)
    if status:
        if status not in CARTON_STATUSES:
            raise InvalidInput(
                "unknown status", fields={"status": [f"one of {', '.join(CARTON_STATUSES)}"]}
            )
        query = query.where(Carton.status == status)
    else:
        query = query.where(Carton.status.in_(PRESENT_STATUSES))
    if state:
        if state not in STATES:
            raise InvalidInput("unknown state", fields={"state": [f"one of {', '.join(STATES)}"]})
        query = query.where(Carton.state == state)
    return query.where(actor.sees_site_id(Carton.site_id))


def stock_on_hand(session: Session, actor: Actor, site: str) -> dict:
    """Doses per product and state at a site: on hand by status, and in transit both ways."""
    at = site_by_code(session, site)
    require_visible(actor, at)
    return {"site": at, "lines": _stock_lines(session, [at.id])[at.id]}


def stock_in_region(session: Session, actor: Actor, region: str) -> list[dict]:
    """`stock_on_hand` of every site of a region the actor sees, in one call (a coordinator's
    or pharmacist's region; a centre manager's own site)."""
    sites = list(
        session.scalars(
            select(Site)
            .where(Site.region == region, actor.sees_site_id(Site.id))
            .order_by(Site.code)
        )
    )
    if not sites:
        raise NotFound(f"no region {region!r} with sites you see")
    lines = _stock_lines(session, [s.id for s in sites])
    return [{"site": s, "lines": lines[s.id]} for s in sites]


def _stock_lines(session: Session, site_ids: list[int]) -> dict[int, list[dict]]:
    on_hand = session.execute(
        select(
            Carton.site_id,
            Product.code,
            Carton.state,
            Carton.status,
            func.sum(Carton.doses),
            func.count(Carton.id),
            func.min(Carton.bud),
        )
        .join(Product, Product.id == Carton.product_id)
        .where(
            Carton.site_id.in_(site_ids),
            Carton.in_transit.is_(False),
            Carton.status.in_(ON_HAND_STATUSES),
        )
        .group_by(Carton.site_id, Product.code, Carton.state, Carton.status)
    ).all()
    # in transit: cartons keep their sender's site until received, so incoming is found
    # through the shipment they ride on
    transit = session.execute(
        select(
            Product.code,
            Carton.state,
            Shipment.from_site_id,
            Shipment.to_site_id,
            func.sum(Carton.doses),
        )
        .join(Product, Product.id == Carton.product_id)
        .join(Shipment, Shipment.id == Carton.shipment_id)
        .where(
            Carton.in_transit.is_(True),
            Shipment.to_site_id.in_(site_ids) | Shipment.from_site_id.in_(site_ids),
        )
        .group_by(Product.code, Carton.state, Shipment.from_site_id, Shipment.to_site_id)
    ).all()
    lines: dict[int, dict[tuple[str, str], dict]] = {site_id: {} for site_id in site_ids}
    for site_id, product, state, status, doses, count, bud in on_hand:
        entry = _line(lines[site_id], product, state)
        entry[status] += int(doses)
        entry["on_hand"] += int(doses)
        entry["cartons"] += int(count)
        if status == CartonStatus.AVAILABLE and bud is not None:
            earliest = entry["earliest_bud"]
            entry["earliest_bud"] = bud if earliest is None or bud < earliest else earliest
    for product, state, from_site_id, to_site_id, doses in transit:
        if to_site_id in lines:
            _line(lines[to_site_id], product, state)["in_transit_incoming"] += int(doses)
        if from_site_id in lines:
            _line(lines[from_site_id], product, state)["in_transit_outgoing"] += int(doses)
    return {site_id: [found[k] for k in sorted(found)] for site_id, found in lines.items()}


def _line(lines: dict[tuple[str, str], dict], product: str, state: str) -> dict:
    return lines.setdefault(
        (product, state),
        {
            "product": product,
            "state": state,
            "available": 0,
            "held": 0,
            "expired": 0,
            "on_hand": 0,
            "cartons": 0,
            "in_transit_incoming": 0,
            "in_transit_outgoing": 0,
            "earliest_bud": None,
        },
    )


def storage_units_at(session: Session, site: Site) -> list[StorageUnit]:
    return list(
        session.scalars(
            select(StorageUnit).where(StorageUnit.site_id == site.id).order_by(StorageUnit.code)
        )
    )


def history(session: Session, carton: Carton) -> list[CustodyEvent]:
    """The carton's custody ledger, oldest first."""
    return list(
        session.scalars(
            select(CustodyEvent)
            .where(CustodyEvent.carton_id == carton.id)
            .order_by(CustodyEvent.id)
        )
    )


def place_codes(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    """Site and storage unit codes by id, to name where ledger events moved stock."""
    sites = dict(session.execute(select(Site.id, Site.code)).all())
    units = dict(session.execute(select(StorageUnit.id, StorageUnit.code)).all())
    return sites, units


def _history_with_places():
    from_site, to_site = aliased(Site), aliased(Site)
    from_unit, to_unit = aliased(StorageUnit), aliased(StorageUnit)
    return (
        select(
            CustodyEvent,
            from_site.code.label("from_site"),
            to_site.code.label("to_site"),
            from_unit.code.label("from_storage_unit"),
            to_unit.code.label("to_storage_unit"),
        )
        .outerjoin(from_site, from_site.id == CustodyEvent.from_site_id)
        .outerjoin(to_site, to_site.id == CustodyEvent.to_site_id)
        .outerjoin(from_unit, from_unit.id == CustodyEvent.from_storage_unit_id)
        .outerjoin(to_unit, to_unit.id == CustodyEvent.to_storage_unit_id)
        .where(CustodyEvent.carton_id == bindparam("carton"))
        .order_by(CustodyEvent.id)
    )


def _lineage():
    """Both ways, however deep the repacking went: a recursive query each way."""
    up = (
        select(Carton.id, Carton.parent_id, literal(1).label("depth"))
        .where(Carton.id == bindparam("parent"))
        .cte("up", recursive=True)
    )
    up = up.union_all(
        select(Carton.id, Carton.parent_id, up.c.depth + 1).where(Carton.id == up.c.parent_id)
    )
    down = (
        select(Carton.id).where(Carton.parent_id == bindparam("carton")).cte("down", recursive=True)
    )
    down = down.union_all(select(Carton.id).where(Carton.parent_id == down.c.id))
    kin = union_all(select(up.c.id, up.c.depth), select(down.c.id, literal(0))).subquery()
    return (
        select(
            Carton.id,
            Carton.parent_id,
            Site.code.label("site"),
            Carton.vials,
            Carton.doses,
            Carton.status,
            kin.c.depth,
        )
        .join(kin, kin.c.id == Carton.id)
        .join(Site, Site.id == Carton.site_id)
        .order_by(kin.c.depth, Carton.id)
    )


# made once: building them (aliases, recursive parts) cost more than running them
HISTORY_WITH_PLACES = _history_with_places()
LINEAGE = _lineage()


def history_with_places(session: Session, carton: Carton) -> list[Row]:
    """The carton's custody ledger, oldest first: each event with the codes of the sites and
    storage units it moved stock between, in one query (not every site and unit's code)."""
    return list(session.execute(HISTORY_WITH_PLACES, {"carton": carton.id}))


@dataclass(frozen=True)
class Lineage:
    """The cartons a carton was repacked from (nearest first) and those repacked from it."""

    ancestors: list[Row]  # id, parent_id, site, vials, doses, status
    descendants: list[Row]  # every level, by id


def lineage(session: Session, carton: Carton) -> Lineage:
    """Both ways in one query."""
    rows = session.execute(LINEAGE, {"carton": carton.id, "parent": carton.parent_id}).all()
    return Lineage(
        ancestors=[r for r in rows if r.depth > 0], descendants=[r for r in rows if r.depth == 0]
    )


def ancestors(carton: Carton) -> list[Carton]:
    """The cartons this one was repacked from, nearest first, up to the received tray."""
    chain = []
    node = carton.parent
    while node is not None:
        chain.append(node)
        node = node.parent
    return chain


def units_for(session: Session, actor: Actor, action: str) -> list[StorageUnit]:
    """The storage units where the actor may do `action`: a scoped person's own site's,
    everyone's for the unscoped."""
    if not actor.may(action) or actor.role in ("coordinator", "auditor"):
        return []
    query = select(StorageUnit).order_by(StorageUnit.code)
    if actor.site_id is not None:
        query = query.where(StorageUnit.site_id == actor.site_id)
    return list(session.scalars(query))


def hold_worklist(session: Session, actor: Actor) -> tuple[list[Carton], Mapping[int, object]]:
    """Held cartons the actor sees, first expiry first, with the excursions behind their holds
    (by id), so the worklist can show what exposed them."""
    from inventory.db.telemetry import Excursion

    cartons = list(list_cartons(session, actor, status=CartonStatus.HELD, page=paging.LARGEST_PAGE))
    ids = {h.excursion_id for c in cartons for h in c.holds if h.excursion_id and not h.decision}
    excursions = (
        {
            e.id: e
            for e in session.scalars(
                select(Excursion)
                .where(Excursion.id.in_(ids))
                .options(selectinload(Excursion.storage_unit))
            )
        }
        if ids
        else {}
    )
    return cartons, excursions


def stays(events: list[CustodyEvent], until) -> list[tuple[int, object, object]]:
    """Where the carton sat, from its ledger: (storage unit id, from, to) in order; the last
    stay runs until `until` (now) unless the carton left every unit. The temperatures it saw
    are those of these units over these periods (its cool box's while in transit)."""
    periods: list[list] = []
    for event in events:
        if event.kind == "repack_out":  # names the new cartons' unit; this one stays put
            continue
        if event.to_storage_unit_id is None and event.kind != "dispatch":
            continue
        if periods and periods[-1][2] is None:
            periods[-1][2] = event.at
        if event.to_storage_unit_id is not None:
            periods.append([event.to_storage_unit_id, event.at, None])
    return [(unit, start, end or until) for unit, start, end in periods if end != start]


def expire_past_bud(
    session: Session, now: datetime, *, after_id: int, batch_size: int
) -> tuple[int, int | None]:
    """Mark up to `batch_size` available cartons (ids above `after_id`) whose beyond-use
    date has passed as expired, audited. Returns how many were expired and the last id looked
    at (None once there are no more)."""
    cartons = session.scalars(
        select(Carton)
        .where(Carton.status == CartonStatus.AVAILABLE, Carton.bud <= now, Carton.id > after_id)
        .order_by(Carton.id)
        .limit(batch_size)
    ).all()
    expired = 0
    for carton in cartons:
        if custody.expire_if_due(carton, now):
            audit(
                session,
                SYSTEM,
                now,
                "carton.expire",
                "carton",
                carton.id,
                before={"status": "available"},
                after={"status": "expired", "bud": carton.bud.isoformat().replace("+00:00", "Z")},
            )
            expired += 1
    return expired, (cartons[-1].id if len(cartons) == batch_size else None)
