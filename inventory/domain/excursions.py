"""Temperature excursions: alarm rules evaluated over one storage unit's logger readings.

Vocabulary (DOMAIN.md section 3):

- A reading is *out of range* when it lies strictly outside the unit's acceptable range: hot
  above ``max_c``, cold below ``min_c``. The range is inclusive, so 2.0 and 8.0 are in range
  for a 2..8 fridge.
- A reading *breaches* a rule when it is at or beyond the rule's threshold: loggers count the
  threshold itself, so a ">= 8.0 C" rule is breached at 8.0.
- An *excursion* is an unbroken run of readings in one direction that are out of range or
  breach a rule of that direction. It starts at the first such reading (a warning) and ends
  at the first reading that is neither, or that turns the other way (hot straight to cold ends
  the hot excursion and starts a cold one at that reading). Because a breach keeps an
  excursion open, every rule fires inside one: a fridge held at exactly 8.0 C is an excursion
  that a ">= 8 C for 10 h" rule turns into an alarm, though it adds no out-of-range time.
- Time is sample-and-hold: the span from one reading to the next takes the state of the
  earlier reading, but never counts for more than ``max_gap_s``. A silent logger must not
  make an excursion endless; the lost-device check deals with silence.
- A rule fires at the first reading at which its breach time reaches its duration, at most
  once per excursion. That reading may be the one that shows the unit back in range: the span
  it closes was held in breach. Where several fire at once, the first in rule order is the
  excursion's alarm.

    instant      fires on the first breaching reading;
    consecutive  breach time adds up while every reading breaches; any other reading resets it;
    cumulative   breach time within the trailing window adds up across excursions, so while
                 the window is still full a later excursion alarms at its first breach.

Readings must be fed in device-time order. Late readings are handled by replaying: evaluate
the whole history again (``evaluate``), or restore a snapshot taken before the late reading.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

DEFAULT_MAX_GAP_S = 3600.0


class Direction(StrEnum):
    HOT = "hot"
    COLD = "cold"


class RuleKind(StrEnum):
    INSTANT = "instant"
    CONSECUTIVE = "consecutive"
    CUMULATIVE = "cumulative"


class EventKind(StrEnum):
    EXCURSION_STARTED = "excursion_started"
    RULE_FIRED = "rule_fired"
    EXCURSION_ENDED = "excursion_ended"


@dataclass(frozen=True)
class Rule:
    """An alarm rule; a copy of it is stored with each excursion it fires in."""

    name: str
    kind: RuleKind
    direction: Direction
    threshold_c: float
    duration_s: float = 0
    window_s: float | None = None

    def __post_init__(self) -> None:
        # Accept the plain strings that come back from storage, keep the enums.
        object.__setattr__(self, "kind", RuleKind(self.kind))
        object.__setattr__(self, "direction", Direction(self.direction))
        if not math.isfinite(self.threshold_c):
            raise ValueError(f"rule {self.name!r}: threshold must be a finite temperature")
        if self.duration_s < 0:
            raise ValueError(f"rule {self.name!r}: duration cannot be negative")
        if self.kind is RuleKind.INSTANT and self.duration_s != 0:
            raise ValueError(f"rule {self.name!r}: an instant rule has no duration")
        if (self.window_s is not None) != (self.kind is RuleKind.CUMULATIVE):
            raise ValueError(f"rule {self.name!r}: a window belongs to cumulative rules, only")
        if self.window_s is not None and self.duration_s > self.window_s:
            raise ValueError(f"rule {self.name!r}: a duration longer than its window never fires")

    def breached_by(self, c: float) -> bool:
        if self.direction is Direction.HOT:
            return c >= self.threshold_c
        return c <= self.threshold_c

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.duration_s)

    @property
    def window(self) -> timedelta | None:
        return None if self.window_s is None else timedelta(seconds=self.window_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": str(self.kind),
            "direction": str(self.direction),
            "threshold_c": self.threshold_c,
            "duration_s": self.duration_s,
            "window_s": self.window_s,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Rule:
        window_s = d.get("window_s")
        return cls(
            name=d["name"],
            kind=RuleKind(d["kind"]),
            direction=Direction(d["direction"]),
            threshold_c=float(d["threshold_c"]),
            duration_s=float(d.get("duration_s", 0)),
            window_s=None if window_s is None else float(window_s),
        )


@dataclass(frozen=True)
class Reading:
    ts: datetime  # device time, timezone-aware
    c: float

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None or self.ts.utcoffset() is None:
            raise ValueError("a reading's time must be timezone-aware")
        if not math.isfinite(self.c):
            raise ValueError("a reading must be a finite temperature")


@dataclass(frozen=True)
class Excursion:
    """One out-of-range episode in one direction."""

    direction: Direction
    started_at: datetime  # first reading of the episode: the warning
    ended_at: datetime | None  # first reading after it that is not part of it; None while open
    min_c: float  # extremes of the episode's readings
    max_c: float
    out_of_range_s: float  # held time of readings strictly outside the range, gaps capped
    fired_rule: Rule | None  # the first rule to fire (the alarm); None means a warning only
    fired_at: datetime | None

    @property
    def open(self) -> bool:
        return self.ended_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": str(self.direction),
            "started_at": self.started_at.isoformat(),
            "ended_at": _iso_or_none(self.ended_at),
            "min_c": self.min_c,
            "max_c": self.max_c,
            "out_of_range_s": self.out_of_range_s,
            "fired_rule": None if self.fired_rule is None else self.fired_rule.to_dict(),
            "fired_at": _iso_or_none(self.fired_at),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Excursion:
        return cls(
            direction=Direction(d["direction"]),
            started_at=datetime.fromisoformat(d["started_at"]),
            ended_at=_datetime_or_none(d["ended_at"]),
            min_c=float(d["min_c"]),
            max_c=float(d["max_c"]),
            out_of_range_s=float(d["out_of_range_s"]),
            fired_rule=None if d["fired_rule"] is None else Rule.from_dict(d["fired_rule"]),
            fired_at=_datetime_or_none(d["fired_at"]),
        )


@dataclass(frozen=True)
class Event:
    """A change the service turns into alerts and holds; emitted in reading order."""

    kind: EventKind  # a str: "excursion_started" | "rule_fired" | "excursion_ended"
    at: datetime  # the reading's device time
    excursion: Excursion  # the episode as of this event
    rule: Rule | None = None  # for rule_fired: the rule that fired (several may fire at once)


# --- default rules per unit kind --------------------------------------------------------


@dataclass(frozen=True)
class RangeEdge:
    """A threshold given relative to the acceptable range, e.g. ``MAX + 17``."""

    edge: Literal["min", "max"]
    offset_c: float = 0.0

    def __add__(self, offset_c: float) -> RangeEdge:
        return replace(self, offset_c=self.offset_c + offset_c)

    def __sub__(self, offset_c: float) -> RangeEdge:
        return replace(self, offset_c=self.offset_c - offset_c)

    def resolve(self, min_c: float, max_c: float) -> float:
        return (min_c if self.edge == "min" else max_c) + self.offset_c


MIN = RangeEdge("min")
MAX = RangeEdge("max")
MINUTES = timedelta(minutes=1)
HOURS = timedelta(hours=1)


@dataclass(frozen=True)
class RuleTemplate:
    """A rule whose threshold may depend on the unit's acceptable range."""

    name: str
    kind: RuleKind
    direction: Direction
    at: float | RangeEdge
    lasting: timedelta = timedelta(0)
    within: timedelta | None = None

    def build(self, min_c: float, max_c: float) -> Rule:
        at = self.at
        threshold = at.resolve(min_c, max_c) if isinstance(at, RangeEdge) else float(at)
        return Rule(
            name=self.name,
            kind=self.kind,
            direction=self.direction,
            threshold_c=threshold,
            duration_s=self.lasting.total_seconds(),
            window_s=None if self.within is None else self.within.total_seconds(),
        )


