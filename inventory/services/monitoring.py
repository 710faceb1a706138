"""What the cold chain looked like: a unit's readings (rolled up for long ranges), its time
in range, and its excursions."""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.orm import Session

from inventory.db.base import JSONText
from inventory.db.models import Site, StorageUnit
from inventory.db.telemetry import Excursion, Reading, ReadingRollup, UnitEvaluation
from inventory.domain.errors import InvalidInput, NotFound
from inventory.domain.readings import Bucket, merge_buckets, min_max_buckets, time_in_range
from inventory.services.access import Actor, require_visible
from inventory.services.common import site_by_code
from inventory.services.paging import FIRST_PAGE, Page, PageRequest, desc, paged

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


# A unit's raw readings from a time on (and before another): made once, run with the unit
# and the times
_RAW_SINCE = (
    select(Reading.ts, Reading.c)
    .where(Reading.storage_unit_id == bindparam("unit"), Reading.ts >= bindparam("start"))
    .order_by(Reading.ts)
)
_RAW = _RAW_SINCE.where(Reading.ts < bindparam("end"))

# The unit, its site's place for `sees`, and the version of its readings, in one row
_units, _sites, _evaluations = StorageUnit.__table__, Site.__table__, UnitEvaluation.__table__
_UNIT = (
    select(
        _units.c.id,
        _units.c.min_c,
        _units.c.max_c,
        _units.c.site_id,
        _sites.c.region,
        _evaluations.c.version,
    )
    .join_from(_units, _sites, _sites.c.id == _units.c.site_id)
    .outerjoin(_evaluations, _evaluations.c.storage_unit_id == _units.c.id)
    .where(_units.c.code == bindparam("code"))
)


class _Recent(NamedTuple):
    """A unit's readings from `start` on, as they were at `version` of its readings: their
    times and each one as its JSON object."""

    version: int
    start: datetime
    times: list[datetime]
    encoded: list[str]


# The live chart (the last day) is most of what is read: each unit's last day is kept here
# encoded, and read again only when the unit's readings changed. Storing readings changes
# the unit's version in the same transaction (telemetry.evaluate_units), and every read
# looks the version up with the unit, so nothing older than the database is ever sent.
RECENT = RAW_LIMIT + HOUR
_RECENT_UNITS = 500
_recent: dict[int, _Recent] = {}


def forget_recent_readings() -> None:
    _recent.clear()


def _encoded(rows) -> tuple[list[datetime], list[str]]:
    """The rows' times, and each reading as json.dumps writes it (sorted keys, no spaces)."""
    times, encoded = [], []
    for ts, c in rows:
        times.append(ts)
        encoded.append(f'{{"c":{c!r},"ts":"{ts.isoformat().replace("+00:00", "Z")}"}}')
    return times, encoded


def _readings_json(session: Session, unit, start: datetime, end: datetime, now: datetime):
    """The unit's readings in [start, end) as the answer's JSON array."""
    if unit.version is None or start < now - RECENT:
        period = {"unit": unit.id, "start": start, "end": end}
        times, encoded = _encoded(session.execute(_RAW, period))
    else:
        recent = _recent.get(unit.id)
        if recent is None or recent.version != unit.version or start < recent.start:
            since = now - RECENT
            rows = session.execute(_RAW_SINCE, {"unit": unit.id, "start": since})
            if len(_recent) >= _RECENT_UNITS:
                _recent.clear()
            recent = _recent[unit.id] = _Recent(unit.version, since, *_encoded(rows))
        times, encoded = recent.times, recent.encoded
    first, last = bisect_left(times, start), bisect_left(times, end)
    return JSONText("[" + ",".join(encoded[first:last]) + "]")


def _visible_unit(session: Session, actor: Actor, code: str):
    """The unit's values (`_UNIT`) if the actor sees its site."""
    unit = session.execute(_UNIT, {"code": code}).first()
    if unit is None or not actor.sees_site(unit.site_id, unit.region):
        raise NotFound(
            f"no storage unit with code {code!r}", fields={"storage_unit": ["unknown storage unit"]}
        )
    return unit


