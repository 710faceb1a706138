"""Stock views: cartons on hand in first-expiry-first-out order, and doses per product."""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    case,
    exists,
    func,
    lambda_stmt,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, joinedload, selectinload

from inventory.db.models import (
    Carton,
    CustodyEvent,
    Hold,
    Lot,
    Product,
    Shipment,
    Site,
    StorageUnit,
)
from inventory.db.values import (
    IdList,
    JsonRows,
    Packed,
    Values,
    constant_in,
    in_list,
    packed,
    utc,
)
from inventory.domain.custody import ON_HAND_STATUSES, PRESENT_STATUSES, CartonStatus
from inventory.domain.errors import InvalidInput, NotFound
from inventory.services import custody, paging
from inventory.services.access import SYSTEM, Actor, require_visible, sight_clause
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
    query, params = _filtered(session, actor, query, site, storage_unit, product, status, state)
    return paged(session, query, (asc(Carton.bud), asc(Carton.id)), page, params=params)


def list_carton_values(
    session: Session,
    actor: Actor,
    *,
    site: str | None = None,
    storage_unit: str | None = None,
    product: str | None = None,
    status: str | None = None,
    state: str | None = None,
    page: PageRequest = FIRST_PAGE,
) -> CartonValues:
    """`list_cartons` read as values (see "Cartons as values" below), for an answer that
    only shows them: the page in one query, and a second for the open holds of its cartons
    when any has one. A person's own site is not looked up."""
    shape, params = _filters(session, actor, site, storage_unit, product, status, state)
    statement = _listed_page(shape, after_cursor=page.cursor is not None)
    params |= paging.page_params(LISTED_ORDER, page)
    found = paging.page_of_rows(statement.rows(session, params), LISTED_ORDER, page)
    held = [row.id for row in found if row.has_holds]
    holds: dict[int, list[Values]] = {}
    if held:
        for hold in OPEN_HOLDS_OF.rows(session, {"cartons": held}):
            holds.setdefault(hold.carton_id, []).append(hold)
    return CartonValues(found, {row.id: _ids(row.children) for row in found}, holds)


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
    query, params = _filtered(session, actor, query, site, None, None, None, None)
    query = query.where(
        Carton.status.in_(statuses), Carton.in_transit.is_(False), Carton.shipment_id.is_(None)
    )
    if opened_only:
        query = query.where(Carton.open_vial_doses > 0)
    if open_first:
        query = query.order_by(Carton.open_vial_doses == 0)
    return list(session.scalars(query.order_by(Carton.bud, Carton.id).limit(limit), params))


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
    query, params = _filtered(session, actor, query, site, storage_unit, product, status, state)
    rows = session.execute(query.group_by(StorageUnit.code).order_by(StorageUnit.code), params)
    return [UnitTotal(code, int(n), int(d)) for code, n, d in rows]


def _filtered(
    session, actor, query, site, storage_unit, product, status, state
) -> tuple[Select, dict[str, Any]]:
    """`query` of cartons narrowed to what the filters and the actor's sight allow, and the
    values to run it with."""
    shape, params = _filters(session, actor, site, storage_unit, product, status, state)
    return query.where(*_conditions(shape)), params


Shape = tuple[str, tuple[str, ...]]


def _filters(
    session, actor, site, storage_unit, product, status, state
) -> tuple[Shape, dict[str, Any]]:
    """Which filters apply (the actor's kind of sight and the filters given: a shape the
    conditions are made once for) and their values. The site and the storage unit are
    looked up, not found unless the actor sees them (a person's own site is known without);
    a status or state is one of those known."""
    params: dict[str, Any] = {}
    if site:
        params["of_site"] = _visible_site_id(session, actor, site)
    if storage_unit:
        unit = storage_unit_by_code(session, storage_unit)
        require_visible(actor, unit.site)
        params["of_unit"] = unit.id
    if product:
        params["of_product"] = product
    if status:
        if status not in CARTON_STATUSES:
            raise InvalidInput(
                "unknown status", fields={"status": [f"one of {', '.join(CARTON_STATUSES)}"]}
            )
        params["of_status"] = status
    if state:
        if state not in STATES:
            raise InvalidInput("unknown state", fields={"state": [f"one of {', '.join(STATES)}"]})
        params["of_state"] = state
    sight, seen = actor.sight()
    return (sight, tuple(params)), params | seen


