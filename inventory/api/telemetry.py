"""Devices, readings, excursions and alerts."""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields, validate

from inventory.api import api, body, responses
from inventory.api.contract import Reply, operation
from inventory.api.schemas import AlertQuery, ExcursionQuery, PeriodQuery
from inventory.presentation import iso, next_page_headers, page_of
from inventory.services import alerts, devices, monitoring
from inventory.web_db import get_session, now


class DeviceSchema(Schema):
    id = fields.String(
        required=True,
        validate=validate.Regexp(devices.DEVICE_ID, error="letters, digits, '.', '_' or '-'"),
    )
    storage_unit = fields.String(load_default=None, allow_none=True)
    interval_s = fields.Integer(
        load_default=600, strict=True, validate=validate.Range(min=1, max=86_400)
    )


class AttachSchema(Schema):
    storage_unit = fields.String(required=True)


class OptionalReasonSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class AckSchema(Schema):
    comment = fields.String(required=True, validate=validate.Length(min=1, max=2000))


def device_json(d) -> dict:
    return {
        "id": d.id,
        "storage_unit": d.storage_unit.code if d.storage_unit else None,
        "interval_s": d.interval_s,
        "status": d.status,
        "status_reason": d.status_reason,
        "created_at": iso(d.created_at),
        "last_reading_at": iso(d.last_reading_at),
        "last_heard_at": iso(d.last_heard_at),
        "battery": d.battery,
        "connection": d.connection,
    }


def excursion_json(e) -> dict:
    return {
        "id": e.id,
        "site": e.site.code,
        "storage_unit": e.storage_unit.code,
        "device": e.device_id,
        "direction": e.direction,
        "started_at": iso(e.started_at),
        "ended_at": iso(e.ended_at),
        "open": e.ended_at is None,
        "min_c": e.min_c,
        "max_c": e.max_c,
        "out_of_range_s": e.out_of_range_s,
        "rule": e.rule,
        "fired_at": iso(e.fired_at),
        "closed_reason": e.closed_reason,
    }


@api.get("/devices")
@operation(responses.Device, many=True)
def list_devices(args):
    """Registered loggers."""
    found = devices.list_devices(get_session(), page=page_of(args))
    return Reply([device_json(d) for d in found], headers=next_page_headers(found))


@api.post("/devices")
@operation(responses.RegisteredDevice, status=201, conflicts=("exists",))
@body(DeviceSchema)
def register_device(data):
    """Register a logger (admin); the response carries its secret, shown only this once."""
    device, secret = devices.register_device(
        get_session(),
        g.actor,
        now(),
        device_id=data["id"],
        storage_unit=data["storage_unit"],
        interval_s=data["interval_s"],
    )
    return {**device_json(device), "secret": secret}


@api.post("/devices/<device_id>/attach")
@operation(responses.Device)
@body(AttachSchema)
def attach_device(device_id, data):
    """Attach a logger to a storage unit (a swapped sensor keeps the unit's timeline)."""
    return device_json(
        devices.attach(get_session(), g.actor, now(), device_id, data["storage_unit"])
    )


@api.post("/devices/<device_id>/retire")
@operation(responses.Device)
@body(OptionalReasonSchema)
def retire_device(device_id, data):
    """Retire a logger; its open excursions close with that reason."""
    return device_json(
        devices.end_service(get_session(), g.actor, now(), device_id, "retired", data["reason"])
    )


@api.post("/devices/<device_id>/lost")
@operation(responses.Device)
@body(OptionalReasonSchema)
def lose_device(device_id, data):
    """Mark a logger lost; its open excursions close with that reason."""
    return device_json(
        devices.end_service(get_session(), g.actor, now(), device_id, "lost", data["reason"])
    )


@api.get("/storage-units/<code>/readings")
@operation(responses.Readings, query=PeriodQuery)
def unit_readings(code, args):
    """A unit's readings; long ranges come as min/max per bucket, never averages."""
    start, end = args.get("from_"), args.get("to")
    result = monitoring.readings(get_session(), g.actor, code, start, end, now(), as_json=True)
    out = {
        "storage_unit": code,
        "from": iso(result["from"]),
        "to": iso(result["to"]),
        "resolution": result["resolution"],
        "min_c": result["unit"].min_c,
        "max_c": result["unit"].max_c,
    }
    if result["readings"] is not None:
        out["readings"] = result["readings"]
    else:
        out["buckets"] = [
            {"start": iso(b.start), "min_c": b.min_c, "max_c": b.max_c, "count": b.count}
            for b in result["buckets"]
        ]
    return out


@api.get("/storage-units/<code>/time-in-range")
@operation(responses.TimeInRange, query=PeriodQuery)
def unit_time_in_range(code, args):
    """Share of time in range over a period (each reading holds until the next)."""
    result = monitoring.unit_time_in_range(
        get_session(), g.actor, code, args.get("from_"), args.get("to"), now()
    )
    t = result["result"]
    return {
        "storage_unit": code,
        "from": result["from"],
        "to": result["to"],
        "percent_in_range": t.percent_in_range,
        "covered_s": t.covered_s,
        "in_range_s": t.in_range_s,
        "above_s": t.above_s,
        "below_s": t.below_s,
    }


@api.get("/excursions")
@operation(responses.Excursion, many=True, query=ExcursionQuery)
def list_excursions(args):
    """Excursions by site, storage unit, open or closed."""
    found = monitoring.list_excursions(
        get_session(),
        g.actor,
        site=args.get("site"),
        storage_unit=args.get("storage_unit"),
        open_only=args.get("open"),
        page=page_of(args),
    )
    return Reply([excursion_json(e) for e in found], headers=next_page_headers(found))


@api.get("/alerts")
@operation(responses.Alert, many=True, query=AlertQuery)
def list_alerts(args):
    """Alerts by site and state (open, acknowledged, resolved)."""
    found = alerts.list_alerts(
        get_session(), g.actor, site=args.get("site"), state=args.get("state"), page=page_of(args)
    )
    return Reply([alerts.payload(a) for a in found], headers=next_page_headers(found))


@api.post("/alerts/<id:alert_id>/ack")
@operation(responses.Alert, conflicts=("already_acknowledged",))
@body(AckSchema)
def acknowledge_alert(alert_id, data):
    """Acknowledge an alert with a comment (pharmacist, centre manager of the site, admin)."""
    return alerts.payload(
        alerts.acknowledge(get_session(), g.actor, now(), alert_id, data["comment"])
    )
