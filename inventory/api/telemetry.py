"""Devices, readings, excursions and alerts."""

from __future__ import annotations

from flask import g, jsonify, request
from marshmallow import Schema, fields, validate

from inventory.api import api, body, created
from inventory.api.render import iso
from inventory.domain.errors import InvalidInput
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


class PeriodSchema(Schema):
    from_ = fields.AwareDateTime(data_key="from", load_default=None)
    to = fields.AwareDateTime(load_default=None)


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


def _period():
    period = PeriodSchema().load(request.args.to_dict())
    return period["from_"], period["to"]


@api.get("/devices")
def list_devices():
    """Registered loggers."""
    return jsonify([device_json(d) for d in devices.list_devices(get_session())])


@api.post("/devices")
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
    return created({**device_json(device), "secret": secret})


@api.post("/devices/<device_id>/attach")
@body(AttachSchema)
def attach_device(device_id, data):
    """Attach a logger to a storage unit (a swapped sensor keeps the unit's timeline)."""
    return jsonify(
        device_json(devices.attach(get_session(), g.actor, now(), device_id, data["storage_unit"]))
    )


@api.post("/devices/<device_id>/retire")
@body(OptionalReasonSchema)
def retire_device(device_id, data):
    """Retire a logger; its open excursions close with that reason."""
    return jsonify(
        device_json(
            devices.end_service(get_session(), g.actor, now(), device_id, "retired", data["reason"])
        )
    )


@api.post("/devices/<device_id>/lost")
@body(OptionalReasonSchema)
def lose_device(device_id, data):
    """Mark a logger lost; its open excursions close with that reason."""
    return jsonify(
        device_json(
            devices.end_service(get_session(), g.actor, now(), device_id, "lost", data["reason"])
        )
    )


@api.get("/storage-units/<code>/readings")
def unit_readings(code):
    """A unit's readings; long ranges come as min/max per bucket, never averages."""
    start, end = _period()
    result = monitoring.readings(get_session(), g.actor, code, start, end, now())
    out = {
        "storage_unit": code,
        "from": iso(result["from"]),
        "to": iso(result["to"]),
        "resolution": result["resolution"],
        "min_c": result["unit"].min_c,
        "max_c": result["unit"].max_c,
    }
    if result["readings"] is not None:
        out["readings"] = [{"ts": iso(ts), "c": c} for ts, c in result["readings"]]
    else:
        out["buckets"] = [
            {"start": iso(b.start), "min_c": b.min_c, "max_c": b.max_c, "count": b.count}
            for b in result["buckets"]
        ]
    return jsonify(out)


@api.get("/storage-units/<code>/time-in-range")
def unit_time_in_range(code):
    """Share of time in range over a period (each reading holds until the next)."""
    start, end = _period()
    result = monitoring.unit_time_in_range(get_session(), g.actor, code, start, end, now())
    t = result["result"]
    return jsonify(
        {
            "storage_unit": code,
            "from": iso(result["from"]),
            "to": iso(result["to"]),
            "percent_in_range": t.percent_in_range,
            "covered_s": t.covered_s,
            "in_range_s": t.in_range_s,
            "above_s": t.above_s,
            "below_s": t.below_s,
        }
    )


@api.get("/excursions")
def list_excursions():
    """Excursions by site, storage unit, open or closed."""
    flag = request.args.get("open")
    if flag not in (None, "", "true", "false", "1", "0"):
        raise InvalidInput("open is true or false", fields={"open": ["true or false"]})
    open_only = None if flag in (None, "") else flag in ("true", "1")
    found = monitoring.list_excursions(
        get_session(),
        g.actor,
        site=request.args.get("site"),
        storage_unit=request.args.get("storage_unit"),
        open_only=open_only,
    )
    return jsonify([excursion_json(e) for e in found])


@api.get("/alerts")
def list_alerts():
    """Alerts by site and state (open, acknowledged, resolved)."""
    found = alerts.list_alerts(
        get_session(), g.actor, site=request.args.get("site"), state=request.args.get("state")
    )
    return jsonify([alerts.payload(a) for a in found])


@api.post("/alerts/<id:alert_id>/ack")
@body(AckSchema)
def acknowledge_alert(alert_id, data):
    """Acknowledge an alert with a comment (pharmacist, centre manager of the site, admin)."""
    return jsonify(
        alerts.payload(alerts.acknowledge(get_session(), g.actor, now(), alert_id, data["comment"]))
    )