@functools.cache
def _conditions(shape: Shape) -> tuple[ColumnElement[bool], ...]:
    """The conditions of a shape of filters (`_filters`), in the table's columns (so a
    query of values stays a Core one), with their values as parameters."""
    sight, given = shape
    c = _CARTONS.c
    conditions = []
    if "of_site" in given:
        conditions.append(c.site_id == bindparam("of_site"))
    if "of_unit" in given:
        conditions.append(c.storage_unit_id == bindparam("of_unit"))
    if "of_product" in given:
        products = _PRODUCTS.c
        code = products.code == bindparam("of_product")
        conditions.append(c.product_id == select(products.id).where(code).scalar_subquery())
    # without a status, what is still there
    conditions.append(c.status == bindparam("of_status") if "of_status" in given else PRESENT)
    if "of_state" in given:
        conditions.append(c.state == bindparam("of_state"))
    conditions.append(sight_clause(sight, c.site_id))
    return tuple(conditions)


def _visible_site_id(session: Session, actor: Actor, code: str) -> int:
    """The id of a site the actor sees: looked up, unless it is the person's own."""
    site_id = actor.own_site_id(code)
    if site_id is None:
        at = site_by_code(session, code)
        require_visible(actor, at)
        site_id = at.id
    return site_id


def stock_on_hand(session: Session, actor: Actor, site: str) -> dict:
    """Doses per product and state at a site (its code): on hand by status, and in transit
    both ways."""
    site_id = _visible_site_id(session, actor, site)
    return {"site": site, "lines": _stock_lines(session, [site_id])[site_id]}


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


# A stock answer in one statement, made once: the sites asked for are its one parameter.
# Each row is on hand (a site, a status, a count of cartons and the earliest beyond-use
# date) or in transit (the shipment's two sites).
_SITE_IDS: BindParameter[list[int]] = bindparam("site_ids")
_NO_ID, _NO_TEXT, _NO_TIME = (null().cast(t) for t in (Integer, String, Carton.bud.type))
_STOCK_LINES = union_all(
    select(
        literal_column("'on_hand'", String).label("kind"),
        Carton.site_id,
        Product.code,
        Carton.state,
        Carton.status,
        func.sum(Carton.doses).label("doses"),
        func.count(Carton.id).label("cartons"),
        func.min(Carton.bud).label("earliest_bud"),
        _NO_ID.label("from_site_id"),
        _NO_ID.label("to_site_id"),
    )
    .join(Product, Product.id == Carton.product_id)
    .where(
        in_list(Carton.site_id, _SITE_IDS),
        Carton.in_transit.is_(False),
        constant_in(Carton.status, ON_HAND_STATUSES),
    )
    .group_by(Carton.site_id, Product.code, Carton.state, Carton.status),
    # in transit: cartons keep their sender's site until received, so incoming is found
    # through the shipment they ride on
    select(
        literal_column("'in_transit'", String),
        _NO_ID,
        Product.code,
        Carton.state,
        _NO_TEXT,
        func.sum(Carton.doses),
        _NO_ID,
        _NO_TIME,
        Shipment.from_site_id,
        Shipment.to_site_id,
    )
    .join(Product, Product.id == Carton.product_id)
    .join(Shipment, Shipment.id == Carton.shipment_id)
    .where(
        Carton.in_transit.is_(True),
        in_list(Shipment.to_site_id, _SITE_IDS) | in_list(Shipment.from_site_id, _SITE_IDS),
    )
    .group_by(Product.code, Carton.state, Shipment.from_site_id, Shipment.to_site_id),
)


def _stock_lines(session: Session, site_ids: list[int]) -> dict[int, list[dict]]:
    lines: dict[int, dict[tuple[str, str], dict]] = {site_id: {} for site_id in site_ids}
    for row in session.execute(_STOCK_LINES, {"site_ids": site_ids}):
        kind, site_id, product, state, status, doses, count, bud, from_site_id, to_site_id = row
        if kind == "in_transit":
            if to_site_id in lines:
                _line(lines[to_site_id], product, state)["in_transit_incoming"] += int(doses)
            if from_site_id in lines:
                _line(lines[from_site_id], product, state)["in_transit_outgoing"] += int(doses)
            continue
        entry = _line(lines[site_id], product, state)
        entry[status] += int(doses)
        entry["on_hand"] += int(doses)
        entry["cartons"] += int(count)
        if status == CartonStatus.AVAILABLE and bud is not None:
            earliest = entry["earliest_bud"]
            entry["earliest_bud"] = bud if earliest is None or bud < earliest else earliest
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


# ---------------------------------------------------------------- cartons as values
#
# An answer that only shows cartons reads them as values: columns of the tables themselves
# (Core queries: no ORM object per carton and per related row, no identity map, no
# relationship loaders, which took most of a list's and a carton page's time), in
# statements made once with bound parameters (building them cost more than running them).

_CARTONS = Carton.__table__
_LOTS = Lot.__table__
_PRODUCTS = Product.__table__
_SITES = Site.__table__
_UNITS = StorageUnit.__table__
_HOLDS = Hold.__table__
_EVENTS = CustodyEvent.__table__

