"""Free appointments for citizens: per vaccination site, day and product, each dose promised
once (``inventory.domain.availability``), with what a citizen needs to find the site.

The stock left once every booking has its dose comes from the capacity service (the same
count as ``GET /api/v1/capacity``); a site's appointment slots come from its opening hours and
hourly rate (``inventory.domain.sites``); today counts only the hours still ahead.
Aggregated figures only: no booking reference, no carton, lot or storage unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.db.models import Product, Site
from inventory.domain import geo
from inventory.domain.availability import SiteDay, first_free_day, promise_once, unbooked_slots
from inventory.domain.sites import slots_on
from inventory.domain.stability import LOCAL_TIME
from inventory.services import capacity
from inventory.services.appointments import local_today
from inventory.services.catalogue import booking_url_of, national_booking_url

DAYS = 14
SOON_DAYS = 7  # the map colours a site by its free appointments in this many days


@dataclass(frozen=True)
class SiteAvailability:
    site: Site
    days: list[SiteDay]
    has_stock_or_bookings: bool

    @property
    def free_total(self) -> int:
        return sum(d.total for d in self.days)

    @property
    def free_soon(self) -> int:
        return sum(d.total for d in self.days[:SOON_DAYS])

    @property
    def first_free_day(self) -> date | None:
        return first_free_day(self.days)


def promised(
    session: Session, now: datetime, sites: list[Site], first: date, last: date
) -> list[SiteAvailability]:
    """Free appointments per site, day and product from ``first`` to ``last``, every dose
    promised once across those days (earlier days first)."""
    left = capacity.left_after_bookings(session, now, sites, first, last)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    local_now = now.astimezone(LOCAL_TIME)
    result = []
    for site in sites:
        booked = left.booked_per_day.get(site.code, {})
        unbooked = {
            d: unbooked_slots(
                slots_on(site.opening_hours, site.slots_per_hour, d, local_now), booked.get(d, 0)
            )
            for d in days
        }
        stock = left.stock.get(site.code, {})
        result.append(
            SiteAvailability(site, promise_once(stock, days, unbooked), bool(stock) or bool(booked))
        )
    return result


def public_overview(session: Session, now: datetime, days: int = DAYS) -> dict:
    """The public overview of every vaccination site for the next ``days`` days."""
    first = local_today(now)
    last = first + timedelta(days=days - 1)
    sites = capacity.sites_in_scope(session, None)
    found = promised(session, now, sites, first, last)
    names = dict(session.execute(select(Product.code, Product.name)).all())
    national = national_booking_url(session)
    used = sorted({p for s in found for d in s.days for p in d.free})
    return {
        "generated_at": _iso(now),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "days": [(first + timedelta(days=i)).isoformat() for i in range(days)],
        "products": {p: names.get(p, p) for p in used},
        "sites": [_site_json(s, national) for s in found],
    }


def _site_json(found: SiteAvailability, national: str | None) -> dict:
    site = found.site
    municipality = geo.municipalities().get(site.municipality_code or "")
    first = found.first_free_day
    return {
        "site": site.code,
        "name": site.name,
        "region": site.region,
        "kind": site.kind,
        "address": site.address,
        "postcode": site.postcode,
        "town": site.town,
        "municipality": municipality.name if municipality else None,
        "municipality_code": site.municipality_code,
        "lat": site.lat,
        "lon": site.lon,
        "opening_hours": site.opening_hours,
        "drop_in": bool(site.drop_in),
        "booking_url": booking_url_of(site, national),
        "accessibility": site.accessibility,
        "free_total": found.free_total,
        "free_next_7_days": found.free_soon,
        "first_free_day": first.isoformat() if first else None,
        "listed": found.has_stock_or_bookings,
        "days": [
            {"day": d.day.isoformat(), "free": dict(sorted(d.free.items())), "total": d.total}
            for d in found.days
        ],
    }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def select_sites(
    overview: dict,
    *,
    near: geo.Place | None = None,
    product: str | None = None,
    kind: str | None = None,
) -> list[dict]:
    """The overview's sites a citizen asked for: of ``kind``, with free appointments for
    ``product`` on some day shown; nearest first when a place is given (each with
    ``distance_km``, from the postcode's or municipality's centre), else those with a free
    appointment soonest first, then by region and name."""
    sites = [
        s
        for s in overview["sites"]
        if (kind is None or s["kind"] == kind)
        and (product is None or any(product in d["free"] for d in s["days"]))
    ]
    if near is None:
        return sorted(
            sites,
            key=lambda s: (
                free_of(s, product)[1] or "9999",
                s["region"],
                s["name"],
            ),
        )
    located = []
    for s in sites:
        if s["lat"] is None or s["lon"] is None:
            continue
        distance = geo.distance_km(near.lat, near.lon, s["lat"], s["lon"])
        located.append({**s, "distance_km": round(distance, 1)})
    return sorted(located, key=lambda s: (s["distance_km"], s["name"]))


def free_of(site: dict, product: str | None) -> tuple[int, str | None]:
    """Free appointments over the days shown and the first day with one, for one product or
    all."""
    if product is None:
        return site["free_total"], site["first_free_day"]
    days = [(d["day"], d["free"].get(product, 0)) for d in site["days"]]
    return sum(n for _, n in days), next((day for day, n in days if n), None)
