"""Readings in, excursions out: store each reading once, evaluate each storage unit's rules
in device-time order, hold the stock an excursion exposed, and raise the alerts.

Live readings feed each unit's saved evaluator on; a reading that arrives late (a gateway's
backlog, a redelivery) makes the unit replay its recent history instead, so late and
backfilled readings give the same excursions as live ones. Applying an evaluation is
idempotent: excursions are keyed by (unit, direction, start), alerts by (excursion, kind),
holds by (carton, excursion).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple, cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from inventory.db import bulk
from inventory.db.models import Carton, Product, StorageUnit
from inventory.db.telemetry import (
    Alert,
    CartonExposure,
    DeadLetter,
    Device,
    Excursion,
    Reading,
    UnitEvaluation,
)
from inventory.db.values import in_list
from inventory.domain import excursions as engine
from inventory.domain import stability
from inventory.domain.custody import PRESENT_STATUSES, CartonStatus, status_after_change
from inventory.domain.stability import FROZEN_STATES, State
from inventory.services import alerts
from inventory.services.access import SYSTEM
from inventory.services.custody import clock_of, place_hold, profile_of, set_clock

# A late reading replays the unit from this far before it: longer than any cumulative window.
REPLAY_LOOKBACK = timedelta(hours=26)
BATTERY_LOW = 0.2
BATTERY_OK = 0.3
STOCK_STATUSES = PRESENT_STATUSES


class IncomingReading(NamedTuple):
    """A decoded reading, one of thousands a second: a named tuple is cheap to make."""

    device_id: str
    ts: datetime
    c: float


@dataclass(frozen=True)
class IncomingReject:
    topic: str
    device_id: str | None
    reason: str
    raw: str


@dataclass
class IngestBatch:
    readings: list[IncomingReading] = field(default_factory=list)
    rejects: list[IncomingReject] = field(default_factory=list)
    batteries: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    alert_ids: list[int] = field(default_factory=list)
    holds: int = 0


def _topic(device_id: str) -> str:
    return f"coldchain/v1/devices/{device_id}/readings"


def ingest(session: Session, now: datetime, batch: IngestBatch) -> IngestResult:
    """Store a batch of readings and everything that follows from them. Only flushes."""
    result = IngestResult()
    for reject in batch.rejects:
        _dead_letter(session, now, reject)
    result.rejected += len(batch.rejects)

    ids = {r.device_id for r in batch.readings} | set(batch.batteries) | set(batch.statuses)
    devices = _devices(session, ids)

    accepted: dict[tuple[str, datetime], IncomingReading] = {}
    for reading in batch.readings:
        device = devices.get(reading.device_id)
        problem = _device_problem(device)
        if problem:
            _dead_letter(
                session,
                now,
                IncomingReject(
                    _topic(reading.device_id),
                    reading.device_id,
                    problem,
                    f'{{"ts": "{reading.ts.isoformat()}", "c": {reading.c}}}',
                ),
            )
            result.rejected += 1
            continue
        key = (reading.device_id, reading.ts)
        if key in accepted:
            result.duplicates += 1
            continue
        accepted[key] = reading

    new = _store_readings(session, now, devices, list(accepted.values()))
    result.stored = len(new)
    result.duplicates += len(accepted) - len(new)

    for device_id, level in batch.batteries.items():
        device = devices.get(device_id)
        if device is not None and not _device_problem(device):
            _battery(session, now, session.get_one(Device, device_id), level, result)
    for device_id, status in batch.statuses.items():
        if device_id in devices:
            device = session.get_one(Device, device_id)
            device.connection = status
            device.last_heard_at = now

    by_unit: dict[int, list[engine.Reading]] = defaultdict(list)
    newest: dict[str, datetime] = {}
    for reading in new:
        by_unit[devices[reading.device_id].storage_unit_id].append(
            engine.Reading(reading.ts, reading.c)
        )
        if reading.device_id not in newest or reading.ts > newest[reading.device_id]:
            newest[reading.device_id] = reading.ts
    _heard(session, now, newest)
    if by_unit:
        evaluate_units(session, now, by_unit, result)
    return result


def _devices(session: Session, ids: set[str]) -> dict:
    """What the hot path needs of each device, as plain rows: no objects to track per reading."""
    if not ids:
        return {}
    table = Device.__table__
    return {
        row.id: row
        for row in session.execute(
            select(table.c.id, table.c.status, table.c.storage_unit_id).where(
                in_list(table.c.id, ids)
            )
        )
    }


def _device_problem(device) -> str | None:
    if device is None:
        return "unknown_device"
    if device.status != "active":
        return f"{device.status}_device"
    if device.storage_unit_id is None:
        return "unattached_device"
    return None


def _dead_letter(session: Session, now: datetime, reject: IncomingReject) -> None:
    code, _, detail = reject.reason.partition(":")
    session.add(
        DeadLetter(
            received_at=now,
            topic=reject.topic[:300],
            device_id=(reject.device_id or "")[:200] or None,
            reason=code.strip()[:64],
            detail=detail.strip() or None,
            raw=reject.raw[:2000],
        )
    )


def _store_readings(
    session: Session, now: datetime, devices: dict, readings: list[IncomingReading]
) -> list[IncomingReading]:
    """Insert, skipping any (device, ts) already stored; return the readings that were new."""
    if not readings:
        return []
    rows = [(r.device_id, devices[r.device_id].storage_unit_id, r.ts, r.c) for r in readings]
    stored = bulk.insert_new_readings(session, rows, now)
    return [r for r in readings if (r.device_id, r.ts) in stored]


def _heard(session: Session, now: datetime, newest: dict[str, datetime]) -> None:
    """Note when each device was last heard and its newest reading, in one statement for the
    batch, and end the silence of any of them that had fallen silent."""
    if not newest:
        return
    bulk.mark_devices_heard(session, now, newest)
    # heard again: the silence is over (the alarm keeps its record)
    session.execute(
        update(Alert)
        .where(
            Alert.kind == "device_silent",
            Alert.state == "open",
            in_list(Alert.device_id, newest),
        )
        .values(state="resolved")
    )


def _battery(
    session: Session, now: datetime, device: Device, level: float, result: IngestResult
) -> None:
    was = device.battery
    device.battery = level
    if level < BATTERY_LOW and (was is None or was >= BATTERY_LOW):
        open_alert = session.scalar(
            select(Alert.id).where(
                Alert.device_id == device.id, Alert.kind == "battery_low", Alert.state == "open"
            )
        )
        if open_alert is None and device.storage_unit is not None:
            alert = alerts.raise_alert(
                session,
                now,
                kind="battery_low",
                site_id=device.storage_unit.site_id,
                at=now,
                storage_unit_id=device.storage_unit_id,
                device_id=device.id,
                message=f"logger {device.id} battery at {level:.0%}",
                details={"battery": level},
            )
            if alert is not None:
                result.alert_ids.append(alert.id)
    elif level >= BATTERY_OK:
        for alert in session.scalars(
            select(Alert).where(
                Alert.device_id == device.id, Alert.kind == "battery_low", Alert.state == "open"
            )
        ):
            alerts.resolve(session, alert)


# ---------------------------------------------------------------- evaluation per storage unit


@lru_cache(maxsize=4096)
def _rules(kind: str, min_c: float, max_c: float, product_ranges: tuple[tuple[float, float], ...]):
    lo, hi = engine.acceptable_range(min_c, max_c, product_ranges)
    return tuple(engine.rules_for(kind, min_c, max_c, product_ranges)), lo, hi


def unit_rules(
    session: Session, unit, stored: list[tuple[int, str]] | None = None
) -> tuple[tuple[engine.Rule, ...], float, float]:
    """The unit's rules: its kind's defaults against the strictest of its own range and the
    range of every product state stored in it (`stored`: (product id, state) pairs)."""
    if stored is None:
        stored = list(
            session.execute(
                select(Carton.product_id, Carton.state)
                .where(Carton.storage_unit_id == unit.id, Carton.status.in_(STOCK_STATUSES))
                .distinct()
            ).tuples()
        )
    product_ranges = set()
    for product_id, state in stored:
        profile = profile_of(session.get_one(Product, product_id))
        state = State.THAWED if state == State.PUNCTURED else State(state)
        if profile.allows(state):
            product_ranges.add(profile.range_for(state))
    return _rules(unit.kind, unit.min_c, unit.max_c, tuple(sorted(product_ranges)))


# Evaluators kept in this process between batches, keyed by unit and checked against the
# random version written with each snapshot: a stale or foreign copy is never used.
_evaluators: dict[int, tuple[int, tuple, engine.Evaluator]] = {}
# Seeded from the system's randomness once per process; a draw per unit per batch must not
# be a system call.
_versions = random.Random()
_EVALUATORS_MAX = 50_000


def _next_version(saved) -> int:
    """A version unlike the saved one. A unit's version changes with every batch of readings
    stored for it: what a process keeps of the unit (its evaluator here, its last day of
    readings in monitoring) is known stale by it."""
    version = _versions.getrandbits(31)
    while saved is not None and version == saved.version:
        version = _versions.getrandbits(31)
    return version


def forget_evaluators() -> None:
    """Drop this process's copies, as a restart would: the next batch restores snapshots."""
    _evaluators.clear()