# still there: written into the statement, not a parameter list expanded at every run
PRESENT = constant_in(_CARTONS.c.status, PRESENT_STATUSES)


def _carton_values(holds: ColumnElement[bool]) -> Select:
    """Each carton's columns with its lot, product, site and unit in one row, the ids of its
    children ("3,4", in any order), and whether it has `holds`."""
    c = _CARTONS.c
    kids = _CARTONS.alias("kids")
    return select(
        c.id,
        c.lot_id,
        c.parent_id,
        c.site_id,
        c.state,
        c.status,
        c.vials,
        c.doses,
        c.in_transit,
        c.shipment_id,
        c.thawed_at,
        c.bud,
        c.open_vial_doses,
        c.open_vial_opened_at,
        c.room_temp_hours,
        c.exposure_s,
        c.exposure_min_c,
        c.exposure_max_c,
        c.serial,
        _LOTS.c.number.label("lot"),
        _LOTS.c.expiry,
        _PRODUCTS.c.code.label("product"),
        _PRODUCTS.c.name.label("product_name"),
        _PRODUCTS.c.doses_per_vial,
        # only an open vial's beyond-use date needs it: other rows spare decoding it
        case((c.open_vial_doses != literal_column("0"), _PRODUCTS.c.storage_profile)).label(
            "storage_profile"
        ),
        _SITES.c.code.label("site"),
        _SITES.c.region.label("site_region"),
        _UNITS.c.code.label("storage_unit"),
        select(IdList(kids.c.id))
        .where(kids.c.parent_id == c.id)
        .scalar_subquery()
        .label("children"),
        exists().where(_HOLDS.c.carton_id == c.id, holds).label("has_holds"),
    ).select_from(
        _CARTONS.join(_LOTS, _LOTS.c.id == c.lot_id)
        .join(_PRODUCTS, _PRODUCTS.c.id == c.product_id)
        .join(_SITES, _SITES.c.id == c.site_id)
        .outerjoin(_UNITS, _UNITS.c.id == c.storage_unit_id)
    )


def _ids(listed: str | None) -> list[int]:
    """The ids an aggregate listed, in order."""
    return sorted(int(i) for i in listed.split(",")) if listed else []


@dataclass(frozen=True)
class CartonValues:
    """A page of cartons as values: a row each (`_carton_values`), and by carton id the ids
    of its children and its open holds, oldest first."""

    page: Page[Values]
    children: dict[int, list[int]]
    holds: dict[int, list[Values]]

    def __iter__(self):
        return iter(self.page)


# a list shows open holds only
LISTED_CARTONS = _carton_values(_HOLDS.c.decision.is_(None))
LISTED_ORDER = (asc(_CARTONS.c.bud), asc(_CARTONS.c.id))


@functools.cache
def _listed_page(shape: Shape, *, after_cursor: bool) -> Packed:
    """A page's statement for a shape of filters, made once (building it and its cache key
    cost more than running it)."""
    query = LISTED_CARTONS.where(*_conditions(shape))
    return packed(paging.page_statement(query, LISTED_ORDER, after_cursor=after_cursor))


OPEN_HOLDS_OF = packed(
    select(_HOLDS)
    .where(in_list(_HOLDS.c.carton_id, bindparam("cartons")))
    .where(_HOLDS.c.decision.is_(None))
    .order_by(_HOLDS.c.id)
)


def _history_with_places() -> Select:
    """A carton's ledger events as its page shows them, with the codes of the sites and
    storage units each moved stock between."""
    from_site, to_site = _SITES.alias("from_site"), _SITES.alias("to_site")
    from_unit, to_unit = _UNITS.alias("from_unit"), _UNITS.alias("to_unit")
    e = _EVENTS.c
    return (
        select(
            e.id,
            e.at,
            e.actor,
            e.kind,
            e.carton_id,
            e.doses,
            e.change,
            e.bucket,
            e.reason,
            e.details,
            from_site.c.code.label("from_site"),
            to_site.c.code.label("to_site"),
            from_unit.c.code.label("from_storage_unit"),
            to_unit.c.code.label("to_storage_unit"),
        )
        .outerjoin(from_site, from_site.c.id == e.from_site_id)
        .outerjoin(to_site, to_site.c.id == e.to_site_id)
        .outerjoin(from_unit, from_unit.c.id == e.from_storage_unit_id)
        .outerjoin(to_unit, to_unit.c.id == e.to_storage_unit_id)
        .where(e.carton_id == bindparam("carton"))
    )


_HISTORY = _history_with_places()
# a ledger event's values in a row of the carton's page statement: named event_<name>
_EVENT_NAMES = tuple(str(column.key) for column in _HISTORY.selected_columns)
_Event = namedtuple("_Event", _EVENT_NAMES)  # type: ignore[misc]


