"""Figures for the staff overviews: every storage unit with its newest reading and open
trouble, a unit's chart with what it hides nowhere (extremes, excursions, time out of range),
a region's sites side by side, and a lot's cartons with what became of them. Each figure is
one query across all the sites asked for, never one per site."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from inventory.db.models import (
    Carton,
    CustodyEvent,
    Product,
    Shipment,
    ShipmentItem,
    Site,
    StorageUnit,
)
from inventory.db.telemetry import Alert, Device, Excursion, Reading
from inventory.domain.errors import InvalidInput
from inventory.domain.stability import LOCAL_TIME
from inventory.services import dashboards, lots, monitoring, stock
from inventory.services.access import Actor, require_visible
from inventory.services.alerts import SILENT_AFTER_INTERVALS
from inventory.services.appointments import local_today
from inventory.services.common import site_by_code, storage_unit_by_code

WASTE_WINDOWS = (7, 28)  # days, today included
LOST = dashboards.LOST


# ---------------------------------------------------------------- storage units


@dataclass
class UnitRow:
    unit: StorageUnit
    reading_at: datetime | None = None
    reading_c: float | None = None
    age_s: float | None = None
    stale: bool = False
    logged: bool = False  # an active logger hangs in it
    stale_after_s: float | None = None
    open_excursions: int = 0
    open_alerts: int = 0

    @property
    def out_of_range(self) -> bool:
        c = self.reading_c
        return c is not None and not (self.unit.min_c < c < self.unit.max_c)


def unit_board(
    session: Session, actor: Actor, now: datetime, *, site: str | None = None
) -> list[UnitRow]:
    """Every storage unit the actor sees (of one site, if named), by site and code, with its
    newest reading, whether that is stale (three of its logger's intervals old, as the silence
    alarm counts), and its open excursions and alerts."""
    query = select(StorageUnit).join(Site).where(actor.sees_site_id(StorageUnit.site_id))
    if site:
        at = site_by_code(session, site)
        require_visible(actor, at)
        query = query.where(StorageUnit.site_id == at.id)
    units = list(session.scalars(query.order_by(Site.code, StorageUnit.code)))
    ids = [u.id for u in units] or [-1]
    rows = {u.id: UnitRow(u) for u in units}
    for unit_id, ts, c, interval_s in _newest_readings(session, ids):
        row = rows[unit_id]
        row.logged = True
        after = float(SILENT_AFTER_INTERVALS * interval_s)
        row.stale_after_s = min(row.stale_after_s or after, after)
        if ts is not None and (row.reading_at is None or ts > row.reading_at):
            row.reading_at, row.reading_c = ts, c
            row.age_s = (now - ts).total_seconds()
    for row in rows.values():
        limit = row.stale_after_s
        row.stale = limit is not None and (row.age_s is None or row.age_s >= limit)
    open_excursions = Excursion.ended_at.is_(None)
    for unit_id, n in _count_by(session, Excursion.storage_unit_id, ids, open_excursions):
        rows[unit_id].open_excursions = n
    for unit_id, n in _count_by(session, Alert.storage_unit_id, ids, Alert.state == "open"):
        rows[unit_id].open_alerts = n
    return list(rows.values())


def _newest_readings(session: Session, unit_ids: list[int]):
    """(unit, time, temperature, interval) of each active logger's newest reading in its
    unit: found through the logger's own mark, one indexed look-up each, never a scan."""
    return session.execute(
        select(Device.storage_unit_id, Reading.ts, Reading.c, Device.interval_s)
        .outerjoin(
            Reading,
            and_(
                Reading.device_id == Device.id,
                Reading.ts == Device.last_reading_at,
                Reading.storage_unit_id == Device.storage_unit_id,
            ),
        )
        .where(Device.status == "active", Device.storage_unit_id.in_(unit_ids))
    ).all()


def _count_by(session: Session, column, ids: list[int], condition):
    return session.execute(
        select(column, func.count()).where(column.in_(ids), condition).group_by(column)
    ).all()


# ---------------------------------------------------------------- a unit's chart


