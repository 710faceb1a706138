"""Storage-unit sensor simulator: publishes readings over MQTT as real devices would.

    python -m devices.simulate --url mqtt://127.0.0.1:PORT --devices 50 --interval 60 \\
        --speed 60 --duration 120 --fault power_cut:sim-00003:3600

Traces (pure, testable without a broker)
    Each unit holds its setpoint with a compressor cycle, sensor noise and door openings
    (a rise of a few degrees that decays within minutes). Faults change the physics:
      power_cut     drifts towards room temperature (a fridge about 0.1-0.3 C/min at first),
                    then recovers faster than it warmed once power returns (default 3 h)
      freeze_event  a fridge is driven below 0 C for about 90 minutes (default 97 min)
      thermostat_stuck  the compressor never stops: a fridge falls below 0.5 C within about
                    3 minutes and on towards -15 C (default 60 min); the demo's freeze
    or the publishing:
      silent        publishes nothing (default: until the end of the run)
      backlog       holds its readings, then publishes them as one batch with battery
                    (default 1 h)
    --fault KIND:DEVICE_ID[:AT_S[:FOR_S]], AT_S and FOR_S in simulated seconds from the
    simulated start.

Simulated clock
    Simulated time runs `speed` times faster than real time. Readings carry the simulated
    time, which never gets ahead of the real clock (the ingest rejects readings from the
    future): with speed > 1 the simulated clock starts duration * (speed - 1) seconds in
    the past and reaches the real time at the end of the run, so speed > 1 needs
    --duration. With speed <= 1 it starts now. --interval is in simulated seconds.

Connections
    By default each device has its own connection: client id and username are the device
    id (password from --devices-file), "online" is published retained on its status topic
    on connect, and "offline" is its last will. Each such connection has its own network
    thread, so for thousands of devices use --shared-connection: one connection with the
    URL's credentials publishes for every device (it needs an ACL that allows it, e.g. an
    anonymous test broker); it publishes "online"/"offline" for each device itself and
    cannot give them a last will.
"""

from __future__ import annotations

import argparse
import heapq
import json
import logging
import math
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import paho.mqtt.client as mqtt

from devices.codec import (
    READINGS_QOS,
    STATUS_OFFLINE,
    STATUS_ONLINE,
    MqttUrl,
    Reading,
    encode_batch,
    encode_reading,
    is_valid_device_id,
    parse_mqtt_url,
    readings_topic,
    status_topic,
)
from devices.connection import connect, make_client
from inventory.clock import Clock

log = logging.getLogger("devices.simulate")

ROOM_C = 22.0
MINUTE = 60.0
HOUR = 3600.0


# --- physics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitProfile:
    setpoint_c: float
    noise_sd_c: float
    cycle_amplitude_c: float  # compressor on/off swing
    cycle_period_s: float
    doors_per_hour: float
    door_rise_c: tuple[float, float]
    door_decay_s: float  # time constant of the recovery after a door opening
    warm_tau_s: float  # time constant of the drift to room temperature without power
    cool_tau_s: float  # time constant of the pull back to the setpoint
    freeze_target_c: float  # where a failed thermostat drives the unit
    freeze_tau_s: float
    stuck_target_c: float = -15.0  # where a compressor that never stops drives it


