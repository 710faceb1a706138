"""The device contract: MQTT topics and payloads exchanged with storage-unit sensors.

Pure Python (no paho), so the ingest worker, the simulator and the tests share one
definition of what a device may send.

Topics
    coldchain/v1/devices/{device_id}/readings   QoS 1, JSON readings (see below)
    coldchain/v1/devices/{device_id}/status     "online" / "offline" (the device's last will)
    coldchain/v1/alerts/{site_code}             alerts published by the service

Readings payload
    one reading:  {"ts": "2026-11-21T10:00:00Z", "c": 4.3}            (may carry "battery")
    a batch:      {"readings": [{"ts": ..., "c": ...}, ...], "battery": 0.87}

    ts is the device's own clock and must carry an explicit UTC offset ("Z", "+00:00" or
    any other offset, converted to UTC). c is degrees Celsius. battery is a fraction 0..1.
    A payload (or one reading of a batch) may name its device ("device": "<id>"); when it
    names another device than the topic's, it is rejected ("device_mismatch").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple
from urllib.parse import unquote, urlsplit

TOPIC_ROOT = "coldchain/v1"
DEVICES_ROOT = f"{TOPIC_ROOT}/devices"
ALERTS_ROOT = f"{TOPIC_ROOT}/alerts"

READINGS_TOPIC = f"{DEVICES_ROOT}/+/readings"
STATUS_TOPIC = f"{DEVICES_ROOT}/+/status"
ALERTS_TOPIC = f"{ALERTS_ROOT}/+"

STATUS_ONLINE = "online"
STATUS_OFFLINE = "offline"

READINGS_QOS = 1

# Also the rule for MQTT usernames of devices, so an id can never smuggle a topic level,
# a wildcard or a password-file separator.
DEVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Device clocks drift; anything further ahead than this is a wrong clock, not a reading.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
MIN_PLAUSIBLE_C = -100.0
MAX_PLAUSIBLE_C = 80.0
MAX_BATCH_READINGS = 10_000
MAX_RAW_CHARS = 2_000

TopicKind = Literal["readings", "status"]


class RejectReason:
    """The stable prefixes of `Rejected.reason` (the part before the first colon)."""

    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    INVALID_BATCH = "invalid_batch"
    BATCH_TOO_LARGE = "batch_too_large"
    MISSING_TS = "missing_ts"
    INVALID_TS = "invalid_ts"
    NAIVE_TS = "naive_ts"
    FUTURE_TS = "future_ts"
    MISSING_C = "missing_c"
    INVALID_C = "invalid_c"
    NON_FINITE_C = "non_finite_c"
    IMPLAUSIBLE_TEMPERATURE = "implausible_temperature"
    INVALID_BATTERY = "invalid_battery"
    DEVICE_MISMATCH = "device_mismatch"
    INVALID_TOPIC = "invalid_topic"
    INVALID_STATUS = "invalid_status"


# --- topics ---------------------------------------------------------------------------


def is_valid_device_id(device_id: str) -> bool:
    return isinstance(device_id, str) and DEVICE_ID_PATTERN.fullmatch(device_id) is not None


def _require_device_id(device_id: str) -> str:
    if not is_valid_device_id(device_id):
        raise ValueError(f"invalid device id {device_id!r}: must match {DEVICE_ID_PATTERN.pattern}")
    return device_id


def readings_topic(device_id: str) -> str:
    return f"{DEVICES_ROOT}/{_require_device_id(device_id)}/readings"


def status_topic(device_id: str) -> str:
    return f"{DEVICES_ROOT}/{_require_device_id(device_id)}/status"


def alerts_topic(site_code: str) -> str:
    if not site_code or any(ch in site_code for ch in "/+#\0") or site_code.isspace():
        raise ValueError(f"invalid site code for a topic level: {site_code!r}")
    return f"{ALERTS_ROOT}/{site_code}"


def shared_subscription(group: str, topic_filter: str) -> str:
    """A `$share` filter: subscribers in one group split the messages between them."""
    if not group or any(ch in group for ch in "/+#"):
        raise ValueError(f"invalid share group name: {group!r}")
    return f"$share/{group}/{topic_filter}"


def parse_topic(topic: str) -> tuple[str, TopicKind] | None:
    """(device_id, "readings" | "status") for a device topic, None for anything else."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:3]) != DEVICES_ROOT:
        return None
    device_id, kind = parts[3], parts[4]
    if kind not in ("readings", "status") or not is_valid_device_id(device_id):
        return None
    return device_id, kind  # type: ignore[return-value]


def decode_status(payload: bytes) -> str | None:
    """ "online" or "offline", None for anything else."""
    try:
        text = payload.decode("utf-8").strip().lower()
    except UnicodeDecodeError:
        return None
    return text if text in (STATUS_ONLINE, STATUS_OFFLINE) else None


# --- readings ---------------------------------------------------------------------------


# Named tuples, not dataclasses: made for every reading, and passed between processes.
class Reading(NamedTuple):
    ts: datetime  # aware, UTC
    c: float


