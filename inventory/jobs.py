"""Scheduled jobs: module-level functions on plain arguments (a session factory, a clock,
settings), each opening its own unit of work around a service, so the scheduler process, the
CLI and the tests run them the same way. Each returns how much it did. No queries here: the
work is the services'."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from inventory.clock import Clock
from inventory.db import unit_of_work
from inventory.services import alerts, monitoring, readings_upkeep, stock

log = logging.getLogger(__name__)

Factory = sessionmaker[Session]
Publish = Callable[[str, bytes], None]
Post = Callable[[str, bytes], None]

EXPIRY_BATCH = 500
WEBHOOK_TIMEOUT_S = 5
HOUR = timedelta(hours=1)
PARTITIONS_AHEAD = readings_upkeep.PARTITIONS_AHEAD
RETENTION_MONTHS = readings_upkeep.RETENTION_MONTHS
RETENTION_BATCH = readings_upkeep.RETENTION_BATCH


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def check_silent_devices(factory: Factory, clock: Clock) -> int:
    """Raise one `device_silent` alarm per silence (see alerts.raise_silence_alarms).
    Returns the number of alerts raised."""
    with unit_of_work(factory) as session:
        raised = alerts.raise_silence_alarms(session, clock.now())
    if raised:
        log.info("device silence: %d alert(s) raised", raised)
    return raised


def sweep_beyond_use(factory: Factory, clock: Clock, *, batch_size: int = EXPIRY_BATCH) -> int:
    """Mark available cartons whose beyond-use date has passed as expired, in batches of
    `batch_size` per unit of work. Returns how many were expired."""
    now = clock.now()
    expired = 0
    last_id: int | None = 0
    while last_id is not None:
        with unit_of_work(factory) as session:
            count, last_id = stock.expire_past_bud(
                session, now, after_id=last_id, batch_size=batch_size
            )
        expired += count
    if expired:
        log.info("beyond-use sweep: %d carton(s) expired", expired)
    return expired


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


def roll_up_readings(
    factory: Factory,
    clock: Clock,
    *,
    settle: timedelta = HOUR,
    max_hours: int = 48,
    restate: timedelta = timedelta(hours=6),
) -> int:
    """Hourly minimum, maximum and count per storage unit (see monitoring.roll_up).
    Returns the number of roll-up rows written."""
    with unit_of_work(factory) as session:
        written, stop = monitoring.roll_up(
            session, clock.now(), settle=settle, max_hours=max_hours, restate=restate
        )
    if written:
        log.info("roll-up: %d unit-hour(s) written up to %s", written, _iso(stop))
    return written


# ---------------------------------------------------------------- readings: partitions, retention


def maintain_readings(
    factory: Factory,
    clock: Clock,
    *,
    months_ahead: int = PARTITIONS_AHEAD,
    retention_months: int = RETENTION_MONTHS,
    batch_size: int = RETENTION_BATCH,
) -> readings_upkeep.ReadingsUpkeep:
    """Partitions made ahead and old raw readings let go (see readings_upkeep.maintain)."""
    upkeep = readings_upkeep.maintain(
        factory,
        clock.now(),
        months_ahead=months_ahead,
        retention_months=retention_months,
        batch_size=batch_size,
    )
    if upkeep.created or upkeep.dropped or upkeep.deleted:
        log.info(
            "readings upkeep: partitions made %s, dropped %s; %d old reading(s) deleted",
            upkeep.created,
            upkeep.dropped,
            upkeep.deleted,
        )
    return upkeep


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
            recorded = alerts.record_webhook_attempt(session, alert_id, level, clock.now(), error)
        if not recorded:
            continue
        if error is None:
            result.delivered += 1
        else:
            result.failed += 1
            log.warning("webhook delivery of alert %s failed: %s", alert_id, error)