PROFILES: dict[str, UnitProfile] = {
    "fridge": UnitProfile(
        setpoint_c=5.0,
        noise_sd_c=0.1,
        cycle_amplitude_c=0.4,
        cycle_period_s=40 * MINUTE,
        doors_per_hour=1.0,
        door_rise_c=(2.0, 4.0),
        door_decay_s=3 * MINUTE,
        warm_tau_s=85 * MINUTE,
        cool_tau_s=20 * MINUTE,
        freeze_target_c=-2.5,
        freeze_tau_s=10 * MINUTE,
    ),
    "cool_box": UnitProfile(
        setpoint_c=5.0,
        noise_sd_c=0.2,
        cycle_amplitude_c=0.3,
        cycle_period_s=30 * MINUTE,
        doors_per_hour=3.0,
        door_rise_c=(1.5, 3.0),
        door_decay_s=3 * MINUTE,
        warm_tau_s=60 * MINUTE,
        cool_tau_s=20 * MINUTE,
        freeze_target_c=-2.5,
        freeze_tau_s=10 * MINUTE,
    ),
    "freezer": UnitProfile(
        setpoint_c=-20.0,
        noise_sd_c=0.3,
        cycle_amplitude_c=0.8,
        cycle_period_s=45 * MINUTE,
        doors_per_hour=0.5,
        door_rise_c=(2.0, 4.0),
        door_decay_s=4 * MINUTE,
        warm_tau_s=300 * MINUTE,
        cool_tau_s=45 * MINUTE,
        freeze_target_c=-30.0,
        stuck_target_c=-30.0,
        freeze_tau_s=20 * MINUTE,
    ),
    "ultra_low_freezer": UnitProfile(
        setpoint_c=-70.0,
        noise_sd_c=0.3,
        cycle_amplitude_c=1.0,
        cycle_period_s=60 * MINUTE,
        doors_per_hour=0.25,
        door_rise_c=(2.0, 4.0),
        door_decay_s=5 * MINUTE,
        warm_tau_s=600 * MINUTE,
        cool_tau_s=60 * MINUTE,
        freeze_target_c=-85.0,
        stuck_target_c=-85.0,
        freeze_tau_s=30 * MINUTE,
    ),
}
KINDS = tuple(PROFILES)


# --- faults ----------------------------------------------------------------------------

TRACE_FAULTS = ("power_cut", "freeze_event", "thermostat_stuck")
PUBLISH_FAULTS = ("silent", "backlog")
FAULT_KINDS = TRACE_FAULTS + PUBLISH_FAULTS
DEFAULT_FAULT_DURATION_S: dict[str, float | None] = {
    "power_cut": 3 * HOUR,
    # Cools to 0 C in ~11 min and rewarms above it ~4 min after the end: ~90 min below 0 C.
    "freeze_event": 97 * MINUTE,
    "thermostat_stuck": 60 * MINUTE,
    "silent": None,  # until the end of the run
    "backlog": 1 * HOUR,
}


@dataclass(frozen=True)
class Fault:
    kind: str
    device_id: str
    at_s: float = 0.0  # simulated seconds from the start of the run
    duration_s: float | None = None  # None: the kind's default

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        if self.at_s < 0 or (self.duration_s is not None and self.duration_s <= 0):
            raise ValueError("fault start must be >= 0 and duration > 0")

    @property
    def end_s(self) -> float:
        duration = (
            self.duration_s if self.duration_s is not None else DEFAULT_FAULT_DURATION_S[self.kind]
        )
        return math.inf if duration is None else self.at_s + duration

    def active(self, t_s: float) -> bool:
        return self.at_s <= t_s < self.end_s


def parse_fault(text: str) -> Fault:
    """KIND:DEVICE_ID[:AT_S[:FOR_S]]"""
    parts = text.split(":")
    if not 2 <= len(parts) <= 4:
        raise ValueError(f"fault {text!r}: expected KIND:DEVICE_ID[:AT_S[:FOR_S]]")
    kind, device_id = parts[0], parts[1]
    at_s = float(parts[2]) if len(parts) > 2 else 0.0
    duration_s = float(parts[3]) if len(parts) > 3 else None
    return Fault(kind, device_id, at_s, duration_s)


# --- traces ----------------------------------------------------------------------------


