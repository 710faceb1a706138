"""Scheduled jobs: module-level functions on plain arguments (a session factory, a clock,
settings), each opening its own unit of work, so the scheduler process, the CLI and the
tests run them the same way. Each returns how much it did."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, literal_column, select, text
from sqlalchemy.orm import Session, sessionmaker

from inventory.clock import Clock
from inventory.db import partitions, unit_of_work
from inventory.db.models import Carton
from inventory.db.telemetry import Alert, Device, Reading, ReadingRollup
from inventory.services import alerts, custody
from inventory.services.access import SYSTEM
from inventory.services.common import audit

log = logging.getLogger(__name__)

Factory = sessionmaker[Session]
Publish = Callable[[str, bytes], None]
Post = Callable[[str, bytes], None]

SILENT_AFTER_INTERVALS = 3
EXPIRY_BATCH = 500
WEBHOOK_TIMEOUT_S = 5
HOUR = timedelta(hours=1)
PARTITIONS_AHEAD = 3
# raw readings are medicine-distribution records: kept at least five years by default
RETENTION_MONTHS = 60
RETENTION_BATCH = 10_000


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


# ---------------------------------------------------------------- silent devices


def check_silent_devices(factory: Factory, clock: Clock) -> int:
    """Raise one `device_silent` alarm per silence: an active device hanging in a storage
    unit that we have not heard from for three of its reporting intervals (counted from
    when it was registered if it was never heard). The silence ends when it is heard again,
    so a device already alerted since it was last heard is not alerted twice, whether or not
    somebody acknowledged the alarm. Returns the number of alerts raised."""
    now = clock.now()
    raised = 0
    with unit_of_work(factory) as session:
        candidates = session.scalars(
            select(Device).where(Device.status == "active", Device.storage_unit_id.is_not(None))
        ).all()
        silent = []
        for device in candidates:
            heard = device.last_heard_at or device.created_at
            if now - heard >= timedelta(seconds=SILENT_AFTER_INTERVALS * device.interval_s):
                silent.append((device, heard))
        if not silent:
            return 0
        last_alerted = dict(
            session.execute(
                select(Alert.device_id, func.max(Alert.created_at))
                .where(
                    Alert.kind == "device_silent", Alert.device_id.in_([d.id for d, _ in silent])
                )
                .group_by(Alert.device_id)
            ).all()
        )
        for device, heard in silent:
            previous = last_alerted.get(device.id)
            if previous is not None and previous >= heard:
                continue  # this silence already has its alarm
            unit = device.storage_unit
            became_silent = heard + timedelta(seconds=SILENT_AFTER_INTERVALS * device.interval_s)
            alerts.raise_alert(
                session,
                now,
                kind="device_silent",
                site_id=unit.site_id,
                at=became_silent,
                storage_unit_id=unit.id,
                device_id=device.id,
                message=(
                    f"logger {device.id} in {unit.code} silent since {_iso(heard)} "
                    f"(expected every {device.interval_s} s)"
                ),
                details={
                    "last_heard_at": _iso(device.last_heard_at),
                    "last_reading_at": _iso(device.last_reading_at),
                    "interval_s": device.interval_s,
                },
            )
            raised += 1
    if raised:
        log.info("device silence: %d alert(s) raised", raised)
    return raised


# ---------------------------------------------------------------- beyond-use sweep


def sweep_beyond_use(factory: Factory, clock: Clock, *, batch_size: int = EXPIRY_BATCH) -> int:
    """Mark available cartons whose beyond-use date has passed as expired, in batches of
    `batch_size` per unit of work. Returns how many were expired."""
    now = clock.now()
    expired = 0
    last_id = 0
    while True:
        with unit_of_work(factory) as session:
            cartons = session.scalars(
                select(Carton)
                .where(Carton.status == "available", Carton.bud <= now, Carton.id > last_id)
                .order_by(Carton.id)
                .limit(batch_size)
            ).all()
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
                        after={"status": "expired", "bud": _iso(carton.bud)},
                    )
                    expired += 1
        if len(cartons) < batch_size:
            break
        last_id = cartons[-1].id
    if expired:
        log.info("beyond-use sweep: %d carton(s) expired", expired)
    return expired


# ---------------------------------------------------------------- escalation


def escalate_alerts(factory: Factory, clock: Clock, after_minutes: int) -> int:
    """Alarms nobody acknowledged within `after_minutes` go up a level and are delivered again."""
    with unit_of_work(factory) as session:
        escalated = alerts.escalate_unacknowledged(
            session, clock.now(), timedelta(minutes=after_minutes)
        )
        count = len(escalated)
    if count:
        log.info("escalation: %d alert(s) escalated", count)
    return count


# ---------------------------------------------------------------- readings roll-up


def _floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def _hour_bucket(session: Session):
    """The reading's hour as the backend can group by it (literals, not parameters, so the
    expression in SELECT and GROUP BY is the same one)."""
    if session.bind.dialect.name == "postgresql":
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


def roll_up_readings(
    factory: Factory,
    clock: Clock,
    *,
    settle: timedelta = HOUR,
    max_hours: int = 48,
    restate: timedelta = timedelta(hours=6),
) -> int:
    """Minimum, maximum and count per storage unit and hour, from the raw readings.

    An hour is rolled up once it ended at least `settle` ago. Each run continues after the
    newest rolled-up hour for at most `max_hours` (skipping hours without readings), and
    recomputes the last `restate` of rolled-up hours, so readings that arrived late (a
    gateway's backlog) are counted. Rows are upserted and only written when they change, so
    a run can be repeated. Returns the number of roll-up rows written."""
    now = clock.now()
    end = _floor_hour(now - settle)
    written = 0
    with unit_of_work(factory) as session:
        last = session.scalar(select(func.max(ReadingRollup.hour)))
        newer = select(func.min(Reading.ts)).where(Reading.ts < end)
        if last is not None:
            newer = newer.where(Reading.ts >= last + HOUR)
        first_new = session.scalar(newer)
        new_start = _floor_hour(first_new) if first_new is not None else end
        stop = min(end, new_start + max_hours * HOUR)
        start = new_start if last is None else min(new_start, end - restate)
        if start >= stop:
            return 0

        bucket = _hour_bucket(session).label("hour")
        rows = session.execute(
            select(
                Reading.storage_unit_id,
                bucket,
                func.min(Reading.c),
                func.max(Reading.c),
                func.count(),
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
    if written:
        log.info("roll-up: %d unit-hour(s) written up to %s", written, _iso(stop))
    return written


# ---------------------------------------------------------------- readings: partitions, retention


@dataclass
class ReadingsUpkeep:
    created: list[str]
    dropped: list[str]
    deleted: int = 0


def maintain_readings(
    factory: Factory,
    clock: Clock,
    *,
    months_ahead: int = PARTITIONS_AHEAD,
    retention_months: int = RETENTION_MONTHS,
    batch_size: int = RETENTION_BATCH,
) -> ReadingsUpkeep:
    """Make this month's partition of the readings and `months_ahead` more (PostgreSQL),
    and let raw readings go once their month ended `retention_months` ago. A partitioned
    month goes as a whole (detach and drop), and only once its hours are rolled up: the
    hourly minimum and maximum stay for good. Elsewhere (SQLite, or readings left outside
    any monthly partition) old readings are deleted in batches of `batch_size`, one unit of
    work each, so no statement runs long."""
    now = clock.now()
    this_month = partitions.month_start(now)
    keep_from = partitions.add_months(this_month, -max(retention_months, 1))
    upkeep = ReadingsUpkeep(created=[], dropped=[])
    with unit_of_work(factory) as session:
        partitioned = partitions.is_partitioned(session.connection())
    if partitioned:
        for n in range(months_ahead + 1):
            month = partitions.add_months(this_month, n)
            with unit_of_work(factory) as session:
                if partitions.create_month(session.connection(), month):
                    upkeep.created.append(partitions.partition_name(month))
        upkeep.dropped = _drop_old_months(factory, keep_from)
    upkeep.deleted = _delete_readings_before(factory, keep_from, batch_size)
    if upkeep.created or upkeep.dropped or upkeep.deleted:
        log.info(
            "readings upkeep: partitions made %s, dropped %s; %d old reading(s) deleted",
            upkeep.created,
            upkeep.dropped,
            upkeep.deleted,
        )
    return upkeep


def _drop_old_months(factory: Factory, keep_from: datetime) -> list[str]:
    dropped = []
    with unit_of_work(factory) as session:
        months = partitions.monthly_partitions(session.connection())
        rolled_up_to = session.scalar(select(func.max(ReadingRollup.hour)))
    for month in months:
        end = partitions.add_months(month, 1)
        if end > keep_from:
            break
        name = partitions.partition_name(month)
        with unit_of_work(factory) as session:
            conn = session.connection()
            has_rows = conn.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {name})"))  # noqa: S608
            if has_rows and (rolled_up_to is None or rolled_up_to < end - HOUR):
                log.warning("readings of %s kept: their hours are not rolled up yet", name)
                break
            partitions.drop_month(conn, month)
        dropped.append(name)
    return dropped


def _delete_readings_before(factory: Factory, keep_from: datetime, batch_size: int) -> int:
    deleted = 0
    while True:
        with unit_of_work(factory) as session:
            rolled_up_to = session.scalar(select(func.max(ReadingRollup.hour)))
            # never past what the roll-ups hold
            cut = min(keep_from, rolled_up_to + HOUR) if rolled_up_to is not None else None
            if cut is None:
                return deleted
            ids = select(Reading.id).where(Reading.ts < cut).limit(batch_size)
            count = session.execute(
                delete(Reading)
                # the time here too, so PostgreSQL looks only in the partitions it can be in
                .where(Reading.ts < cut, Reading.id.in_(ids.scalar_subquery()))
                .execution_options(synchronize_session=False)
            ).rowcount
        deleted += count
        if count < batch_size:
            return deleted


# ---------------------------------------------------------------- alert delivery


def post_json(url: str, body: bytes) -> None:
    """POST a JSON body; raise unless the receiver answers 2xx."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "coldchain-alerts"},
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"webhook answered {response.status}")