def evaluate_units(
    session: Session, now: datetime, by_unit: dict[int, list[engine.Reading]], result: IngestResult
) -> None:
    unit_ids = sorted(by_unit)
    columns = StorageUnit.__table__.c
    units = {
        u.id: u
        for u in session.execute(
            select(columns.id, columns.kind, columns.min_c, columns.max_c).where(
                in_list(columns.id, unit_ids)
            )
        )
    }
    # lock the evaluators of these units in a fixed order: two workers never interleave one unit
    table = UnitEvaluation.__table__
    states = {
        row.storage_unit_id: row
        for row in session.execute(
            select(table.c.storage_unit_id, table.c.version, table.c.last_ts)
            .where(in_list(table.c.storage_unit_id, unit_ids))
            .order_by(table.c.storage_unit_id)
            .with_for_update()
        )
    }
    stored: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for unit_id, product_id, state in session.execute(
        select(Carton.storage_unit_id, Carton.product_id, Carton.state)
        .where(
            in_list(Carton.storage_unit_id, unit_ids),
            Carton.status.in_(STOCK_STATUSES),
        )
        .distinct()
    ):
        stored[cast(int, unit_id)].append((product_id, state))
    earliest = {unit_id: min(r.ts for r in by_unit[unit_id]) for unit_id in unit_ids}
    feedable = {
        u
        for u in unit_ids
        if u in states and states[u].last_ts is not None and earliest[u] > states[u].last_ts
    }
    # what this process does not hold already, fetched for the whole batch at once
    uncached = [u for u in feedable if _evaluators.get(u, (None,))[0] != states[u].version]
    snapshots = (
        dict(
            session.execute(
                select(table.c.storage_unit_id, table.c.snapshot).where(
                    in_list(table.c.storage_unit_id, uncached)
                )
            ).all()
        )
        if uncached
        else {}
    )
    unwatched = {
        u: earliest[u] for u in unit_ids if states.get(u) is None or states[u].last_ts is None
    }
    with_history = bulk.units_with_readings_before(session, unwatched) if unwatched else set()

    inserts: list[dict] = []
    updates: list[dict] = []
    for unit_id in unit_ids:
        rules, lo, hi = unit_rules(session, units[unit_id], stored[unit_id])
        readings = by_unit[unit_id]
        saved = states.get(unit_id)
        evaluator = None
        if unit_id in feedable:
            evaluator = _saved_evaluator(
                unit_id, rules, lo, hi, states[unit_id].version, snapshots.get(unit_id)
            )
        elif unit_id in unwatched and unit_id not in with_history:
            evaluator = engine.Evaluator(rules, lo, hi)  # a unit's first readings
        if evaluator is not None:
            events, replayed_from = evaluator.feed_batch(readings), None
        else:
            evaluator, events, replayed_from = _replay(
                session, unit_id, rules, lo, hi, earliest[unit_id]
            )
        if replayed_from is not None or events or evaluator.open_excursions:
            unit = session.get_one(StorageUnit, unit_id)  # the rare case: rows to write
            if replayed_from is not None:
                _reconcile(session, unit, events, evaluator.open_excursions, replayed_from)
            if events or evaluator.open_excursions:
                _apply(session, now, unit, events, evaluator.open_excursions, result)
        version = _next_version(saved)
        row = {
            "uid": unit_id,
            "snapshot": evaluator.snapshot(),
            "last_ts": evaluator.last_ts,
            "version": version,
        }
        (updates if saved is not None else inserts).append(row)
        if len(_evaluators) >= _EVALUATORS_MAX:
            _evaluators.clear()
        _evaluators[unit_id] = (version, rules, evaluator)
    bulk.save_evaluations(session, inserts, updates)