def unit_trace(
    profile: UnitProfile,
    *,
    start: datetime,
    interval_s: float,
    seed: int = 0,
    faults: Iterable[Fault] = (),
    origin: datetime | None = None,
) -> Iterator[Reading]:
    """Endless readings at start, start + interval, ... Faults' times count from `origin`
    (default `start`); only the temperature faults (power_cut, freeze_event) apply here."""
    if interval_s <= 0:
        raise ValueError("interval must be positive")
    rng = random.Random(seed)
    origin = origin or start
    offset_s = (start - origin).total_seconds()
    faults = [f for f in faults if f.kind in TRACE_FAULTS]
    cycle_phase = rng.uniform(0, 2 * math.pi)
    core = profile.setpoint_c  # the unit's temperature without doors, cycle and noise
    door = 0.0  # what recent door openings still add
    t = 0.0
    while True:
        fault_t = offset_s + t
        powered = not any(f.kind == "power_cut" and f.active(fault_t) for f in faults)
        cycle = (
            profile.cycle_amplitude_c
            * math.sin(2 * math.pi * t / profile.cycle_period_s + cycle_phase)
            if powered
            else 0.0
        )
        c = core + cycle + door + rng.gauss(0.0, profile.noise_sd_c)
        yield Reading(start + timedelta(seconds=t), round(c, 2))

        # Advance one interval: exponential approach to the current target is exact
        # for any step length.
        if not powered:
            target, tau = ROOM_C, profile.warm_tau_s
        elif any(f.kind == "thermostat_stuck" and f.active(fault_t) for f in faults):
            target, tau = profile.stuck_target_c, profile.freeze_tau_s
        elif any(f.kind == "freeze_event" and f.active(fault_t) for f in faults):
            target, tau = profile.freeze_target_c, profile.freeze_tau_s
        else:
            target, tau = profile.setpoint_c, profile.cool_tau_s
        core = target + (core - target) * math.exp(-interval_s / tau)
        door *= math.exp(-interval_s / profile.door_decay_s)
        if powered and rng.random() < 1 - math.exp(-profile.doors_per_hour * interval_s / HOUR):
            opened_ago = rng.uniform(0, interval_s)
            door += rng.uniform(*profile.door_rise_c) * math.exp(-opened_ago / profile.door_decay_s)
        t += interval_s


def fridge_trace(
    *,
    start: datetime,
    interval_s: float = 10 * MINUTE,
    seed: int = 0,
    faults: Iterable[Fault] = (),
    origin: datetime | None = None,
) -> Iterator[Reading]:
    return unit_trace(
        PROFILES["fridge"],
        start=start,
        interval_s=interval_s,
        seed=seed,
        faults=faults,
        origin=origin,
    )


def ultra_low_trace(
    *,
    start: datetime,
    interval_s: float = 10 * MINUTE,
    seed: int = 0,
    faults: Iterable[Fault] = (),
    origin: datetime | None = None,
) -> Iterator[Reading]:
    return unit_trace(
        PROFILES["ultra_low_freezer"],
        start=start,
        interval_s=interval_s,
        seed=seed,
        faults=faults,
        origin=origin,
    )


# --- one device ------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceSpec:
    id: str
    kind: str = "fridge"
    secret: str | None = None

    def __post_init__(self) -> None:
        if not is_valid_device_id(self.id):
            raise ValueError(f"invalid device id {self.id!r}")
        if self.kind not in PROFILES:
            raise ValueError(
                f"device {self.id}: unknown kind {self.kind!r}; one of {', '.join(KINDS)}"
            )