INSTANT, CONSECUTIVE, CUMULATIVE = RuleKind.INSTANT, RuleKind.CONSECUTIVE, RuleKind.CUMULATIVE
HOT, COLD = Direction.HOT, Direction.COLD

_FRIDGE_RULES = (
    # Freezing ruins most 2..8 C vaccines at once, so any reading near 0 C alarms.
    RuleTemplate("instant freeze", INSTANT, COLD, at=0.5),
    RuleTemplate("freeze alarm", CONSECUTIVE, COLD, at=-0.5, lasting=60 * MINUTES),
    RuleTemplate("cold alarm", CONSECUTIVE, COLD, at=MIN, lasting=60 * MINUTES),
    # A power cut or a door left open in summer.
    RuleTemplate("instant heat", INSTANT, HOT, at=MAX + 17),
    # Potency loss follows cumulative time, so short excursions add up (US graded rule).
    RuleTemplate(
        "cumulative heat", CUMULATIVE, HOT, at=MAX, lasting=60 * MINUTES, within=24 * HOURS
    ),
    RuleTemplate("heat alarm", CONSECUTIVE, HOT, at=MAX, lasting=10 * HOURS),
)

# Defaults from WHO logger presets and a US state programme's graded rule (DOMAIN.md
# section 3). A product or a unit may later override them. Where several rules fire at the
# same reading, the one listed first is recorded as the excursion's alarm.
DEFAULT_RULES: Mapping[str, tuple[RuleTemplate, ...]] = {
    "fridge": _FRIDGE_RULES,
    "cool_box": _FRIDGE_RULES,
    "freezer": (
        RuleTemplate("instant heat", INSTANT, HOT, at=MAX + 10),
        RuleTemplate("heat alarm", CONSECUTIVE, HOT, at=MAX, lasting=30 * MINUTES),
        RuleTemplate("cold alarm", CONSECUTIVE, COLD, at=MIN, lasting=60 * MINUTES),
    ),
    "ultra_low_freezer": (
        RuleTemplate("instant heat", INSTANT, HOT, at=-40.0),
        RuleTemplate("heat alarm", CONSECUTIVE, HOT, at=MAX, lasting=30 * MINUTES),
        RuleTemplate("cold alarm", CONSECUTIVE, COLD, at=MIN, lasting=60 * MINUTES),
    ),
}