def _saved_evaluator(
    unit_id: int, rules, lo: float, hi: float, version: int, snapshot: dict | None
):
    """The unit's evaluator as last saved: this process's copy if it is that version, else
    the snapshot; None if the rules changed since (stock with a stricter range moved in)."""
    cached = _evaluators.get(unit_id)
    if cached is not None and cached[0] == version:
        return cached[2] if cached[1] == rules else None
    try:
        return engine.Evaluator.restore(rules, lo, hi, snapshot) if snapshot is not None else None
    except ValueError:
        return None


def _replay(session: Session, unit_id: int, rules, lo: float, hi: float, earliest: datetime):
    """Evaluate the unit's stored history again from before its earliest new reading."""
    start = _replay_start(session, unit_id, earliest - REPLAY_LOOKBACK)
    history = session.execute(
        select(Reading.ts, Reading.c)
        .where(Reading.storage_unit_id == unit_id, Reading.ts >= start)
        .order_by(Reading.ts)
    ).all()
    evaluator = engine.Evaluator(rules, lo, hi)
    return evaluator, evaluator.feed_batch(engine.Reading(ts, c) for ts, c in history), start


def _replay_start(session: Session, unit_id: int, start: datetime) -> datetime:
    """Never start a replay inside a known excursion: move back to its start."""
    while True:
        spanning = session.scalar(
            select(func.min(Excursion.started_at)).where(
                Excursion.storage_unit_id == unit_id,
                Excursion.started_at < start,
                (Excursion.ended_at.is_(None)) | (Excursion.ended_at > start),
            )
        )
        if spanning is None:
            return start
        start = spanning