@dataclass
class Chart:
    """What a unit's chart draws: raw readings for short periods, each bucket's minimum and
    maximum for long ones, the allowed range and the excursions in the period."""

    unit: StorageUnit
    start: datetime
    end: datetime
    resolution: str
    points: list[tuple[datetime, float]] = field(default_factory=list)
    bands: list[tuple[datetime, float, float]] = field(default_factory=list)
    excursions: list[Excursion] = field(default_factory=list)
    min_c: float | None = None
    max_c: float | None = None
    above_s: float = 0.0
    below_s: float = 0.0
    covered_s: float = 0.0


def unit_chart(
    session: Session,
    actor: Actor,
    code: str,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> Chart:
    found = monitoring.readings(session, actor, code, start, end, now)  # `sees` checked there
    unit = storage_unit_by_code(session, code)
    chart = Chart(unit, found["from"], found["to"], found["resolution"])
    if found["readings"] is not None:
        chart.points = [(ts, c) for ts, c in found["readings"]]
        values = [c for _, c in chart.points]
        lows, highs = values, values
    else:
        chart.bands = [(b.start, b.min_c, b.max_c) for b in found["buckets"]]
        lows, highs = [b[1] for b in chart.bands], [b[2] for b in chart.bands]
    chart.min_c = min(lows) if lows else None
    chart.max_c = max(highs) if highs else None
    spent = monitoring.unit_time_in_range(session, actor, code, chart.start, chart.end, now)
    result = spent["result"]
    chart.above_s, chart.below_s, chart.covered_s = result.above_s, result.below_s, result.covered_s
    chart.excursions = list(
        session.scalars(
            select(Excursion)
            .where(
                Excursion.storage_unit_id == unit.id,
                Excursion.started_at < chart.end,
                (Excursion.ended_at.is_(None)) | (Excursion.ended_at >= chart.start),
            )
            .order_by(Excursion.started_at)
        )
    )
    return chart


def unit_alerts(session: Session, actor: Actor, code: str, *, limit: int = 100) -> list[Alert]:
    """The unit's alerts, open ones first, newest reading first."""
    unit = storage_unit_by_code(session, code)
    require_visible(actor, unit.site)
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.storage_unit_id == unit.id)
            .order_by(case((Alert.state == "open", 0), else_=1), Alert.at.desc(), Alert.id.desc())
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- a region's sites


@dataclass
class SiteFigures:
    site: Site
    doses: dict[str, int] = field(default_factory=dict)  # usable (available) by product
    held: int = 0
    days_of_cover: float | None = None
    booked_per_day: float | None = None
    open_excursions: int = 0
    open_alerts: int = 0
    wasted: dict[int, int] = field(default_factory=dict)  # by window in days


def region_sites(session: Session, actor: Actor, now: datetime, region: str | None) -> dict:
    """A row per site of the region the actor sees: usable doses by product, held doses,
    days of cover against bookings, open excursions and alerts, doses wasted or discarded in
    the last 7 and 28 days (with the day each window starts, for the list behind it)."""
    covered = dashboards.cover(session, actor, now, region=region)  # refuses another region
    region = covered["region"] or region
    if region is None:
        raise InvalidInput("which region?", fields={"region": ["required"]})
    lines = stock.stock_in_region(session, actor, region)
    rows = {entry["site"].id: SiteFigures(entry["site"]) for entry in lines}
    for entry in lines:
        row = rows[entry["site"].id]
        for line in entry["lines"]:
            if line["available"]:
                row.doses[line["product"]] = row.doses.get(line["product"], 0) + line["available"]
            row.held += line["held"]
    by_code = {row.site.code: row for row in rows.values()}
    for cover in covered["rows"]:
        if cover["site"] in by_code:
            by_code[cover["site"]].days_of_cover = cover["days_of_cover"]
            by_code[cover["site"]].booked_per_day = cover["booked_per_day"]
    ids = list(rows)
    for site_id, n in _count_by(session, Excursion.site_id, ids, Excursion.ended_at.is_(None)):
        rows[site_id].open_excursions = n
    for site_id, n in _count_by(session, Alert.site_id, ids, Alert.state == "open"):
        rows[site_id].open_alerts = n
    since = waste_since(now)
    for site_id, window, doses in _waste(session, ids, since):
        rows[site_id].wasted[window] = doses
    products = sorted({p for row in rows.values() for p in row.doses})
    names = dict(
        session.execute(select(Product.code, Product.name).where(Product.code.in_(products))).all()
    )
    return {
        "region": region,
        "rows": list(rows.values()),
        "products": products,
        "product_names": names,
        "since": since,
    }


