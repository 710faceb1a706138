"""Honest capacity: how many more appointments the stock can serve, per site, day and product.

The doses a site can give on day ``d`` come from

- cartons on hand at the site (available: not held, not expired, not picked for a shipment);
- cartons in transit to the site (usable from today);
- cartons on the draft shipments of approved plans (usable from the planned delivery day).

A thawed carton counts through the last whole day before its beyond-use date; a frozen one as
if it were thawed on the first day it can be (at the site: today plus the product's thaw lead
time; on a planned shipment: its thaw task's day), so it counts until the end of its fridge
window or its printed expiry, whichever is first (``domain.custody.usable_days``). The doses
left in an already opened vial do not count (they end with their session; the plan's
fill-the-vial offers cover them).

Bookings are served from that stock as ``domain.capacity.serve`` says: a dose is promised once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.db.models import Product, Site
from inventory.db.planning import Appointment, Plan
from inventory.domain import custody as rules
from inventory.domain.capacity import CountedDoses, Served, left_after, serve
from inventory.domain.errors import InvalidInput
from inventory.services.access import Actor
from inventory.services.appointments import VACCINATION_SITE_KINDS, local_today
from inventory.services.custody import profile_of
from inventory.services.site_stock import (
    CountedCarton,
    Whereabouts,
    chunks,
    stock_sites_count_on,
)

MAX_RANGE_DAYS = 92
# bookings this far beyond the asked range still claim their doses
LOOKAHEAD_DAYS = 56


def thawed_window_days(product: Product) -> int | None:
    """Whole days a thawed unit of the product keeps in the fridge (None: to its expiry)."""
    return rules.thawed_window_days(profile_of(product))


def thaw_lead_days(product: Product) -> int:
    return rules.thaw_lead_days(product.thaw_lead_hours)


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
    served = _served(session, now, sites, first, last, product)
    standby = standby_slots(session, first, last)
    result = Capacity(first, last, [], {}, {}, {})
    for (code, pcode), one in served.items():
        result.lines.extend(
            DayLine(
                code,
                d.day,
                pcode,
                d.usable,
                d.booked,
                d.free,
                d.overbooked,
                standby.get((code, d.day, pcode), 0),
            )
            for d in one.days
        )
        result.invitations[(code, pcode)] = one.invitations
        result.booked[(code, pcode)] = one.booked
        result.overbooked[(code, pcode)] = one.overbooked
    return result


@dataclass(frozen=True)
class LeftAfterBookings:
    """What the public view promises from: per site code and product code, the doses left
    once every booking has its dose; per site code and day, the appointments booked (all
    products together: each takes a slot)."""

    stock: dict[str, dict[str, list[CountedDoses]]]
    booked_per_day: dict[str, dict[date, int]]


def left_after_bookings(
    session: Session, now: datetime, sites: list[Site], first: date, last: date
) -> LeftAfterBookings:
    today = local_today(now)
    products = {p.id: p for p in session.scalars(select(Product))}
    site_ids = [s.id for s in sites]
    codes = {s.id: s.code for s in sites}
    counted = _counted_doses(session, site_ids, today, products, None)
    bookings = _bookings(session, site_ids, today, last + timedelta(days=LOOKAHEAD_DAYS), None)
    stock: dict[str, dict[str, list[CountedDoses]]] = defaultdict(dict)
    booked: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for key in set(counted) | set(bookings):
        code, pcode = codes[key[0]], products[key[1]].code
        per_day = bookings.get(key, {})
        left = left_after(counted.get(key, []), per_day)
        if left:
            stock[code][pcode] = left
        for day, n in per_day.items():
            if first <= day <= last:
                booked[code][day] += n
    return LeftAfterBookings(dict(stock), {k: dict(v) for k, v in booked.items()})


def _served(
    session: Session,
    now: datetime,
    sites: list[Site],
    first: date,
    last: date,
    product: str | None = None,
) -> dict[tuple[str, str], Served]:
    """Every booking served from the stock each site counts on, per (site code, product
    code), in that order."""
    today = local_today(now)
    products = {p.id: p for p in session.scalars(select(Product))}
    product_id = _product_id(products, product)
    site_ids = [s.id for s in sites]
    codes = {s.id: s.code for s in sites}
    stock = _counted_doses(session, site_ids, today, products, product_id)
    bookings = _bookings(
        session, site_ids, today, last + timedelta(days=LOOKAHEAD_DAYS), product_id
    )
    keys = sorted(set(stock) | set(bookings), key=lambda k: (codes[k[0]], products[k[1]].code))
    return {
        (codes[key[0]], products[key[1]].code): serve(
            stock.get(key, []), bookings.get(key, {}), today, first, last
        )
        for key in keys
    }


def _product_id(products: dict[int, Product], code: str | None) -> int | None:
    if not code:
        return None
    found = next((p.id for p in products.values() if p.code == code), None)
    if found is None:
        raise InvalidInput(
            f"no product with code {code!r}", fields={"product": ["unknown product"]}
        )
    return found


def _bookings(
    session: Session, site_ids: list[int], today: date, until: date, product_id: int | None
) -> dict[tuple[int, int], dict[date, int]]:
    """Booked (not cancelled) appointments per (site id, product id) and day, all groups
    together: counted by the database, one row per site, day and product."""
    query = (
        select(Appointment.site_id, Appointment.product_id, Appointment.day, func.count())
        .where(Appointment.status == "booked", Appointment.day >= today, Appointment.day <= until)
        .group_by(Appointment.site_id, Appointment.product_id, Appointment.day)
    )
    if product_id is not None:
        query = query.where(Appointment.product_id == product_id)
    bookings: dict[tuple[int, int], dict[date, int]] = defaultdict(dict)
    for chunk in chunks(site_ids):
        for site_id, pid, day, n in session.execute(query.where(Appointment.site_id.in_(chunk))):
            bookings[(site_id, pid)][day] = n
    return bookings


def _counted_doses(
    session: Session,
    site_ids: list[int],
    today: date,
    products: dict[int, Product],
    product_id: int | None,
) -> dict[tuple[int, int], list[CountedDoses]]:
    """Doses each site can count on, per (site id, product id), with the days they are usable."""
    # a product's fridge window and thaw lead, worked out once rather than for every carton
    keeping = {pid: (thawed_window_days(p), thaw_lead_days(p)) for pid, p in products.items()}
    counted: dict[tuple[int, int], list[CountedDoses]] = defaultdict(list)
    for c in stock_sites_count_on(session, site_ids, product_id):
        doses = c.doses - c.open_vial_doses
        days = _usable_days(c, today, *keeping[c.product_id])
        if doses > 0 and days is not None:
            counted[(c.site_id, c.product_id)].append(
                CountedDoses(c.id, days.first, days.last, doses)
            )
    return counted


def _usable_days(
    c: CountedCarton, today: date, window_days: int | None, lead_days: int
) -> rules.UsableDays | None:
    if c.whereabouts is Whereabouts.ON_DRAFT:
        if c.delivery_day is None:
            return None  # a draft no approved plan delivers is not counted on
        arrives = max(c.delivery_day, today)
    else:
        arrives = today
    return rules.usable_days(
        state=c.state,
        expiry=c.expiry,
        bud=c.bud,
        arrives=arrives,
        today=today,
        window_days=window_days,
        lead_days=lead_days,
        thaw_day=c.thaw_day,
    )


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