class SimulatedDevice:
    """A sensor's behaviour without the network: `advance()` takes the next reading and
    returns the payload the device publishes now, or None when it publishes nothing."""

    BATTERY_EVERY = timedelta(hours=1)  # a single reading carries the battery this often
    BATTERY_DRAIN_PER_HOUR = 0.0005

    def __init__(
        self,
        spec: DeviceSpec,
        *,
        start: datetime,
        interval_s: float,
        seed: int = 0,
        faults: Iterable[Fault] = (),
        origin: datetime | None = None,
    ) -> None:
        self.spec = spec
        self.origin = origin or start
        self.faults = [f for f in faults if f.device_id == spec.id]
        self._trace = unit_trace(
            PROFILES[spec.kind],
            start=start,
            interval_s=interval_s,
            seed=seed,
            faults=self.faults,
            origin=self.origin,
        )
        self._next = next(self._trace)
        self._held: list[Reading] = []
        self._battery_start = random.Random(seed ^ 0x5EED).uniform(0.7, 1.0)
        self._battery_sent_at: datetime | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def next_ts(self) -> datetime:
        return self._next.ts

    def battery_at(self, ts: datetime) -> float:
        hours = (ts - self.origin).total_seconds() / HOUR
        return round(max(0.0, self._battery_start - self.BATTERY_DRAIN_PER_HOUR * hours), 3)

    def _fault_active(self, kind: str, ts: datetime) -> bool:
        t = (ts - self.origin).total_seconds()
        return any(f.kind == kind and f.active(t) for f in self.faults)

    def advance(self) -> bytes | None:
        reading, self._next = self._next, next(self._trace)
        if self._fault_active("silent", reading.ts):
            return None
        if self._fault_active("backlog", reading.ts):
            self._held.append(reading)
            return None
        if self._held:
            return self.flush(also=reading)
        battery = None
        if (
            self._battery_sent_at is None
            or reading.ts - self._battery_sent_at >= self.BATTERY_EVERY
        ):
            battery = self.battery_at(reading.ts)
            self._battery_sent_at = reading.ts
        return encode_reading(reading.ts, reading.c, battery)

    def flush(self, also: Reading | None = None) -> bytes | None:
        """Held readings (and `also`) as one batch with battery; None when nothing is held."""
        readings = self._held + ([also] if also else [])
        self._held = []
        if not readings:
            return None
        self._battery_sent_at = readings[-1].ts
        return encode_batch(readings, battery=self.battery_at(readings[-1].ts))


# --- the simulated clock ---------------------------------------------------------------


@dataclass(frozen=True)
class SimClock:
    real_start: datetime
    sim_start: datetime
    speed: float

    @classmethod
    def plan(cls, real_start: datetime, *, speed: float, duration_s: float | None) -> SimClock:
        if speed <= 0:
            raise ValueError("speed must be positive")
        if speed > 1 and duration_s is None:
            raise ValueError(
                "speed > 1 needs a duration, so the simulated clock can start in the past"
            )
        behind = (duration_s or 0.0) * (speed - 1) if speed > 1 else 0.0
        return cls(real_start, real_start - timedelta(seconds=behind), speed)

    def sim_at(self, real: datetime) -> datetime:
        return self.sim_start + (real - self.real_start) * self.speed

    def real_at(self, sim: datetime) -> datetime:
        return self.real_start + (sim - self.sim_start) / self.speed


# --- publishing ------------------------------------------------------------------------


class _Publisher:
    """Sends payloads and keeps track of QoS 1 messages not yet acknowledged."""

    def __init__(self) -> None:
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self.published = 0

    def _track(self, info: mqtt.MQTTMessageInfo) -> None:
        self.published += 1
        self._pending.append(info)
        if len(self._pending) > 10_000:
            self._pending = [i for i in self._pending if not i.is_published()]

    def drain(self, timeout_s: float) -> int:
        """Wait for outstanding acknowledgements; returns how many are still missing."""
        deadline = time.monotonic() + timeout_s
        for info in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if not info.is_published():
                try:
                    info.wait_for_publish(remaining)
                except (RuntimeError, ValueError):
                    pass  # dropped by paho (queue full or connection gone)
        missing = sum(1 for i in self._pending if not i.is_published())
        self._pending = []
        return missing