@dataclass
class Delivery:
    published: int = 0
    delivered: int = 0
    failed: int = 0


def deliver_alerts(
    factory: Factory,
    clock: Clock,
    publish: Publish | None = None,
    webhook_url: str | None = None,
    post: Post | None = None,
) -> Delivery:
    """Send alerts to the sites' displays over MQTT (when a publish callable is given) and
    to the webhook (when a URL is given). A failed MQTT round is retried whole next time;
    a failed webhook POST is retried with exponential backoff until it is delivered."""
    result = Delivery()
    if publish is not None:
        try:
            result.published = alerts.publish_pending_alerts(factory, clock, publish)
        except Exception:  # the broker is away: everything stays pending for the next round
            log.warning("alert publish failed; retrying next round", exc_info=True)
    if webhook_url:
        _deliver_webhook(factory, clock, webhook_url, post or post_json, result)
    return result


def _deliver_webhook(
    factory: Factory, clock: Clock, url: str, post: Post, result: Delivery
) -> None:
    # Read what is due and commit before the network calls; record each outcome afterwards,
    # unless the alert changed meanwhile (escalated: it is due again and will be sent again).
    with unit_of_work(factory) as session:
        due = [
            (a.id, a.escalation_level, json.dumps(alerts.payload(a)).encode())
            for a in alerts.webhook_due(session, clock.now())
        ]
    for alert_id, level, body in due:
        try:
            post(url, body)
            error = None
        except Exception as exc:  # noqa: BLE001 - any failure is a failed delivery, retried later
            error = f"{type(exc).__name__}: {exc}"
        with unit_of_work(factory) as session:
            alert = session.get(Alert, alert_id)
            if (
                alert is None
                or alert.escalation_level != level
                or alert.webhook_delivered_at is not None
            ):
                continue
            alerts.webhook_result(alert, clock.now(), error)
        if error is None:
            result.delivered += 1
        else:
            result.failed += 1
            log.warning("webhook delivery of alert %s failed: %s", alert_id, error)