def _reconcile(
    session: Session,
    unit: StorageUnit,
    events: list[engine.Event],
    open_now: list[engine.Excursion],
    since: datetime,
) -> None:
    """After a replay, make the stored excursions match what the full history shows. An
    episode first seen from a partial view (its early readings arrived late) keeps its row,
    alerts and holds, moved to its true start; a row no episode supports any longer is
    retired (deleted if it never alarmed, otherwise kept and marked revised)."""
    episodes: dict[tuple[str, datetime], engine.Excursion] = {}
    for episode in [e.excursion for e in events] + list(open_now):
        episodes[(str(episode.direction), episode.started_at)] = episode
    rows = session.scalars(
        select(Excursion)
        .where(
            Excursion.storage_unit_id == unit.id,
            Excursion.started_at >= since,
            Excursion.closed_reason.is_(None),
        )
        .order_by(Excursion.started_at)
    ).all()
    unmatched = {(r.direction, r.started_at): r for r in rows}
    for key in [k for k in episodes if k in unmatched]:
        unmatched.pop(key)
    for (direction, started_at), episode in sorted(episodes.items(), key=lambda kv: kv[0][1]):
        if any(r.direction == direction and r.started_at == started_at for r in rows):
            continue
        end = episode.ended_at
        for key, row in list(unmatched.items()):
            overlaps = (
                row.direction == direction
                and row.started_at >= started_at
                and (end is None or row.started_at < end)
            )
            if overlaps:
                row.started_at = started_at
                for alert in session.scalars(
                    select(Alert).where(
                        Alert.excursion_id == row.id, Alert.kind == "excursion_started"
                    )
                ):
                    alert.at = started_at
                unmatched.pop(key)
                break
    for row in unmatched.values():
        alarmed = row.rule is not None
        if alarmed:
            row.closed_reason = "revised: late readings showed no such excursion"
            row.ended_at = row.ended_at or row.started_at
        else:
            for alert in session.scalars(select(Alert).where(Alert.excursion_id == row.id)):
                session.delete(alert)
            session.delete(row)
    session.flush()


