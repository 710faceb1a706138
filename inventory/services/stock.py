"""Stock views: cartons on hand in first-expiry-first-out order, and doses per product."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from inventory.db.models import Carton, CustodyEvent, Product, Site, StorageUnit
from inventory.domain.custody import ON_HAND_STATUSES, PRESENT_STATUSES, CartonStatus
from inventory.domain.errors import InvalidInput, NotFound
from inventory.services.access import Actor, require_visible
from inventory.services.common import site_by_code, storage_unit_by_code

CARTON_STATUSES = tuple(CartonStatus)
STATES = ("ultra_frozen", "frozen", "thawed", "punctured")


def get_carton(session: Session, actor: Actor, carton_id: int) -> Carton:
    carton = session.get(Carton, carton_id)
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
    limit: int = 1000,
) -> list[Carton]:
    """Stock on hand, expiring soonest first. Without a status filter, only stock that is
    still there (available, held, expired, in transit) is listed."""
    query = select(Carton).options(
        selectinload(Carton.lot),
        selectinload(Carton.product),
        selectinload(Carton.site),
        selectinload(Carton.storage_unit),
        selectinload(Carton.holds),
        selectinload(Carton.children),
    )
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
    if actor.role == "centre_manager":
        query = query.where(Carton.site_id == actor.site_id)
    elif (
        actor.role in ("pharmacist", "coordinator")
        and actor.region
        and not site
        and not storage_unit
    ):
        query = query.join(Site, Site.id == Carton.site_id).where(Site.region == actor.region)
    query = query.order_by(Carton.bud, Carton.id).limit(limit)
    return [c for c in session.scalars(query) if actor.sees(c.site)]


def stock_on_hand(session: Session, actor: Actor, site: str) -> dict:
    """Doses per product and state at a site: on hand by status, and in transit both ways."""
    at = site_by_code(session, site)
    require_visible(actor, at)
    on_hand = session.execute(
        select(
            Product.code,
            Carton.state,
            Carton.status,
            func.sum(Carton.doses),
            func.count(Carton.id),
            func.min(Carton.bud),
        )
        .join(Product, Product.id == Carton.product_id)
        .where(
            Carton.site_id == at.id,
            Carton.in_transit.is_(False),
            Carton.status.in_(ON_HAND_STATUSES),
        )
        .group_by(Product.code, Carton.state, Carton.status)
    ).all()
    # in transit: cartons keep their sender's site until received, so incoming is found
    # through the shipment they ride on
    from inventory.db.models import Shipment

    transit = session.execute(
        select(Product.code, Carton.state, Shipment.to_site_id, func.sum(Carton.doses))
        .join(Product, Product.id == Carton.product_id)
        .join(Shipment, Shipment.id == Carton.shipment_id)
        .where(
            Carton.in_transit.is_(True),
            (Shipment.to_site_id == at.id) | (Shipment.from_site_id == at.id),
        )
        .group_by(Product.code, Carton.state, Shipment.to_site_id)
    ).all()
    lines: dict[tuple[str, str], dict] = {}

    def line(product: str, state: str) -> dict:
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

    for product, state, status, doses, count, bud in on_hand:
        entry = line(product, state)
        entry[status] += int(doses)
        entry["on_hand"] += int(doses)
        entry["cartons"] += int(count)
        if status == CartonStatus.AVAILABLE and bud is not None:
            earliest = entry["earliest_bud"]
            entry["earliest_bud"] = bud if earliest is None or bud < earliest else earliest
    for product, state, to_site_id, doses in transit:
        direction = "incoming" if to_site_id == at.id else "outgoing"
        line(product, state)[f"in_transit_{direction}"] += int(doses)
    return {"site": at, "lines": [lines[k] for k in sorted(lines)]}


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


def hold_worklist(session: Session, actor: Actor) -> tuple[list[Carton], dict[int, object]]:
    """Held cartons the actor sees, first expiry first, with the excursions behind their holds
    (by id), so the worklist can show what exposed them."""
    from inventory.db.telemetry import Excursion

    cartons = list_cartons(session, actor, status=CartonStatus.HELD)
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
