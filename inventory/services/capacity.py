"""Honest capacity: how many more appointments the stock can serve, per site, day and product.

The doses a site can give on day ``d`` come from

- cartons on hand at the site (available: not held, not expired, not picked for a shipment);
- cartons in transit to the site (usable from today);
- cartons on the draft shipments of approved plans (usable from the planned delivery day).

A thawed carton counts through the last whole day before its beyond-use date; a frozen one as
if it were thawed on the first day it can be (at the site: today plus the product's thaw lead
time; on a planned shipment: its thaw task's day), so it counts until the end of its fridge
window or its printed expiry, whichever is first. The doses left in an already opened vial do
not count (they end with their session; the plan's fill-the-vial offers cover them).

A dose is promised once. Appointments already booked are served day by day, each from the
stock that runs out first among the stock usable that day (earliest deadline first, which
never serves fewer appointments than any other order). What is left is free: ``free`` on day
``d`` is the number of doses still usable on ``d`` once every booking (on every day, earlier
and later) has its dose, in whole appointments. Bookings that find no dose are reported as
``overbooked``. ``invitations`` for a range counts each free dose once: the doses left that
are usable on at least one day of the range.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.db.models import Carton, Lot, Product, Shipment, Site
from inventory.db.planning import Plan, PlanShipment, ThawTask
from inventory.domain.errors import InvalidInput
from inventory.domain.stability import LOCAL_TIME, State
from inventory.services.access import Actor
from inventory.services.appointments import VACCINATION_SITE_KINDS, booked_counts, local_today
from inventory.services.custody import profile_of

MAX_RANGE_DAYS = 92
# bookings this far beyond the asked range still claim their doses
LOOKAHEAD_DAYS = 56
FROZEN = (State.ULTRA_FROZEN.value, State.FROZEN.value)


def last_usable_day(bud: datetime) -> date:
    """The last local day that ends before the beyond-use moment (a whole day of use)."""
    return bud.astimezone(LOCAL_TIME).date() - timedelta(days=1)


def thawed_window_days(product: Product) -> int | None:
    """Whole days a thawed unit of the product keeps in the fridge (the shorter window where
    the label has two); None when the fridge window runs to the printed expiry."""
    window = profile_of(product).window(State.THAWED)
    if window is None or window.max_hours is None:
        return None
    hours = min(h for h in (window.max_hours, window.reduced_max_hours) if h is not None)
    return max(int(hours // 24), 0)


def thaw_lead_days(product: Product) -> int:
    return math.ceil((product.thaw_lead_hours or 0) / 24)


def last_day_if_thawed_on(product: Product, expiry: date, day: date) -> date:
    window = thawed_window_days(product)
    return expiry if window is None else min(expiry, day + timedelta(days=window - 1))


@dataclass
class _Lot:
    carton_id: int
    first: date
    last: date
    left: int


@dataclass(frozen=True)
class DayLine:
    site: str
    day: date
    product: str
    usable: int  # doses usable on the day, after earlier days' bookings took theirs
    booked: int
    free: int  # more appointments the stock can serve that day
    overbooked: int  # booked appointments no dose is left for
    standby: int = 0  # fill-the-vial offer of the latest approved plan (doses likely left)


@dataclass(frozen=True)
class Capacity:
    first: date
    last: date
    lines: list[DayLine]
    # per (site, product): doses left that are usable on some day of the range
    invitations: dict[tuple[str, str], int]
    booked: dict[tuple[str, str], int]
    overbooked: dict[tuple[str, str], int]


def sites_in_scope(
    session: Session, actor: Actor | None, *, site: str | None = None, region: str | None = None
) -> list[Site]:
    query = select(Site).where(Site.kind.in_(VACCINATION_SITE_KINDS)).order_by(Site.code)
    if site:
        found = session.scalar(select(Site).where(Site.code == site))
        if found is None or (actor is not None and not actor.sees(found)):
            raise InvalidInput(f"no site with code {site!r}", fields={"site": ["unknown site"]})
        if found.kind not in VACCINATION_SITE_KINDS:
            raise InvalidInput(
                f"{site} is a {found.kind}, not a vaccination site",
                fields={"site": ["not a vaccination site"]},
            )
        query = query.where(Site.id == found.id)
    if region:
        query = query.where(Site.region == region)
        if session.scalar(select(Site.id).where(Site.region == region).limit(1)) is None:
            raise InvalidInput(f"no region {region!r}", fields={"region": ["unknown region"]})
    return [s for s in session.scalars(query) if actor is None or actor.sees(s)]


def check_range(
    today: date, first: date | None, last: date | None, *, default_days: int = 14
) -> tuple[date, date]:
    first = first or today
    last = last or first + timedelta(days=default_days - 1)
    if first < today:
        raise InvalidInput(
            "capacity is for today or later", fields={"from": ["must be today or later"]}
        )
    if last < first:
        raise InvalidInput(
            "the range ends before it starts", fields={"to": ["must not be before from"]}
        )
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(
            "the range is too long", fields={"to": [f"at most {MAX_RANGE_DAYS} days after from"]}
        )
    return first, last


def capacity(
    session: Session,
    now: datetime,
    sites: list[Site],
    first: date,
    last: date,
    product: str | None = None,
) -> Capacity:
    today = local_today(now)
    products = {p.id: p for p in session.scalars(select(Product))}
    product_id = None
    if product:
        product_id = next((p.id for p in products.values() if p.code == product), None)
        if product_id is None:
            raise InvalidInput(
                f"no product with code {product!r}", fields={"product": ["unknown product"]}
            )
    site_ids = [s.id for s in sites]
    codes = {s.id: s.code for s in sites}
    horizon_end = last + timedelta(days=LOOKAHEAD_DAYS)
    lots = _lots(session, site_ids, today, products, product_id)
    bookings: dict[tuple[int, int], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for (site_id, day, pid, _group), n in booked_counts(
        session, site_ids, today, horizon_end, product_id
    ).items():
        bookings[(site_id, pid)][day] += n
    standby = standby_slots(session, first, last)

    lines: list[DayLine] = []
    invitations: dict[tuple[str, str], int] = {}
    booked_in_range: dict[tuple[str, str], int] = {}
    overbooked_in_range: dict[tuple[str, str], int] = {}
    for key in sorted(set(lots) | set(bookings), key=lambda k: (codes[k[0]], products[k[1]].code)):
        site_id, pid = key
        code, pcode = codes[site_id], products[pid].code
        own = sorted(lots.get(key, []), key=lambda x: (x.last, x.carton_id))
        per_day = bookings.get(key, {})
        last_booking = max(per_day, default=today)
        usable_at_start: dict[date, int] = {}
        short: dict[date, int] = {}
        day = today
        while day <= max(last, last_booking):
            usable_at_start[day] = sum(x.left for x in own if x.first <= day <= x.last)
            need = per_day.get(day, 0)
            for x in own:
                if need <= 0:
                    break
                if x.first <= day <= x.last and x.left:
                    take = min(x.left, need)
                    x.left -= take
                    need -= take
            short[day] = need
            day += timedelta(days=1)
        day = first
        while day <= last:
            free = sum(x.left for x in own if x.first <= day <= x.last)
            lines.append(
                DayLine(
                    code,
                    day,
                    pcode,
                    usable_at_start.get(day, 0),
                    per_day.get(day, 0),
                    free,
                    short.get(day, 0),
                    standby.get((code, day, pcode), 0),
                )
            )
            day += timedelta(days=1)
        invitations[(code, pcode)] = sum(x.left for x in own if x.first <= last and x.last >= first)
        booked_in_range[(code, pcode)] = sum(n for d, n in per_day.items() if first <= d <= last)
        overbooked_in_range[(code, pcode)] = sum(n for d, n in short.items() if first <= d <= last)
    return Capacity(first, last, lines, invitations, booked_in_range, overbooked_in_range)


def _lots(
    session: Session,
    site_ids: list[int],
    today: date,
    products: dict[int, Product],
    product_id: int | None,
) -> dict[tuple[int, int], list[_Lot]]:
    """Doses each site can count on, per (site id, product id), with the days they are usable."""
    lots: dict[tuple[int, int], list[_Lot]] = defaultdict(list)
    if not site_ids:
        return lots
    columns = (
        Carton.id,
        Carton.site_id,
        Carton.product_id,
        Carton.state,
        Carton.doses,
        Carton.open_vial_doses,
        Carton.bud,
        Lot.expiry,
    )

    def add(
        site_id: int,
        carton_id: int,
        pid: int,
        state: str,
        doses: int,
        open_doses: int,
        bud: datetime,
        expiry: date,
        arrives: date,
        thaw_day: date | None = None,
    ) -> None:
        product = products[pid]
        doses -= open_doses or 0
        if doses <= 0:
            return
        if state in FROZEN:
            thawed_on = max(thaw_day or today, today)
            first = max(arrives, thawed_on + timedelta(days=thaw_lead_days(product)))
            end = min(last_day_if_thawed_on(product, expiry, thawed_on), last_usable_day(bud))
        else:
            first, end = arrives, min(expiry, last_usable_day(bud))
        if end >= first:
            lots[(site_id, pid)].append(_Lot(carton_id, first, end, doses))

    def scoped(query):
        return query.where(Carton.product_id == product_id) if product_id is not None else query

    for chunk in _chunks(site_ids):
        on_hand = scoped(
            select(*columns)
            .join(Lot, Lot.id == Carton.lot_id)
            .where(
                Carton.site_id.in_(chunk),
                Carton.status == "available",
                Carton.in_transit.is_(False),
                Carton.shipment_id.is_(None),
            )
        )
        for cid, site_id, pid, state, doses, open_doses, bud, expiry in session.execute(on_hand):
            add(site_id, cid, pid, state, doses, open_doses, bud, expiry, today)
        in_transit = scoped(
            select(*columns, Shipment.to_site_id)
            .join(Lot, Lot.id == Carton.lot_id)
            .join(Shipment, Shipment.id == Carton.shipment_id)
            .where(
                Shipment.to_site_id.in_(chunk),
                Carton.in_transit.is_(True),
                Carton.status == "in_transit",
            )
        )
        for cid, _site, pid, state, doses, open_doses, bud, expiry, to_site in session.execute(
            in_transit
        ):
            add(to_site, cid, pid, state, doses, open_doses, bud, expiry, today)
        planned = scoped(
            select(*columns, PlanShipment.site_id, PlanShipment.day)
            .join(Lot, Lot.id == Carton.lot_id)
            .join(Shipment, Shipment.id == Carton.shipment_id)
            .join(PlanShipment, PlanShipment.shipment_id == Shipment.id)
            .join(Plan, Plan.id == PlanShipment.plan_id)
            .where(
                PlanShipment.site_id.in_(chunk),
                PlanShipment.withdrawn_at.is_(None),
                Plan.status == "approved",
                Shipment.status == "draft",
                Carton.status == "available",
            )
        )
        rows = session.execute(planned).all()
        thaw_days = (
            dict(
                session.execute(
                    select(ThawTask.carton_id, ThawTask.day).where(
                        ThawTask.carton_id.in_([r[0] for r in rows] or [-1]),
                        ThawTask.status == "open",
                    )
                ).all()
            )
            if rows
            else {}
        )
        for cid, _site, pid, state, doses, open_doses, bud, expiry, to_site, day in rows:
            add(
                to_site,
                cid,
                pid,
                state,
                doses,
                open_doses,
                bud,
                expiry,
                max(day, today),
                thaw_days.get(cid),
            )
    return lots


def _chunks(ids: list[int], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def standby_slots(session: Session, first: date, last: date) -> dict[tuple[str, date, str], int]:
    """Fill-the-vial offers (doses likely left in opened vials), per (site, day, product), by
    each pharmacy's approved plan."""
    slots: dict[tuple[str, date, str], int] = {}
    for plan in session.scalars(select(Plan).where(Plan.status == "approved")):
        for offer in plan.result.get("fill_the_vial", []):
            day = date.fromisoformat(offer["day"])
            if first <= day <= last and standby_slots_of(offer) > 0:
                slots[(offer["site"], day, offer["product"])] = standby_slots_of(offer)
    return slots


def standby_slots_of(offer: dict) -> int:
    """A stored fill-the-vial offer's standby slots (plans stored before they were
    computed offered the doses left)."""
    return int(offer.get("standby_slots", offer.get("doses_left", 0)))