def readings(
    session: Session,
    actor: Actor,
    code: str,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    *,
    as_json: bool = False,
) -> dict:
    """Raw readings up to a day (with `as_json`, as the JSON text an answer sends), else
    min/max buckets."""
    unit = _visible_unit(session, actor, code)
    start, end = _period(start, end, now)
    if end - start <= RAW_LIMIT:
        raw = (
            _readings_json(session, unit, start, end, now)
            if as_json
            else session.execute(_RAW, {"unit": unit.id, "start": start, "end": end}).all()
        )
        return {
            "unit": unit,
            "from": start,
            "to": end,
            "resolution": "raw",
            "readings": raw,
            "buckets": None,
        }
    first_hour = start.replace(minute=0, second=0, microsecond=0)
    # plain rows, not ORM objects: a 90-day chart reads 2,160 of them
    rolled = session.execute(
        select(ReadingRollup.hour, ReadingRollup.min_c, ReadingRollup.max_c, ReadingRollup.count)
        .where(
            ReadingRollup.storage_unit_id == unit.id,
            ReadingRollup.hour >= first_hour,
            ReadingRollup.hour < end,
        )
        .order_by(ReadingRollup.hour)
    ).all()
    hours = [Bucket(h, low, high, n) for h, low, high, n in rolled if h >= start]
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
        "result": time_in_range([(p[0], p[1]) for p in points], unit.min_c, unit.max_c, start, end),
    }


def list_excursions(
    session: Session,
    actor: Actor,
    *,
    site: str | None = None,
    storage_unit: str | None = None,
    open_only: bool | None = None,
    page: PageRequest = FIRST_PAGE,
) -> Page[Excursion]:
    """Latest first, only at the sites the actor sees."""
    query = select(Excursion).where(actor.sees_site_id(Excursion.site_id))
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
    return paged(session, query, (desc(Excursion.started_at), desc(Excursion.id)), page)


# ---------------------------------------------------------------- hourly roll-ups

HOUR = timedelta(hours=1)


def roll_up(
    session: Session,
    now: datetime,
    *,
    settle: timedelta = HOUR,
    max_hours: int = 48,
    restate: timedelta = timedelta(hours=6),
) -> tuple[int, datetime | None]:
    """Minimum, maximum and count per storage unit and hour, from the raw readings.

    An hour is rolled up once it ended at least `settle` ago. Each run continues after the
    newest rolled-up hour for at most `max_hours` (skipping hours without readings), and
    recomputes the last `restate` of rolled-up hours, so readings that arrived late (a
    gateway's backlog) are counted. Rows are upserted and only written when they change, so
    a run can be repeated. Returns the number of roll-up rows written and where the run
    stopped (None when there was nothing to do)."""
    end = _floor_hour(now - settle)
    last = session.scalar(select(func.max(ReadingRollup.hour)))
    newer = select(func.min(Reading.ts)).where(Reading.ts < end)
    if last is not None:
        newer = newer.where(Reading.ts >= last + HOUR)
    first_new = session.scalar(newer)
    new_start = _floor_hour(first_new) if first_new is not None else end
    stop = min(end, new_start + max_hours * HOUR)
    start = new_start if last is None else min(new_start, end - restate)
    if start >= stop:
        return 0, None
    return _write_rollups(session, now, start, stop), stop


def _write_rollups(session: Session, now: datetime, start: datetime, stop: datetime) -> int:
    bucket = _hour_bucket(session).label("hour")
    rows = session.execute(
        select(
            Reading.storage_unit_id, bucket, func.min(Reading.c), func.max(Reading.c), func.count()
        )
        .where(Reading.ts >= start, Reading.ts < stop)
        .group_by(Reading.storage_unit_id, bucket)
    ).all()
    existing = {
        (r.storage_unit_id, r.hour): r
        for r in session.scalars(
            select(ReadingRollup).where(ReadingRollup.hour >= start, ReadingRollup.hour < stop)
        )
    }
    written = 0
    for unit_id, hour, min_c, max_c, count in rows:
        hour = _as_hour(hour, now)
        rollup = existing.get((unit_id, hour))
        if rollup is None:
            session.add(
                ReadingRollup(
                    storage_unit_id=unit_id, hour=hour, min_c=min_c, max_c=max_c, count=count
                )
            )
            written += 1
        elif (rollup.min_c, rollup.max_c, rollup.count) != (min_c, max_c, count):
            rollup.min_c, rollup.max_c, rollup.count = min_c, max_c, count
            written += 1
    return written


def _floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def _hour_bucket(session: Session):
    """The reading's hour as the backend can group by it (literals, not parameters, so the
    expression in SELECT and GROUP BY is the same one)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(
            literal_column("'hour'"), func.timezone(literal_column("'UTC'"), Reading.ts)
        )
    return func.strftime(literal_column("'%Y-%m-%d %H:00:00'"), Reading.ts)


def _as_hour(value, like: datetime) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (
        value.replace(tzinfo=like.tzinfo) if value.tzinfo is None else value.astimezone(like.tzinfo)
    )


def open_excursion_count(session: Session) -> int:
    """Excursions still going on everywhere (for monitoring, not for any actor)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Excursion)
            .where(Excursion.ended_at.is_(None), Excursion.closed_reason.is_(None))
        )
        or 0
    )
