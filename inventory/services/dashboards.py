"""Coordinators' figures on waste and stock: waste rates against WHO's indicative rates, doses
expiring soon, days of cover against bookings. Each figure names the list behind it (the
query of the stock or ledger list that shows its cartons or events)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.db.models import Carton, CustodyEvent, Product, Site
from inventory.domain.errors import InvalidInput
from inventory.domain.stability import LOCAL_TIME
from inventory.domain.uptake import week_of
from inventory.domain.wastage import expected_rate, waste_rate
from inventory.services.access import Actor, require
from inventory.services.appointments import VACCINATION_SITE_KINDS, booked_counts, local_today

WASTE_BY = ("region", "site", "product", "reason")
LOST = ("wasted", "discarded")


def _region_in_scope(actor: Actor, region: str | None) -> str | None:
    require(actor, "uptake.read")
    if actor.role in ("coordinator", "pharmacist") and actor.region:
        if region and region != actor.region:
            raise InvalidInput(
                "that region is not yours", fields={"region": [f"you see {actor.region} only"]}
            )
        return actor.region
    return region


def waste(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    by: str = "region",
    region: str | None = None,
    weeks: int = 8,
) -> dict:
    """Waste rate per region, site, product or reason, week by week, against WHO's
    indicative rate for the vial sizes used."""
    if by not in WASTE_BY:
        raise InvalidInput("by what?", fields={"by": [f"one of {', '.join(WASTE_BY)}"]})
    region = _region_in_scope(actor, region)
    since = week_of(local_today(now)) - timedelta(weeks=weeks - 1)
    site = Site.__table__.alias("site")
    query = (
        select(
            site.c.region,
            site.c.code,
            Product.code,
            Product.doses_per_vial,
            CustodyEvent.bucket,
            CustodyEvent.reason,
            CustodyEvent.at,
            CustodyEvent.doses,
        )
        .join(site, site.c.id == CustodyEvent.from_site_id)
        .join(Carton, Carton.id == CustodyEvent.carton_id)
        .join(Product, Product.id == Carton.product_id)
        .where(
            CustodyEvent.bucket.in_(("administered", *LOST)),
            CustodyEvent.at >= datetime.combine(since, datetime.min.time(), LOCAL_TIME),
        )
    )
    if region:
        query = query.where(site.c.region == region)
    given: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    lost: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    mix: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for reg, code, product, per_vial, bucket, reason, at, doses in session.execute(query):
        week = week_of(at.astimezone(LOCAL_TIME).date())
        is_lost = bucket in LOST
        key = str({"region": reg, "site": code, "product": product}.get(by))
        if by == "reason":
            # a reason's waste is measured against every dose used or lost
            key = "*"
            if is_lost:
                why = reason if bucket == "wasted" else "discarded"
                lost[why][week] += doses
        (lost if is_lost else given)[key][week] += doses
        mix[key][per_vial] += doses
    if by == "reason":
        everything = {w: given["*"][w] + lost["*"][w] for w in set(given["*"]) | set(lost["*"])}
        keys = sorted(k for k in lost if k != "*")
        # against the doses used or lost, less the reason's own (they are its numerator)
        given = {k: {w: everything.get(w, 0) - lost[k][w] for w in everything} for k in keys}
        for k in keys:
            mix[k] = mix["*"]
    else:
        keys = sorted(set(given) | set(lost))
    weeks_shown = [since + timedelta(weeks=i) for i in range(weeks)]
    rows = []
    for key in keys:
        series: list[dict[str, Any]] = [
            {
                "week": w.isoformat(),
                "administered": given.get(key, {}).get(w, 0),
                "wasted": lost[key].get(w, 0),
                "rate": _round(waste_rate(lost[key].get(w, 0), given.get(key, {}).get(w, 0))),
            }
            for w in weeks_shown
        ]
        total_given = sum(x["administered"] for x in series)
        total_lost = sum(x["wasted"] for x in series)
        rows.append(
            {
                "key": key,
                "administered": total_given,
                "wasted": total_lost,
                "rate": _round(waste_rate(total_lost, total_given)),
                "indicative": _round(expected_rate(mix[key].items())),
                "weeks": series,
                "list": _ledger_link(by, key, since),
            }
        )
    return {"by": by, "region": region, "since": since.isoformat(), "rows": rows}


def _ledger_link(by: str, key: str, since: date) -> dict:
    """The ledger query behind a waste figure."""
    return {"by": by, "value": key, "since": since.isoformat(), "buckets": list(LOST)}


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def expiring(
    session: Session, actor: Actor, now: datetime, *, days: int = 7, region: str | None = None
) -> dict:
    """Doses in available cartons whose beyond-use date falls within ``days``, per site and
    product (each with the carton list behind it)."""
    region = _region_in_scope(actor, region)
    query = (
        select(Site.code, Site.name, Site.region, Product.code, func.sum(Carton.doses))
        .join(Site, Site.id == Carton.site_id)
        .join(Product, Product.id == Carton.product_id)
        .where(
            Carton.status == "available",
            Carton.doses > 0,
            Carton.bud > now,
            Carton.bud <= now + timedelta(days=days),
        )
        .group_by(Site.code, Site.name, Site.region, Product.code)
        .order_by(Site.code, Product.code)
    )
    if region:
        query = query.where(Site.region == region)
    rows = [
        {
            "site": code,
            "name": name,
            "region": reg,
            "product": product,
            "doses": int(doses),
            "list": {"site": code, "product": product, "status": "available"},
        }
        for code, name, reg, product, doses in session.execute(query)
    ]
    return {"days": days, "region": region, "rows": rows, "doses": sum(r["doses"] for r in rows)}


def cover(
    session: Session, actor: Actor, now: datetime, *, days: int = 14, region: str | None = None
) -> dict:
    """Days of cover per vaccination site: usable doses on hand over the appointments booked
    per day in the next ``days`` days."""
    region = _region_in_scope(actor, region)
    today = local_today(now)
    query = select(Site).where(Site.kind.in_(VACCINATION_SITE_KINDS)).order_by(Site.code)
    if region:
        query = query.where(Site.region == region)
    sites = list(session.scalars(query))
    ids = [s.id for s in sites]
    on_hand = dict(
        session.execute(
            select(Carton.site_id, func.sum(Carton.doses - Carton.open_vial_doses))
            .where(Carton.site_id.in_(ids or [-1]), Carton.status == "available", Carton.bud > now)
            .group_by(Carton.site_id)
        ).all()
    )
    booked: dict[int, int] = defaultdict(int)
    for (site_id, _day, _pid, _group), n in booked_counts(
        session, ids, today, today + timedelta(days=days - 1)
    ).items():
        booked[site_id] += n
    rows = []
    for site in sites:
        doses = int(on_hand.get(site.id) or 0)
        per_day = booked[site.id] / days
        rows.append(
            {
                "site": site.code,
                "name": site.name,
                "region": site.region,
                "doses": doses,
                "booked_per_day": round(per_day, 1),
                "days_of_cover": round(doses / per_day, 1) if per_day else None,
                "list": {"site": site.code, "status": "available"},
            }
        )
    return {"days": days, "region": region, "rows": rows}


def waste_events(
    session: Session,
    actor: Actor,
    *,
    by: str,
    value: str,
    since: date,
    region: str | None = None,
    limit: int = 500,
) -> list[dict]:
    """The ledger events behind a waste figure: doses wasted or discarded since ``since`` at
    a region, site or product, or for a reason (newest first)."""
    if by not in WASTE_BY:
        raise InvalidInput("by what?", fields={"by": [f"one of {', '.join(WASTE_BY)}"]})
    region = _region_in_scope(actor, region)
    query = (
        select(CustodyEvent, Site.code, Site.region, Product.code)
        .join(Site, Site.id == CustodyEvent.from_site_id)
        .join(Carton, Carton.id == CustodyEvent.carton_id)
        .join(Product, Product.id == Carton.product_id)
        .where(
            CustodyEvent.bucket.in_(LOST),
            CustodyEvent.at >= datetime.combine(since, datetime.min.time(), LOCAL_TIME),
        )
        .order_by(CustodyEvent.at.desc(), CustodyEvent.id.desc())
    )
    if region:
        query = query.where(Site.region == region)
    if by == "region":
        query = query.where(Site.region == value)
    elif by == "site":
        query = query.where(Site.code == value)
    elif by == "product":
        query = query.where(Product.code == value)
    elif value == "discarded":
        query = query.where(CustodyEvent.bucket == "discarded")
    else:
        query = query.where(CustodyEvent.bucket == "wasted", CustodyEvent.reason == value)
    return [
        {
            "at": event.at,
            "site": site,
            "region": reg,
            "product": product,
            "carton": event.carton_id,
            "doses": event.doses,
            "reason": event.reason if event.bucket == "wasted" else f"discarded: {event.reason}",
        }
        for event, site, reg, product in session.execute(query.limit(limit))
    ]