class Rejected(NamedTuple):
    reason: str  # "<code>: <detail>", code from RejectReason
    raw: str  # the offending JSON fragment or payload text, at most MAX_RAW_CHARS

    @property
    def code(self) -> str:
        return self.reason.split(":", 1)[0]


@dataclass(frozen=True)
class Decoded:
    readings: list[Reading] = field(default_factory=list)
    battery: float | None = None
    rejected: list[Rejected] = field(default_factory=list)


class _Invalid(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.reason = f"{code}: {detail}"


def _truncate(text: str) -> str:
    return text[:MAX_RAW_CHARS]


def _fragment(value: Any) -> str:
    try:
        return _truncate(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    except (TypeError, ValueError, RecursionError):
        return _truncate(repr(value))


def _is_number(value: Any) -> bool:
    # JSON true/false arrive as bool, which Python counts as int.
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_ts(value: Any) -> datetime:
    """An ISO 8601 timestamp with an explicit offset, as an aware UTC datetime."""
    if not isinstance(value, str):
        raise _Invalid(RejectReason.INVALID_TS, f"expected a string, got {type(value).__name__}")
    try:
        ts = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _Invalid(RejectReason.INVALID_TS, str(exc)) from None
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise _Invalid(RejectReason.NAIVE_TS, f"{value!r} has no UTC offset")
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        raise _Invalid(RejectReason.INVALID_TS, f"{value!r} is out of range in UTC") from None


def _check_device(document: dict[str, Any], device_id: str | None) -> None:
    if device_id is None or "device" not in document:
        return
    named = document["device"]
    if named != device_id:
        raise _Invalid(
            RejectReason.DEVICE_MISMATCH,
            f"payload names device {_fragment(named)}, published under {device_id!r}",
        )


def _parse_reading(item: Any, now: datetime, device_id: str | None = None) -> Reading:
    if not isinstance(item, dict):
        raise _Invalid(
            RejectReason.NOT_OBJECT, f"a reading must be an object, got {_json_type(item)}"
        )
    _check_device(item, device_id)
    if "ts" not in item:
        raise _Invalid(RejectReason.MISSING_TS, "reading has no 'ts'")
    ts = parse_ts(item["ts"])
    if ts > now + MAX_CLOCK_AHEAD:
        raise _Invalid(
            RejectReason.FUTURE_TS,
            f"{ts.isoformat()} is more than {MAX_CLOCK_AHEAD} after {now.isoformat()}",
        )
    if "c" not in item:
        raise _Invalid(RejectReason.MISSING_C, "reading has no 'c'")
    c = item["c"]
    if not _is_number(c):
        raise _Invalid(RejectReason.INVALID_C, f"expected a number, got {_json_type(c)}")
    if isinstance(c, float) and not math.isfinite(c):
        raise _Invalid(RejectReason.NON_FINITE_C, f"{c!r} is not a finite number")
    # Compared before float() so that a huge JSON integer cannot overflow.
    if not MIN_PLAUSIBLE_C <= c <= MAX_PLAUSIBLE_C:
        raise _Invalid(
            RejectReason.IMPLAUSIBLE_TEMPERATURE,
            f"{c} C is outside {MIN_PLAUSIBLE_C}..{MAX_PLAUSIBLE_C} C",
        )
    return Reading(ts=ts, c=float(c))


def _parse_battery(value: Any) -> float:
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise _Invalid(RejectReason.INVALID_BATTERY, f"expected a number, got {_json_type(value)}")
    if not 0 <= value <= 1:
        raise _Invalid(RejectReason.INVALID_BATTERY, f"{value} is outside 0..1")
    return float(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def decode_readings(payload: bytes, *, now: datetime, device_id: str | None = None) -> Decoded:
    """Decode a readings payload. Never raises for any payload: what cannot be used is
    returned in `rejected`, each with a reason and the offending text, and whatever is
    valid is kept (one bad reading does not spoil its batch; a bad battery value does
    not spoil the readings).

    `now` is the receiver's aware current time, used to reject readings from the future.
    `device_id` is the id in the topic the payload came on: a payload, or a reading of a
    batch, that names another device is rejected as "device_mismatch" (a payload naming a
    device other than its topic's rejects all its readings, battery included).
    A batch longer than MAX_BATCH_READINGS keeps the first MAX_BATCH_READINGS entries
    (each still validated) and rejects the remainder as one "batch_too_large" entry.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    payload = bytes(payload)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raw = _truncate(payload.decode("utf-8", errors="replace"))
        return Decoded(rejected=[Rejected(f"{RejectReason.NOT_UTF8}: {exc}", raw)])
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return Decoded(rejected=[Rejected(f"{RejectReason.NOT_JSON}: {exc}", _truncate(text))])
    if not isinstance(document, dict):
        reason = f"{RejectReason.NOT_OBJECT}: payload is {_json_type(document)}, expected an object"
        return Decoded(rejected=[Rejected(reason, _truncate(text))])

    try:
        _check_device(document, device_id)
    except _Invalid as exc:
        return Decoded(rejected=[Rejected(exc.reason, _truncate(text))])

    readings: list[Reading] = []
    rejected: list[Rejected] = []
    battery: float | None = None

    if "battery" in document and document["battery"] is not None:
        try:
            battery = _parse_battery(document["battery"])
        except _Invalid as exc:
            rejected.append(Rejected(exc.reason, _fragment(document["battery"])))

    if "readings" in document:
        items = document["readings"]
        if not isinstance(items, list):
            reason = (
                f"{RejectReason.INVALID_BATCH}: 'readings' is {_json_type(items)}, "
                "expected an array"
            )
            rejected.append(Rejected(reason, _fragment(items)))
            items = []
        if len(items) > MAX_BATCH_READINGS:
            excess = items[MAX_BATCH_READINGS:]
            items = items[:MAX_BATCH_READINGS]
            reason = (
                f"{RejectReason.BATCH_TOO_LARGE}: {len(excess)} readings beyond the first "
                f"{MAX_BATCH_READINGS} were dropped"
            )
            rejected.append(Rejected(reason, _fragment(excess)))
    else:
        items = [document]

    for item in items:
        try:
            readings.append(_parse_reading(item, now, device_id))
        except _Invalid as exc:
            rejected.append(Rejected(exc.reason, _fragment(item)))
    return Decoded(readings=readings, battery=battery, rejected=rejected)


class Message(NamedTuple):
    """What one MQTT message on a device topic brings."""

    device_id: str | None  # None: not a device topic
    readings: list[Reading]
    rejected: list[Rejected]
    battery: float | None = None
    status: str | None = None  # online / offline, from the status topic


def decode_message(topic: str, payload: bytes, now: datetime) -> Message:
    """Readings, battery or status from any topic and payload, and what could not be used.
    Never raises."""
    parsed = parse_topic(topic)
    if parsed is None:
        return Message(
            None,
            [],
            [Rejected(f"{RejectReason.INVALID_TOPIC}: not a device topic", payload_text(payload))],
        )
    device_id, kind = parsed
    if kind == "status":
        status = decode_status(payload)
        if status is None:
            reason = f"{RejectReason.INVALID_STATUS}: expected online or offline"
            return Message(device_id, [], [Rejected(reason, payload_text(payload))])
        return Message(device_id, [], [], status=status)
    decoded = decode_readings(payload, now=now, device_id=device_id)
    return Message(device_id, decoded.readings, decoded.rejected, decoded.battery)


def payload_text(payload: bytes) -> str:
    """A payload as text to keep with a rejection: decoded leniently, cut to MAX_RAW_CHARS."""
    return bytes(payload[: MAX_RAW_CHARS * 4]).decode("utf-8", errors="replace")[:MAX_RAW_CHARS]


def format_ts(ts: datetime) -> str:
    """UTC ISO 8601 with a "Z" suffix; fractional seconds only when present."""
    if ts.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    ts = ts.astimezone(UTC)
    spec = "microseconds" if ts.microsecond else "seconds"
    return ts.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _reading_object(ts: datetime, c: float) -> dict[str, Any]:
    return {"ts": format_ts(ts), "c": c}


def _dumps(document: dict[str, Any]) -> bytes:
    # allow_nan=False: the encoder only ever produces payloads the contract accepts.
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode("utf-8")


def encode_reading(ts: datetime, c: float, battery: float | None = None) -> bytes:
    document = _reading_object(ts, c)
    if battery is not None:
        document["battery"] = battery
    return _dumps(document)


def encode_batch(
    readings: Iterable[Reading | tuple[datetime, float]], battery: float | None = None
) -> bytes:
    items = []
    for reading in readings:
        ts, c = (reading.ts, reading.c) if isinstance(reading, Reading) else reading
        items.append(_reading_object(ts, c))
    document: dict[str, Any] = {"readings": items}
    if battery is not None:
        document["battery"] = battery
    return _dumps(document)


# --- broker address ---------------------------------------------------------------------


@dataclass(frozen=True)
class MqttUrl:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False

    def __str__(self) -> str:
        """The URL without the password, fit for logs."""
        scheme = "mqtts" if self.tls else "mqtt"
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{host}:{self.port}"


_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


def parse_mqtt_url(url: str) -> MqttUrl:
    """`mqtt://[user[:password]@]host[:port]` or `mqtts://...` (TLS). User and password
    may be percent-encoded. Default ports: 1883 for mqtt, 8883 for mqtts."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"unsupported MQTT URL scheme {parts.scheme!r}: use mqtt:// or mqtts://")
    if not parts.hostname:
        raise ValueError("MQTT URL has no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("MQTT URL must not have a path, query or fragment")
    port = parts.port or _DEFAULT_PORTS[scheme]  # .port raises ValueError when out of range
    return MqttUrl(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=scheme == "mqtts",
    )
