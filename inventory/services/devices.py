"""The device registry: loggers, their secrets, where they hang, and their retirement."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.db.telemetry import Device, DeviceAttachment
from inventory.domain.errors import Conflict, InvalidInput, NotFound
from inventory.passwords import hash_password
from inventory.services.access import Actor, require
from inventory.services.common import audit, storage_unit_by_code
from inventory.services.paging import FIRST_PAGE, Page, PageRequest, asc, paged
from inventory.services.telemetry import close_excursions_of

DEVICE_ID = r"^[A-Za-z0-9._-]{1,64}$"


def hash_secret(secret: str) -> str:
    # Mosquitto's own format: the broker's password file is generated from these hashes.
    return hash_password(secret)


def get_device(session: Session, device_id: str) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"no device {device_id!r}")
    return device


def device_snapshot(device: Device) -> dict:
    return {
        "id": device.id,
        "storage_unit": device.storage_unit.code if device.storage_unit else None,
        "interval_s": device.interval_s,
        "status": device.status,
        "status_reason": device.status_reason,
    }


def register_device(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    device_id: str,
    storage_unit: str | None,
    interval_s: int,
) -> tuple[Device, str]:
    """Register a logger; its secret is returned once and stored only as a hash."""
    require(actor, "device.write")
    if session.get(Device, device_id) is not None:
        raise Conflict(f"device {device_id} exists", code="exists")
    secret = secrets.token_urlsafe(24)
    device = Device(
        id=device_id,
        secret_hash=hash_secret(secret),
        interval_s=interval_s,
        status="active",
        created_at=now,
    )
    session.add(device)
    session.flush()
    if storage_unit:
        _attach(session, now, device, storage_unit)
    audit(
        session, actor, now, "device.register", "device", device.id, after=device_snapshot(device)
    )
    return device, secret


def _attach(session: Session, now: datetime, device: Device, storage_unit: str) -> None:
    unit = storage_unit_by_code(session, storage_unit)
    current = session.scalar(
        select(Device).where(
            Device.storage_unit_id == unit.id, Device.status == "active", Device.id != device.id
        )
    )
    if current is not None:
        # the unit's timeline stays whole: the old sensor is detached, the new one carries on
        _detach(session, now, current)
        current.storage_unit_id = None
    _detach(session, now, device)
    device.storage_unit = unit
    session.add(DeviceAttachment(device_id=device.id, storage_unit_id=unit.id, attached_at=now))


def _detach(session: Session, now: datetime, device: Device) -> None:
    for attachment in session.scalars(
        select(DeviceAttachment).where(
            DeviceAttachment.device_id == device.id, DeviceAttachment.detached_at.is_(None)
        )
    ):
        attachment.detached_at = now


def attach(
    session: Session, actor: Actor, now: datetime, device_id: str, storage_unit: str
) -> Device:
    require(actor, "device.write")
    device = get_device(session, device_id)
    if device.status != "active":
        raise Conflict(f"device {device_id} is {device.status}", code=f"device_{device.status}")
    before = device_snapshot(device)
    _attach(session, now, device, storage_unit)
    audit(
        session,
        actor,
        now,
        "device.attach",
        "device",
        device.id,
        before=before,
        after=device_snapshot(device),
    )
    return device


def end_service(
    session: Session,
    actor: Actor,
    now: datetime,
    device_id: str,
    status: str,
    reason: str | None = None,
) -> Device:
    """Retire a logger or mark it lost: its open excursions close with that reason."""
    require(actor, "device.write")
    if status not in ("retired", "lost"):
        raise InvalidInput("unknown status", fields={"status": ["retired or lost"]})
    device = get_device(session, device_id)
    if device.status != "active":
        raise Conflict(
            f"device {device_id} is already {device.status}", code=f"device_{device.status}"
        )
    before = device_snapshot(device)
    closed = close_excursions_of(
        session, now, device, f"device {status}" + (f": {reason}" if reason else "")
    )
    _detach(session, now, device)
    device.status, device.status_reason = status, reason
    audit(
        session,
        actor,
        now,
        f"device.{status}",
        "device",
        device.id,
        before=before,
        after={**device_snapshot(device), "excursions_closed": closed},
    )
    return device


def list_devices(session: Session, page: PageRequest = FIRST_PAGE) -> Page[Device]:
    return paged(session, select(Device), (asc(Device.id),), page)


def broker_accounts(session: Session) -> dict[str, str]:
    """device id -> password hash, for the devices that may publish (active ones)."""
    return dict(
        session.execute(
            select(Device.id, Device.secret_hash).where(Device.status == "active")
        ).all()
    )