def waste_since(now: datetime) -> dict[int, date]:
    """The first day of each waste window (today counts as its last day)."""
    today = local_today(now)
    return {days: today - timedelta(days=days - 1) for days in WASTE_WINDOWS}


def _waste(session: Session, site_ids: list[int], since: dict[int, date]):
    """Doses wasted or discarded per site in each window, in one pass over the ledger."""
    starts = {d: datetime.combine(s, datetime.min.time(), LOCAL_TIME) for d, s in since.items()}
    sums = [
        func.coalesce(
            func.sum(case((CustodyEvent.at >= starts[d], CustodyEvent.doses), else_=0)), 0
        )
        for d in WASTE_WINDOWS
    ]
    rows = session.execute(
        select(CustodyEvent.from_site_id, *sums)
        .where(
            CustodyEvent.bucket.in_(LOST),
            CustodyEvent.from_site_id.in_(site_ids or [-1]),
            CustodyEvent.at >= min(starts.values()),
        )
        .group_by(CustodyEvent.from_site_id)
    ).all()
    for site_id, *doses in rows:
        for days, n in zip(WASTE_WINDOWS, doses, strict=True):
            yield site_id, days, int(n)


# ---------------------------------------------------------------- a lot's cartons


@dataclass
class CartonTrace:
    carton: Carton
    depth: int = 0  # how many repacks from the received tray
    administered: int = 0
    wasted: int = 0
    shipments: list[Shipment] = field(default_factory=list)


def lot_tree(session: Session, actor: Actor, lot_id: int) -> dict:
    """`lots.trace` with each carton placed under the one it was repacked from, and its doses
    given and lost and the shipments it travelled on."""
    traced = lots.trace(session, actor, lot_id)
    cartons = traced["cartons"]
    ids = [c.id for c in cartons] or [-1]
    given: dict[int, dict[str, int]] = defaultdict(dict)
    for carton_id, bucket, doses in session.execute(
        select(CustodyEvent.carton_id, CustodyEvent.bucket, func.sum(CustodyEvent.doses))
        .where(CustodyEvent.carton_id.in_(ids), CustodyEvent.bucket.is_not(None))
        .group_by(CustodyEvent.carton_id, CustodyEvent.bucket)
    ):
        given[carton_id][str(bucket)] = int(doses)
    travelled: dict[int, list[Shipment]] = defaultdict(list)
    for carton_id, shipment in session.execute(
        select(ShipmentItem.carton_id, Shipment)
        .join(Shipment, Shipment.id == ShipmentItem.shipment_id)
        .where(ShipmentItem.carton_id.in_(ids), Shipment.status != "draft")
        .order_by(Shipment.dispatched_at, Shipment.id)
    ):
        travelled[carton_id].append(shipment)
    rows = [
        CartonTrace(
            c,
            administered=given[c.id].get("administered", 0),
            wasted=sum(given[c.id].get(b, 0) for b in LOST),
            shipments=travelled[c.id],
        )
        for c in cartons
    ]
    return {**traced, "tree": _as_tree(rows)}


def _as_tree(rows: list[CartonTrace]) -> list[CartonTrace]:
    """Depth first: each carton followed by those repacked from it (a carton whose parent
    the actor does not see starts a tree of its own)."""
    known = {r.carton.id for r in rows}
    children: dict[int | None, list[CartonTrace]] = defaultdict(list)
    for r in rows:
        parent = r.carton.parent_id if r.carton.parent_id in known else None
        children[parent].append(r)
    ordered: list[CartonTrace] = []
    stack = [(r, 0) for r in reversed(children[None])]
    while stack:
        row, depth = stack.pop()
        row.depth = depth
        ordered.append(row)
        stack.extend((c, depth + 1) for c in reversed(children[row.carton.id]))
    return ordered
