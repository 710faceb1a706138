"""Alerts people can trust: one per excursion stage (not per reading), carrying the reading
time, acknowledged with a comment by someone allowed to, escalated when nobody does, and
delivered to the site's displays (MQTT) and a webhook until they arrive."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, sessionmaker

from inventory.clock import Clock
from inventory.db import unit_of_work
from inventory.db.models import Site
from inventory.db.telemetry import Alert, Device
from inventory.domain.errors import Conflict, InvalidInput, NotFound
from inventory.services.access import Actor, require, sight_clause
from inventory.services.common import audit
from inventory.services.paging import (
    FIRST_PAGE,
    Page,
    PageRequest,
    desc,
    page_of_rows,
    page_params,
    page_statement,
)

SEVERITY = {
    "excursion_started": "warning",
    "excursion_alarm": "alarm",
    "excursion_ended": "info",
    "device_silent": "alarm",
    "battery_low": "warning",
}
ALERTS_TOPIC = "coldchain/v1/alerts/{site}"


def raise_alert(
    session: Session,
    now: datetime,
    *,
    kind: str,
    site_id: int,
    at: datetime,
    message: str,
    storage_unit_id: int | None = None,
    device_id: str | None = None,
    excursion_id: int | None = None,
    details: dict | None = None,
) -> Alert | None:
    """Create an alert unless this excursion already has one of this kind."""
    if (
        excursion_id is not None
        and session.scalar(
            select(Alert.id).where(Alert.excursion_id == excursion_id, Alert.kind == kind)
        )
        is not None
    ):
        return None
    alert = Alert(
        kind=kind,
        severity=SEVERITY[kind],
        site_id=site_id,
        storage_unit_id=storage_unit_id,
        device_id=device_id,
        excursion_id=excursion_id,
        at=at,
        created_at=now,
        message=message,
        details=details,
        state="open",
        escalation_level=0,
        webhook_attempts=0,
        webhook_next_at=now,
    )
    session.add(alert)
    session.flush()
    return alert


def resolve(session: Session, alert: Alert) -> None:
    """The condition is over (an info alert, or a silent device heard again); an alarm
    still wants its acknowledgement."""
    if alert.state == "open" and alert.severity != "alarm":
        alert.state = "resolved"


ALERT_STATES = ("open", "acknowledged", "resolved")
NEWEST_FIRST = (desc(Alert.at), desc(Alert.id))


def list_alerts(
    session: Session,
    actor: Actor,
    *,
    site: str | None = None,
    state: str | None = None,
    page: PageRequest = FIRST_PAGE,
) -> Page[Alert]:
    """Newest reading first, only at the sites the actor sees."""
    sight, params = actor.sight()
    if site:
        site_id = session.scalar(select(Site.id).where(Site.code == site))
        if site_id is None:
            raise NotFound(f"no site {site}")
        params["of_site"] = site_id
    if state:
        if state not in ALERT_STATES:
            raise InvalidInput(
                "unknown state", fields={"state": [f"one of {', '.join(ALERT_STATES)}"]}
            )
        params["of_state"] = state
    statement = _alerts_page(sight, bool(site), bool(state), page.cursor is not None)
    rows = list(session.scalars(statement, params | page_params(NEWEST_FIRST, page)))
    return page_of_rows(rows, NEWEST_FIRST, page)


@functools.cache
def _alerts_page(sight: str, of_site: bool, of_state: bool, after_cursor: bool) -> Select:
    """A page of alerts, made once per kind of sight and filters given (run with their values)."""
    query = select(Alert).where(sight_clause(sight, Alert.site_id))
    if of_site:
        query = query.where(Alert.site_id == bindparam("of_site"))
    if of_state:
        query = query.where(Alert.state == bindparam("of_state"))
    return page_statement(query, NEWEST_FIRST, after_cursor=after_cursor)


def acknowledge(
    session: Session, actor: Actor, now: datetime, alert_id: int, comment: str
) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or not actor.sees(alert.site):
        raise NotFound(f"no alert {alert_id}")
    require(actor, "alert.ack", alert.site)
    if not comment or not comment.strip():
        raise InvalidInput("say what was done", fields={"comment": ["required"]})
    if alert.state == "acknowledged":
        raise Conflict(
            f"alert {alert.id} was acknowledged by {alert.acknowledged_by}",
            code="already_acknowledged",
        )
    before = {"state": alert.state}
    alert.state, alert.acknowledged_at, alert.acknowledged_by, alert.ack_comment = (
        "acknowledged",
        now,
        actor.label,
        comment,
    )
    audit(
        session,
        actor,
        now,
        "alert.ack",
        "alert",
        alert.id,
        before=before,
        after={"state": "acknowledged", "comment": comment},
    )
    return alert


def escalate_unacknowledged(session: Session, now: datetime, after: timedelta) -> list[Alert]:
    """Alarms nobody acknowledged within `after` go up one level (and out again)."""
    due = session.scalars(
        select(Alert).where(
            Alert.state == "open", Alert.severity == "alarm", Alert.created_at <= now - after
        )
    ).all()
    escalated = []
    for alert in due:
        last = alert.escalated_at or alert.created_at
        if last <= now - after:
            alert.escalation_level += 1
            alert.escalated_at = now
            alert.published_at = None  # tell the displays again
            alert.webhook_delivered_at = None  # and the webhook
            alert.webhook_next_at = now
            escalated.append(alert)
    return escalated


def payload(alert: Alert) -> dict:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "site": alert.site.code,
        "storage_unit": alert.storage_unit.code if alert.storage_unit else None,
        "device": alert.device_id,
        "excursion": alert.excursion_id,
        "at": alert.at.isoformat().replace("+00:00", "Z"),
        "created_at": alert.created_at.isoformat().replace("+00:00", "Z"),
        "message": alert.message,
        "details": alert.details,
        "state": alert.state,
        "escalation_level": alert.escalation_level,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at.isoformat().replace("+00:00", "Z")
        if alert.acknowledged_at
        else None,
        "ack_comment": alert.ack_comment,
    }


def publish_pending_alerts(
    factory: sessionmaker[Session],
    clock: Clock,
    publish: Callable[[str, bytes], None],
    *,
    limit: int = 500,
) -> int:
    """Send alerts not yet published to their site's topic, in reading order, outside any
    transaction: what is due is read and committed first, each alert the broker took is then
    marked published in a second unit of work (unless it was escalated meanwhile: then it is
    due again). A publish that raises ends the round; the rest wait for the next one."""
    with unit_of_work(factory) as session:
        due = [
            (a.id, a.escalation_level, ALERTS_TOPIC.format(site=a.site.code), payload(a))
            for a in session.scalars(
                select(Alert)
                .where(Alert.published_at.is_(None))
                .order_by(Alert.at, Alert.id)
                .limit(limit)
            )
        ]
    sent: list[tuple[int, int]] = []
    try:
        for alert_id, level, topic, body in due:
            publish(topic, json.dumps(body).encode())
            sent.append((alert_id, level))
    finally:
        if sent:
            with unit_of_work(factory) as session:
                _mark_published(session, sent, clock.now())
    return len(sent)


def _mark_published(session: Session, sent: list[tuple[int, int]], now: datetime) -> None:
    levels = dict(sent)
    for alert in session.scalars(select(Alert).where(Alert.id.in_(levels))):
        if alert.published_at is None and alert.escalation_level == levels[alert.id]:
            alert.published_at = now


def webhook_due(session: Session, now: datetime, *, limit: int = 100) -> list[Alert]:
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.webhook_delivered_at.is_(None), Alert.webhook_next_at <= now)
            .order_by(Alert.at, Alert.id)
            .limit(limit)
        )
    )


def webhook_result(alert: Alert, now: datetime, error: str | None) -> None:
    """Record a delivery attempt; retry with exponential backoff (capped at an hour)."""
    alert.webhook_attempts += 1
    if error is None:
        alert.webhook_delivered_at, alert.webhook_error, alert.webhook_next_at = now, None, None
    else:
        alert.webhook_error = error[:2000]
        alert.webhook_next_at = now + timedelta(
            seconds=min(3600, 5 * 2 ** min(alert.webhook_attempts, 10))
        )


# ---------------------------------------------------------------- silent devices

SILENT_AFTER_INTERVALS = 3


def raise_silence_alarms(session: Session, now: datetime) -> int:
    """Raise one `device_silent` alarm per silence: an active device hanging in a storage
    unit that we have not heard from for three of its reporting intervals (counted from
    when it was registered if it was never heard). The silence ends when it is heard again,
    so a device already alerted since it was last heard is not alerted twice, whether or not
    somebody acknowledged the alarm. Returns the number of alerts raised."""
    silent = [
        (device, device.last_heard_at or device.created_at)
        for device in session.scalars(
            select(Device).where(Device.status == "active", Device.storage_unit_id.is_not(None))
        )
        if now - (device.last_heard_at or device.created_at) >= _silence(device)
    ]
    if not silent:
        return 0
    last_alerted = dict(
        session.execute(
            select(Alert.device_id, func.max(Alert.created_at))
            .where(Alert.kind == "device_silent", Alert.device_id.in_([d.id for d, _ in silent]))
            .group_by(Alert.device_id)
        ).all()
    )
    raised = 0
    for device, heard in silent:
        previous = last_alerted.get(device.id)
        if previous is not None and previous >= heard:
            continue  # this silence already has its alarm
        _alarm_silence(session, now, device, heard)
        raised += 1
    return raised


def _silence(device: Device) -> timedelta:
    return timedelta(seconds=SILENT_AFTER_INTERVALS * device.interval_s)


def _alarm_silence(session: Session, now: datetime, device: Device, heard: datetime) -> None:
    unit = device.storage_unit
    assert unit is not None  # only devices hanging in a unit are watched for silence
    raise_alert(
        session,
        now,
        kind="device_silent",
        site_id=unit.site_id,
        at=heard + _silence(device),
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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def record_webhook_attempt(
    session: Session, alert_id: int, level: int, now: datetime, error: str | None
) -> bool:
    """Record the outcome of sending an alert at escalation `level`, unless the alert changed
    meanwhile (escalated again: it is due again and will be sent again). True if recorded."""
    alert = session.get(Alert, alert_id)
    if alert is None or alert.escalation_level != level or alert.webhook_delivered_at is not None:
        return False
    webhook_result(alert, now, error)
    return True