UNIT_KINDS = tuple(DEFAULT_RULES)


def acceptable_range(
    min_c: float, max_c: float, product_ranges: Iterable[tuple[float, float]] = ()
) -> tuple[float, float]:
    """The strictest of the unit's own range and the range of every product stored in it.

    Products that cannot share the unit (no common range, or a single point) leave the
    unit's own range in force: a unit must always have some range to be watched against.
    """
    if not min_c < max_c:
        raise ValueError(f"a unit's range needs min < max, got {min_c}..{max_c}")
    ranges = list(product_ranges)
    lo = max([min_c, *(product_min for product_min, _ in ranges)])
    hi = min([max_c, *(product_max for _, product_max in ranges)])
    if not lo < hi:
        return float(min_c), float(max_c)
    return float(lo), float(hi)


def rules_for(
    unit_kind: str,
    min_c: float,
    max_c: float,
    product_ranges: Iterable[tuple[float, float]] = (),
) -> list[Rule]:
    """The default rules for a unit, thresholds set against ``acceptable_range``."""
    try:
        templates = DEFAULT_RULES[unit_kind]
    except KeyError:
        raise ValueError(
            f"unknown unit kind {unit_kind!r}; expected one of {', '.join(UNIT_KINDS)}"
        ) from None
    lo, hi = acceptable_range(min_c, max_c, product_ranges)
    return [template.build(lo, hi) for template in templates]


# --- evaluation -------------------------------------------------------------------------