def _apply(
    session: Session,
    now: datetime,
    unit: StorageUnit,
    events: list[engine.Event],
    open_now: list[engine.Excursion],
    result: IngestResult,
) -> None:
    """Turn engine events into excursion rows, alerts and holds, in reading order."""
    device_id = session.scalar(
        select(Device.id).where(Device.storage_unit_id == unit.id, Device.status == "active")
    )
    touched: dict[tuple[str, datetime], Excursion] = {}
    for event in events:
        row = _excursion_row(session, unit, event.excursion, device_id)
        touched[(row.direction, row.started_at)] = row
        where = f"{unit.code} ({unit.site.code})"
        if event.kind == engine.EventKind.EXCURSION_STARTED:
            alert = alerts.raise_alert(
                session,
                now,
                kind="excursion_started",
                site_id=unit.site_id,
                at=event.at,
                storage_unit_id=unit.id,
                device_id=device_id,
                excursion_id=row.id,
                message=f"{where}: {row.direction} reading {_extreme(event.excursion, row)} C",
                details={"direction": row.direction},
            )
        elif event.kind == engine.EventKind.RULE_FIRED:
            assert event.rule is not None  # a rule fired: the event names it
            alert = alerts.raise_alert(
                session,
                now,
                kind="excursion_alarm",
                site_id=unit.site_id,
                at=event.at,
                storage_unit_id=unit.id,
                device_id=device_id,
                excursion_id=row.id,
                message=f"{where}: {event.rule.name} fired; stock in the unit is on hold",
                details={"rule": event.rule.to_dict()},
            )
            result.holds += _hold_stock(session, now, unit, row)
        else:
            alert = alerts.raise_alert(
                session,
                now,
                kind="excursion_ended",
                site_id=unit.site_id,
                at=event.at,
                storage_unit_id=unit.id,
                device_id=device_id,
                excursion_id=row.id,
                message=(
                    f"{where}: back in range after {row.out_of_range_s / 60:.0f} min out of range"
                ),
                details={
                    "out_of_range_s": row.out_of_range_s,
                    "min_c": row.min_c,
                    "max_c": row.max_c,
                },
            )
            if alert is not None:
                alerts.resolve(session, alert)
                for started in session.scalars(
                    select(Alert).where(
                        Alert.excursion_id == row.id, Alert.kind == "excursion_started"
                    )
                ):
                    alerts.resolve(session, started)
        if alert is not None:
            result.alert_ids.append(alert.id)
    for episode in open_now:
        row = _excursion_row(session, unit, episode, device_id)
        touched[(row.direction, row.started_at)] = row
    for row in touched.values():
        _expose_stock(session, now, unit, row)


def _excursion_row(
    session: Session, unit: StorageUnit, episode: engine.Excursion, device_id: str | None
) -> Excursion:
    row = session.scalar(
        select(Excursion).where(
            Excursion.storage_unit_id == unit.id,
            Excursion.direction == str(episode.direction),
            Excursion.started_at == episode.started_at,
        )
    )
    if row is None:
        row = Excursion(
            storage_unit_id=unit.id,
            site_id=unit.site_id,
            device_id=device_id,
            direction=str(episode.direction),
            started_at=episode.started_at,
        )
        session.add(row)
    if row.closed_reason is None:
        row.ended_at = episode.ended_at
    row.min_c, row.max_c, row.out_of_range_s = episode.min_c, episode.max_c, episode.out_of_range_s
    # the engine's view is the truth, also when late readings change which rule fired first
    row.rule = episode.fired_rule.to_dict() if episode.fired_rule is not None else None
    row.fired_at = episode.fired_at
    session.flush()
    return row


