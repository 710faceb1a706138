"""What the cold chain looked like: a unit's readings (rolled up for long ranges), its time
in range, and its excursions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.db.models import StorageUnit
from inventory.db.telemetry import Excursion, Reading, ReadingRollup
from inventory.domain.errors import InvalidInput
from inventory.domain.readings import Bucket, merge_buckets, min_max_buckets, time_in_range
from inventory.services.access import Actor, require_visible
from inventory.services.common import site_by_code, storage_unit_by_code

RAW_LIMIT = timedelta(hours=24)  # longer ranges come back as min/max buckets
MAX_BUCKETS = 500
HOUR = timedelta(hours=1)


def _period(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    end = end or now
    start = start or end - RAW_LIMIT
    if start >= end:
        raise InvalidInput("the period is empty", fields={"from": ["must be before to"]})
    return start, end


def _visible_unit(session: Session, actor: Actor, code: str) -> StorageUnit:
    unit = storage_unit_by_code(session, code)
    require_visible(actor, unit.site)
    return unit


def readings(
    session: Session,
    actor: Actor,
    code: str,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> dict:
    unit = _visible_unit(session, actor, code)
    start, end = _period(start, end, now)
    if end - start <= RAW_LIMIT:
        rows = session.execute(
            select(Reading.ts, Reading.c)
            .where(Reading.storage_unit_id == unit.id, Reading.ts >= start, Reading.ts < end)
            .order_by(Reading.ts)
        ).all()
        return {
            "unit": unit,
            "from": start,
            "to": end,
            "resolution": "raw",
            "readings": rows,
            "buckets": None,
        }
    first_hour = start.replace(minute=0, second=0, microsecond=0)
    rolled = session.scalars(
        select(ReadingRollup)
        .where(
            ReadingRollup.storage_unit_id == unit.id,
            ReadingRollup.hour >= first_hour,
            ReadingRollup.hour < end,
        )
        .order_by(ReadingRollup.hour)
    ).all()
    hours = [Bucket(r.hour, r.min_c, r.max_c, r.count) for r in rolled if r.hour >= start]
    covered_until = (rolled[-1].hour + HOUR) if rolled else start
    recent = session.execute(
        select(Reading.ts, Reading.c).where(
            Reading.storage_unit_id == unit.id,
            Reading.ts >= max(covered_until, start),
            Reading.ts < end,
        )
    ).all()
    hours += min_max_buckets(recent, first_hour, HOUR)
    width = HOUR
    while (end - start) / width > MAX_BUCKETS:
        width *= 2
    buckets = merge_buckets(sorted(hours, key=lambda b: b.start), first_hour, width)
    return {
        "unit": unit,
        "from": start,
        "to": end,
        "resolution": f"{int(width.total_seconds())}s",
        "readings": None,
        "buckets": buckets,
    }


def unit_time_in_range(
    session: Session,
    actor: Actor,
    code: str,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> dict:
    unit = _visible_unit(session, actor, code)
    start, end = _period(start, end, now)
    points = session.execute(
        select(Reading.ts, Reading.c)
        .where(Reading.storage_unit_id == unit.id, Reading.ts >= start - HOUR, Reading.ts < end)
        .order_by(Reading.ts)
    ).all()
    return {
        "unit": unit,
        "from": start,
        "to": end,
        "result": time_in_range([tuple(p) for p in points], unit.min_c, unit.max_c, start, end),
    }


def list_excursions(
    session: Session,
    actor: Actor,
    *,
    site: str | None = None,
    storage_unit: str | None = None,
    open_only: bool | None = None,
    limit: int = 500,
) -> list[Excursion]:
    query = select(Excursion).order_by(Excursion.started_at.desc())
    if site:
        at = site_by_code(session, site)
        require_visible(actor, at)
        query = query.where(Excursion.site_id == at.id)
    if storage_unit:
        query = query.where(
            Excursion.storage_unit_id == _visible_unit(session, actor, storage_unit).id
        )
    if open_only is True:
        query = query.where(Excursion.ended_at.is_(None))
    elif open_only is False:
        query = query.where(Excursion.ended_at.is_not(None))
    return [e for e in session.scalars(query.limit(limit)) if actor.sees(e.site)]