class PerDeviceConnections(_Publisher):
    def __init__(self, url: MqttUrl, specs: Sequence[DeviceSpec], qos: int) -> None:
        super().__init__()
        self.qos = qos
        self.clients: dict[str, mqtt.Client] = {}
        self._connected: dict[str, threading.Event] = {}
        for spec in specs:
            device_url = (
                replace(url, username=spec.id, password=spec.secret) if spec.secret else url
            )
            client = make_client(device_url, spec.id, persistent=False)
            client.will_set(status_topic(spec.id), STATUS_OFFLINE, qos=1, retain=True)
            connected = threading.Event()
            client.on_connect = self._on_connect_for(spec.id, connected)
            client.max_queued_messages_set(0)
            self.clients[spec.id] = client
            self._connected[spec.id] = connected

    @staticmethod
    def _on_connect_for(device_id: str, connected: threading.Event) -> Callable[..., None]:
        def on_connect(client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
            if reason_code.is_failure:
                log.warning("%s: connection refused: %s", device_id, reason_code)
                return
            client.publish(status_topic(device_id), STATUS_ONLINE, qos=1, retain=True)
            connected.set()

        return on_connect

    def start(self, timeout_s: float) -> None:
        for client in self.clients.values():
            connect(client, asynchronous=True)
            client.loop_start()
        deadline = time.monotonic() + timeout_s
        for device_id, connected in self._connected.items():
            if not connected.wait(max(0.0, deadline - time.monotonic())):
                log.warning("%s: not connected yet; its readings are queued", device_id)

    def publish(self, device_id: str, payload: bytes) -> None:
        self._track(
            self.clients[device_id].publish(readings_topic(device_id), payload, qos=self.qos)
        )

    def stop(self, timeout_s: float) -> int:
        for device_id, client in self.clients.items():
            self._track(client.publish(status_topic(device_id), STATUS_OFFLINE, qos=1, retain=True))
        missing = self.drain(timeout_s)
        for client in self.clients.values():
            client.disconnect()
            client.loop_stop()
        return missing


class SharedConnection(_Publisher):
    def __init__(self, url: MqttUrl, specs: Sequence[DeviceSpec], qos: int, client_id: str) -> None:
        super().__init__()
        self.qos = qos
        self.device_ids = [spec.id for spec in specs]
        self._connected = threading.Event()
        self.client = make_client(url, client_id, persistent=False)
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        if reason_code.is_failure:
            log.warning("shared connection refused: %s", reason_code)
            return
        for device_id in self.device_ids:
            client.publish(status_topic(device_id), STATUS_ONLINE, qos=1, retain=True)
        self._connected.set()

    def start(self, timeout_s: float) -> None:
        connect(self.client, asynchronous=True)
        self.client.loop_start()
        if not self._connected.wait(timeout_s):
            log.warning("shared connection not up yet; readings are queued")

    def publish(self, device_id: str, payload: bytes) -> None:
        self._track(self.client.publish(readings_topic(device_id), payload, qos=self.qos))

    def stop(self, timeout_s: float) -> int:
        for device_id in self.device_ids:
            self._track(
                self.client.publish(status_topic(device_id), STATUS_OFFLINE, qos=1, retain=True)
            )
        missing = self.drain(timeout_s)
        self.client.disconnect()
        self.client.loop_stop()
        return missing


# --- the run ---------------------------------------------------------------------------


@dataclass
class Options:
    url: str
    devices: list[DeviceSpec]
    interval_s: float = 10.0
    speed: float = 1.0
    duration_s: float | None = None
    faults: list[Fault] = field(default_factory=list)
    shared_connection: bool = False
    seed: int = 0
    qos: int = READINGS_QOS
    connect_timeout_s: float = 10.0


@dataclass(frozen=True)
class RunResult:
    sim_start: datetime
    sim_end: datetime
    published: int  # payloads handed to the client, including status messages
    unacknowledged: int


def generate_devices(count: int, prefix: str = "sim", kind: str = "fridge") -> list[DeviceSpec]:
    return [DeviceSpec(f"{prefix}-{i:05d}", kind) for i in range(1, count + 1)]


def load_devices_file(path: str | Path) -> list[DeviceSpec]:
    """[{"id": "...", "secret": "...", "kind": "fridge"}, ...]"""
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON array of devices")
    return [DeviceSpec(e["id"], e.get("kind", "fridge"), e.get("secret")) for e in entries]


def build_devices(options: Options, sim_start: datetime) -> list[SimulatedDevice]:
    known = {spec.id for spec in options.devices}
    for fault in options.faults:
        if fault.device_id not in known:
            raise ValueError(f"fault for unknown device {fault.device_id!r}")
    rng = random.Random(options.seed)
    devices = []
    for spec in options.devices:
        # Devices do not all report at the same instant.
        phase = timedelta(seconds=rng.uniform(0, options.interval_s))
        devices.append(
            SimulatedDevice(
                spec,
                start=sim_start + phase,
                interval_s=options.interval_s,
                seed=rng.randrange(2**32),
                faults=options.faults,
                origin=sim_start,
            )
        )
    return devices


def run(
    options: Options, *, stop: threading.Event | None = None, clock: Clock | None = None
) -> RunResult:
    stop = stop or threading.Event()
    clock = clock or Clock()
    url = parse_mqtt_url(options.url)
    if options.shared_connection:
        client_id = f"simulator-{options.devices[0].id if options.devices else 'none'}"
        publisher: PerDeviceConnections | SharedConnection = SharedConnection(
            url, options.devices, options.qos, client_id
        )
    else:
        publisher = PerDeviceConnections(url, options.devices, options.qos)
    publisher.start(options.connect_timeout_s)

    sim_clock = SimClock.plan(clock.now(), speed=options.speed, duration_s=options.duration_s)
    sim_end = (
        sim_clock.sim_at(sim_clock.real_start + timedelta(seconds=options.duration_s))
        if options.duration_s is not None
        else datetime.max.replace(tzinfo=UTC)
    )
    devices = build_devices(options, sim_clock.sim_start)
    log.info(
        "simulating %d devices from %s at speed %g over %s",
        len(devices),
        sim_clock.sim_start.isoformat(),
        options.speed,
        url,
    )
    queue = [(device.next_ts, index) for index, device in enumerate(devices)]
    heapq.heapify(queue)
    try:
        while queue and not stop.is_set():
            due, index = queue[0]
            if due > sim_end:
                break
            wait_s = (sim_clock.real_at(due) - clock.now()).total_seconds()
            if wait_s > 0:
                stop.wait(min(wait_s, 0.5))
                continue
            device = devices[index]
            payload = device.advance()
            if payload is not None:
                publisher.publish(device.id, payload)
            heapq.heapreplace(queue, (device.next_ts, index))
    finally:
        missing = publisher.stop(timeout_s=10.0)
    return RunResult(
        sim_clock.sim_start,
        min(sim_end, sim_clock.sim_at(clock.now())),
        publisher.published,
        missing,
    )


# --- command line ----------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m devices.simulate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--url", required=True, help="mqtt://[user:password@]host:port")
    parser.add_argument("--devices", type=int, default=0, help="number of generated devices")
    parser.add_argument("--prefix", default="sim", help="id prefix of generated devices")
    parser.add_argument("--kind", default="fridge", choices=KINDS, help="kind of generated devices")
    parser.add_argument("--devices-file", help='JSON: [{"id": ..., "secret": ..., "kind": ...}]')
    parser.add_argument(
        "--interval", type=float, default=10.0, help="simulated seconds between readings"
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument(
        "--duration", type=float, help="real seconds to run (default: until stopped)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        type=parse_fault,
        metavar="KIND:DEVICE_ID[:AT_S[:FOR_S]]",
        help=f"one of {', '.join(FAULT_KINDS)}; times in simulated seconds from the start",
    )
    parser.add_argument(
        "--shared-connection",
        action="store_true",
        help="publish for all devices over one connection",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--qos", type=int, default=READINGS_QOS, choices=(0, 1, 2))
    args = parser.parse_args(argv)

    specs = load_devices_file(args.devices_file) if args.devices_file else []
    specs += generate_devices(args.devices, args.prefix, args.kind)
    if not specs:
        parser.error("no devices: give --devices N or --devices-file")
    if len({s.id for s in specs}) != len(specs):
        parser.error("device ids must be unique")
    if args.speed > 1 and args.duration is None:
        parser.error("--speed > 1 needs --duration (the simulated clock starts in the past)")
    if args.interval <= 0 or args.speed <= 0:
        parser.error("--interval and --speed must be positive")
    return Options(
        url=args.url,
        devices=specs,
        interval_s=args.interval,
        speed=args.speed,
        duration_s=args.duration,
        faults=args.fault,
        shared_connection=args.shared_connection,
        seed=args.seed,
        qos=args.qos,
    )


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    options = parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = run(options, stop=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(
        f"published {result.published} messages, simulated {result.sim_start.isoformat()} .. "
        f"{result.sim_end.isoformat()}, unacknowledged {result.unacknowledged}",
        file=sys.stderr,
    )
    return 0 if result.unacknowledged == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