class _BreachClock:
    """The breach time one rule has seen, counted the way its kind says."""

    __slots__ = ("rule", "run", "spans")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.run = timedelta(0)  # consecutive: the current unbroken breach
        self.spans: deque[tuple[datetime, datetime]] = deque()  # cumulative: breaches in window

    def add(self, start: datetime, end: datetime) -> None:
        if self.rule.kind is RuleKind.CONSECUTIVE:
            self.run += end - start
        elif self.rule.kind is RuleKind.CUMULATIVE:
            if self.spans and self.spans[-1][1] == start:
                self.spans[-1] = (self.spans[-1][0], end)
            else:
                self.spans.append((start, end))
            forget_before = end - self._window
            while self.spans and self.spans[0][1] <= forget_before:
                self.spans.popleft()

    def interrupt(self) -> None:
        """A reading short of the threshold."""
        self.run = timedelta(0)

    @property
    def at_rest(self) -> bool:
        return not self.run and not self.spans

    def is_due(self, as_of: datetime) -> bool:
        return self._breach_time(as_of) >= self.rule.duration

    def _breach_time(self, as_of: datetime) -> timedelta:
        if self.rule.kind is RuleKind.CONSECUTIVE:
            return self.run
        if self.rule.kind is RuleKind.CUMULATIVE:
            window_start = as_of - self._window
            return sum(
                (
                    max(timedelta(0), min(end, as_of) - max(start, window_start))
                    for start, end in self.spans
                ),
                timedelta(0),
            )
        return timedelta(0)

    @property
    def _window(self) -> timedelta:
        assert self.rule.window is not None
        return self.rule.window

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_s": self.run.total_seconds(),
            "spans": [[start.isoformat(), end.isoformat()] for start, end in self.spans],
        }

    def load(self, d: Mapping[str, Any]) -> None:
        self.run = timedelta(seconds=d["run_s"])
        self.spans = deque(
            (datetime.fromisoformat(start), datetime.fromisoformat(end))
            for start, end in d["spans"]
        )