def _stock_in(session: Session, unit: StorageUnit) -> list[Carton]:
    return list(
        session.scalars(
            select(Carton)
            .where(Carton.storage_unit_id == unit.id, Carton.status.in_(STOCK_STATUSES))
            .options(
                selectinload(Carton.holds), selectinload(Carton.lot), selectinload(Carton.product)
            )
            .order_by(Carton.id)
            .with_for_update()
        )
    )


def _hold_stock(session: Session, now: datetime, unit: StorageUnit, excursion: Excursion) -> int:
    """Every carton in the unit goes on hold at once, linked to the excursion."""
    held = 0
    rule = (excursion.rule or {}).get("name", "rule")
    reason = f"excursion {excursion.id}: {excursion.direction} in {unit.code} ({rule})"
    for carton in _stock_in(session, unit):
        if place_hold(
            session, SYSTEM, now, carton, reason, kind="excursion", excursion_id=excursion.id
        ):
            held += 1
    return held


def _expose_stock(session: Session, now: datetime, unit: StorageUnit, excursion: Excursion) -> None:
    """Each carton carries its own exposure: time out of range and extremes seen. Time above
    a thawed carton's range eats its room-temperature budget and moves its beyond-use date."""
    cartons = _stock_in(session, unit)
    if not cartons:
        return
    applied = {
        e.carton_id: e
        for e in session.scalars(
            select(CartonExposure).where(
                CartonExposure.excursion_id == excursion.id,
                CartonExposure.carton_id.in_([c.id for c in cartons]),
            )
        )
    }
    hot = excursion.direction == "hot"
    for carton in cartons:
        record = applied.get(carton.id)
        if record is None:
            record = CartonExposure(
                carton_id=carton.id, excursion_id=excursion.id, out_of_range_s=0.0, hot_s=0.0
            )
            session.add(record)
        delta = excursion.out_of_range_s - record.out_of_range_s
        if delta <= 0 and record.out_of_range_s > 0:
            continue
        record.out_of_range_s = excursion.out_of_range_s
        carton.exposure_s += max(delta, 0.0)
        carton.exposure_min_c = min(
            v for v in (carton.exposure_min_c, excursion.min_c) if v is not None
        )
        carton.exposure_max_c = max(
            v for v in (carton.exposure_max_c, excursion.max_c) if v is not None
        )
        if hot and delta > 0 and carton.state not in FROZEN_STATES:
            record.hot_s = excursion.out_of_range_s
            profile = profile_of(carton.product)
            at = excursion.ended_at or now
            clock = stability.add_room_temp_exposure(profile, clock_of(carton), delta / 3600.0, at)
            set_clock(carton, clock, profile)
            if carton.status != CartonStatus.HELD:
                carton.status = status_after_change(carton, now)


def close_excursions_of(session: Session, now: datetime, device: Device, reason: str) -> int:
    """A retired or lost sensor's open excursions close with that reason: no breach stays
    open forever."""
    if device.storage_unit_id is None:
        return 0
    rows = session.scalars(
        select(Excursion).where(
            Excursion.storage_unit_id == device.storage_unit_id, Excursion.ended_at.is_(None)
        )
    ).all()
    for row in rows:
        row.ended_at = device.last_reading_at or now
        row.closed_reason = reason
    state = session.get(UnitEvaluation, device.storage_unit_id)
    if state is not None:
        session.delete(state)  # the next sensor starts the unit's evaluation afresh
    return len(rows)


def _extreme(excursion, row) -> float | None:
    """The reading furthest out of range, on the excursion's side."""
    return excursion.max_c if row.direction == "hot" else excursion.min_c