def _carton_page() -> Select:
    """A carton's page in one row: the carton as values (`_carton_values`, with every hold),
    its kin and its ledger events each as one list in it (`JsonRows`). The kin: at depth
    1, 2... the cartons it was repacked from (its parent first), at -1 every carton repacked
    from it or from those, however deep the repacking went (a recursive query each way),
    each with what a lineage shows (`_Kin`). The events with the codes of the places they
    moved stock between (`_history_with_places`)."""
    c = _CARTONS.c
    shown = (c.id, c.parent_id, c.site_id, c.vials, c.doses, c.status)
    parent = select(c.parent_id).where(c.id == bindparam("carton")).scalar_subquery()
    up = (
        select(*shown, literal_column("1").label("depth"))
        .where(c.id == parent)
        .cte("up", recursive=True)
    )
    up = up.union_all(
        select(*shown, up.c.depth + literal_column("1")).where(c.id == up.c.parent_id)
    )
    down = (
        select(*shown, literal_column("-1").label("depth"))
        .where(c.parent_id == bindparam("carton"))
        .cte("down", recursive=True)
    )
    down = down.union_all(select(*shown, down.c.depth).where(c.parent_id == down.c.id))
    # the recursion carries what the lineage shows, and each kin's site code is one lookup:
    # joining the few kin to whole tables of cartons and sites cost more than the rest
    kin = union_all(select(*up.c), select(*down.c)).subquery("kin")
    kin_site = _SITES.alias("kin_site")
    site_code = select(kin_site.c.code).where(kin_site.c.id == kin.c.site_id).scalar_subquery()
    k = kin.c
    kin_rows = select(JsonRows(k.id, k.parent_id, site_code, k.vials, k.doses, k.status, k.depth))
    events = _HISTORY.subquery("events")
    return (
        _carton_values(true())
        .add_columns(
            kin_rows.scalar_subquery().label("kin"),
            select(JsonRows(*events.c)).scalar_subquery().label("history"),
        )
        .where(c.id == bindparam("carton"))
    )


# a carton's kin as its page's row lists them (`_carton_page`)
_Kin = namedtuple("_Kin", ("id", "parent_id", "site", "vials", "doses", "status", "depth"))


def _events_of(carton: Values) -> list[Values]:
    """The ledger events listed in a carton's page row, oldest first."""
    events: list[Values] = [_Event._make(values) for values in carton.history or ()]
    return sorted((e._replace(at=utc(e.at)) for e in events), key=attrgetter("id"))


# a carton's page shows every hold, decided or not
CARTON_PAGE = packed(_carton_page())
_CARTON_PAGE_STATEMENT = CARTON_PAGE.statement
# Run through a lambda: SQLAlchemy finds a statement's compiled form by its cache key, hashed
# at every run, and this statement's is a tuple of thousands of parts (18 us to hash); the
# lambda's key is its code's
CARTON_PAGE_RUN = lambda_stmt(lambda: _CARTON_PAGE_STATEMENT)
HOLDS_OF = packed(
    select(_HOLDS).where(_HOLDS.c.carton_id == bindparam("carton")).order_by(_HOLDS.c.id)
)


@dataclass(frozen=True)
class Lineage:
    """The cartons a carton was repacked from (nearest first) and those repacked from it."""

    ancestors: list[Values]  # nearest first; as values (`_carton_values`)
    descendants: list[Values]  # every level, by id


@dataclass(frozen=True)
class CartonDetail:
    """A carton as values (`_carton_values`) with its children's ids, its holds (decided or
    not, oldest first), its history (each event with the codes of the sites and storage
    units it moved stock between: from_site, to_site, from_storage_unit, to_storage_unit)
    and its lineage."""

    carton: Values
    children: list[int]
    holds: list[Values]
    history: list[Values]
    lineage: Lineage


def carton_detail(session: Session, actor: Actor, carton_id: int) -> CartonDetail:
    """A carton with its history and whole lineage in one statement, however long either is
    (`_carton_page`); a second for its holds when it has any."""
    found = CARTON_PAGE.read(session.execute(CARTON_PAGE_RUN, {"carton": carton_id}))
    carton = found[0] if found else None
    if carton is None or not actor.sees_site(carton.site_id, carton.site_region):
        raise NotFound(f"no carton {carton_id}")
    holds = HOLDS_OF.rows(session, {"carton": carton_id}) if carton.has_holds else []
    kin = [_Kin._make(values) for values in carton.kin or ()]
    return CartonDetail(
        carton,
        _ids(carton.children),
        holds,
        _events_of(carton),
        Lineage(
            ancestors=sorted((k for k in kin if k.depth > 0), key=attrgetter("depth")),
            descendants=sorted((k for k in kin if k.depth < 0), key=attrgetter("id")),
        ),
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