@dataclass
class _Episode:
    """The open excursion, while it is still changing."""

    direction: Direction
    started_at: datetime
    min_c: float
    max_c: float
    out_of_range: timedelta = timedelta(0)
    fired_rule: Rule | None = None
    fired_at: datetime | None = None
    fired: set[int] = field(default_factory=set)  # indexes of the rules fired in it

    def as_excursion(self, ended_at: datetime | None = None) -> Excursion:
        return Excursion(
            direction=self.direction,
            started_at=self.started_at,
            ended_at=ended_at,
            min_c=self.min_c,
            max_c=self.max_c,
            out_of_range_s=self.out_of_range.total_seconds(),
            fired_rule=self.fired_rule,
            fired_at=self.fired_at,
        )

    def to_dict(self) -> dict[str, Any]:
        return self.as_excursion().to_dict() | {"fired": sorted(self.fired)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> _Episode:
        excursion = Excursion.from_dict(d)
        return cls(
            direction=excursion.direction,
            started_at=excursion.started_at,
            min_c=excursion.min_c,
            max_c=excursion.max_c,
            out_of_range=timedelta(seconds=excursion.out_of_range_s),
            fired_rule=excursion.fired_rule,
            fired_at=excursion.fired_at,
            fired=set(d["fired"]),
        )


class Evaluator:
    """Incremental evaluation of one storage unit's readings, fed in device-time order."""

    def __init__(
        self,
        rules: Sequence[Rule],
        min_c: float,
        max_c: float,
        *,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
    ) -> None:
        if not max_gap_s > 0:
            raise ValueError("max_gap_s must be positive")
        self._rules = tuple(rules)
        self._min_c = float(min_c)
        self._max_c = float(max_c)
        self._max_gap_s = float(max_gap_s)
        # Readings strictly between these are in range and breach nothing.
        self._cold_to, self._hot_from = _direction_limits(self._rules)
        _check_directions_exclusive(self._cold_to, self._hot_from, self._min_c, self._max_c)
        self._clocks = [_BreachClock(rule) for rule in self._rules]
        self._last: Reading | None = None
        self._episode: _Episode | None = None
        self._digest: str | None = None  # of the settings, for snapshots
        # The episode and clock parts of the last snapshot; None once anything may have
        # changed them (a quiet reading changes neither).
        self._saved_state: tuple[dict | None, dict] | None = None

    @property
    def last_ts(self) -> datetime | None:
        return None if self._last is None else self._last.ts

    @property
    def open_excursions(self) -> list[Excursion]:
        return [] if self._episode is None else [self._episode.as_excursion()]

    def direction_of(self, c: float) -> Direction | None:
        """The direction a reading of ``c`` counts against, or None if it is unremarkable."""
        if c > self._max_c or self._breaches(c, Direction.HOT):
            return Direction.HOT
        if c < self._min_c or self._breaches(c, Direction.COLD):
            return Direction.COLD
        return None

    def feed(self, reading: Reading) -> list[Event]:
        """Evaluate the next reading; a reading not after the last one is refused."""
        if self._last is not None and reading.ts <= self._last.ts:
            raise ValueError(
                f"reading at {reading.ts.isoformat()} is not after the last one fed "
                f"({self._last.ts.isoformat()}); replay the history instead"
            )
        last = self._last
        if (
            self._episode is None
            and last is not None
            and self._quiet(last.c)
            and self._quiet(reading.c)
        ):
            # Nothing was held in breach and nothing changes: every breach clock is at rest
            # since the last reading (it interrupted them all), so only time moves on.
            self._last = reading
            return []
        self._saved_state = None
        events = [] if last is None else self._hold(last, until=reading.ts)
        events += self._observe(reading)
        self._last = reading
        return events

    def _quiet(self, c: float) -> bool:
        """In range and short of every rule's threshold."""
        return self._min_c <= c <= self._max_c and self._cold_to < c < self._hot_from

    def feed_batch(self, readings: Iterable[Reading]) -> list[Event]:
        """Evaluate a backlog in device-time order, whatever order it arrived in.

        Refused as a whole if any reading is not after the last one fed.
        """
        ordered = in_reading_order(readings)
        if ordered and self._last is not None and ordered[0].ts <= self._last.ts:
            raise ValueError(
                f"batch starts at {ordered[0].ts.isoformat()}, not after the last reading fed "
                f"({self._last.ts.isoformat()}); replay the history instead"
            )
        return [event for reading in ordered for event in self.feed(reading)]

    def _hold(self, held: Reading, *, until: datetime) -> list[Event]:
        """Count the span since the last reading at the value that reading held."""
        counted_until = min(until, held.ts + timedelta(seconds=self._max_gap_s))
        breached = self._breached_by(held.c)
        for index in breached:
            self._clocks[index].add(held.ts, counted_until)
        episode = self._episode
        if episode is None:
            return []
        if self._out_of_range(held.c):
            episode.out_of_range += counted_until - held.ts
        return self._fire_due(episode, breached, at=until, as_of=counted_until)

    def _observe(self, reading: Reading) -> list[Event]:
        """Take in the new reading itself: episode boundaries, extremes, instant breaches."""
        events: list[Event] = []
        breached = self._breached_by(reading.c)
        for index, clock in enumerate(self._clocks):
            if index not in breached:
                clock.interrupt()

        direction = self.direction_of(reading.c)
        episode = self._episode
        if episode is not None and episode.direction != direction:
            ended = episode.as_excursion(ended_at=reading.ts)
            events.append(Event(EventKind.EXCURSION_ENDED, reading.ts, ended))
            self._episode = episode = None
        if direction is None:
            return events

        if episode is None:
            self._episode = episode = _Episode(direction, reading.ts, reading.c, reading.c)
            started = episode.as_excursion()
            events.append(Event(EventKind.EXCURSION_STARTED, reading.ts, started))
        else:
            episode.min_c = min(episode.min_c, reading.c)
            episode.max_c = max(episode.max_c, reading.c)
        events += self._fire_due(episode, breached, at=reading.ts, as_of=reading.ts)
        return events

    def _fire_due(
        self, episode: _Episode, candidates: list[int], *, at: datetime, as_of: datetime
    ) -> list[Event]:
        events = []
        for index in candidates:
            if index in episode.fired or not self._clocks[index].is_due(as_of):
                continue
            rule = self._rules[index]
            episode.fired.add(index)
            if episode.fired_rule is None:
                episode.fired_rule, episode.fired_at = rule, at
            events.append(Event(EventKind.RULE_FIRED, at, episode.as_excursion(), rule=rule))
        return events

    def _breached_by(self, c: float) -> list[int]:
        return [index for index, rule in enumerate(self._rules) if rule.breached_by(c)]

    def _breaches(self, c: float, direction: Direction) -> bool:
        return any(rule.breached_by(c) for rule in self._rules if rule.direction is direction)

    def _out_of_range(self, c: float) -> bool:
        return not self._min_c <= c <= self._max_c

    # --- persistence ---

    def snapshot(self) -> dict[str, Any]:
        """JSON-serialisable state; ``restore`` with the same rules and range rebuilds it.

        Small, because a snapshot is saved per unit per batch: the settings travel as a
        digest, and only the breach clocks that hold something are kept.
        """
        if self._saved_state is None:
            self._saved_state = (
                None if self._episode is None else self._episode.to_dict(),
                {
                    str(index): clock.to_dict()
                    for index, clock in enumerate(self._clocks)
                    if not clock.at_rest
                },
            )
        episode, clocks = self._saved_state
        return {
            "version": SNAPSHOT_VERSION,
            "settings": self._settings_digest(),
            "last": None
            if self._last is None
            else {
                "ts": self._last.ts.isoformat(),
                "c": self._last.c,
            },
            "episode": episode,
            "clocks": clocks,
        }

    @classmethod
    def restore(
        cls,
        rules: Sequence[Rule],
        min_c: float,
        max_c: float,
        snapshot: Mapping[str, Any],
        *,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
    ) -> Evaluator:
        """Rebuild an evaluator from ``snapshot``.

        Raises ValueError if the rules, range or gap differ from the snapshot's: its counters
        mean nothing under other rules, so the caller must replay the readings instead.
        """
        evaluator = cls(rules, min_c, max_c, max_gap_s=max_gap_s)
        settings = evaluator._settings_digest()
        if snapshot.get("version") != SNAPSHOT_VERSION or snapshot.get("settings") != settings:
            raise ValueError(
                "snapshot was taken under other rules, range or gap; replay the readings instead"
            )
        last = snapshot["last"]
        if last is not None:
            evaluator._last = Reading(datetime.fromisoformat(last["ts"]), float(last["c"]))
        if snapshot["episode"] is not None:
            evaluator._episode = _Episode.from_dict(snapshot["episode"])
        for index, saved in snapshot["clocks"].items():
            evaluator._clocks[int(index)].load(saved)
        return evaluator

    def _settings_digest(self) -> str:
        """What a snapshot's counters mean: the rules, range and gap they were counted under."""
        if self._digest is None:
            self._digest = _digest_of(self._rules, self._min_c, self._max_c, self._max_gap_s)
        return self._digest


SNAPSHOT_VERSION = 2


@lru_cache(maxsize=256)
def _digest_of(rules: tuple[Rule, ...], min_c: float, max_c: float, max_gap_s: float) -> str:
    settings = {
        "rules": [rule.to_dict() for rule in rules],
        "min_c": min_c,
        "max_c": max_c,
        "max_gap_s": max_gap_s,
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:32]


def in_reading_order(readings: Iterable[Reading]) -> list[Reading]:
    """Readings sorted by device time, one per timestamp.

    The ingest stores one reading per (device, time); should two still share a time, the
    lower temperature is kept, so that the result never depends on arrival order.
    """
    readings = list(readings)
    if len(readings) < 2:
        return readings
    ordered: list[Reading] = []
    for reading in sorted(readings, key=lambda r: (r.ts, r.c)):
        if not ordered or reading.ts != ordered[-1].ts:
            ordered.append(reading)
    return ordered


def evaluate(
    readings: Iterable[Reading],
    rules: Sequence[Rule],
    min_c: float,
    max_c: float,
    *,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
) -> list[Excursion]:
    """Every excursion in a history of readings, closed and open, in start order."""
    evaluator = Evaluator(rules, min_c, max_c, max_gap_s=max_gap_s)
    events = evaluator.feed_batch(readings)
    closed = [e.excursion for e in events if e.kind is EventKind.EXCURSION_ENDED]
    return closed + evaluator.open_excursions


@lru_cache(maxsize=256)
def _direction_limits(rules: tuple[Rule, ...]) -> tuple[float, float]:
    """The highest cold threshold and the lowest hot one."""
    cold_to = max(
        (r.threshold_c for r in rules if r.direction is Direction.COLD), default=-math.inf
    )
    hot_from = min((r.threshold_c for r in rules if r.direction is Direction.HOT), default=math.inf)
    return cold_to, hot_from


def _check_directions_exclusive(
    cold_to: float, hot_from: float, min_c: float, max_c: float
) -> None:
    """Refuse settings under which one reading could count as both hot and cold."""
    if not (min_c <= max_c and cold_to < hot_from and cold_to <= max_c and hot_from >= min_c):
        raise ValueError(
            f"range {min_c}..{max_c} with cold rules up to {cold_to} and hot rules from "
            f"{hot_from} would let a reading be both hot and cold"
        )


def _iso_or_none(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat()


def _datetime_or_none(s: str | None) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s)
