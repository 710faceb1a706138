"""Storage profiles, unit states and beyond-use dates (BUD).

A unit of vials moves one way through its states::

    ULTRA_FROZEN (-90..-60) -> FROZEN (-25..-15) -> THAWED (2..8) -> PUNCTURED (first dose drawn)

A state may be skipped (a tray thawed straight from the ultra-low freezer), and a product whose
profile sets ``refreeze_allowed`` may go back from FROZEN to ULTRA_FROZEN once. Thawed vaccine
is never refrozen.

Products that are never frozen (influenza, pneumococcal) use THAWED to mean "in the fridge at
2..8": they are received THAWED with ``thawed_at = None`` and their fridge window runs to the
printed expiry (``max_hours = None``).

The beyond-use date is the earliest of: the end of the printed expiry day; the end of the frozen
window; the end of the fridge window counted from thaw; the moment the room-temperature budget
ran out; the end of the in-use window counted from first puncture. A unit is usable strictly
before its BUD.

The figures themselves (hours, ranges) are data in the product catalogue, never constants here:
labels change during a season. All datetimes are timezone-aware; BUDs are returned in UTC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from inventory.domain.errors import Conflict, InvalidInput

# Printed expiry dates are Danish calendar days.
LOCAL_TIME = ZoneInfo("Europe/Copenhagen")


class State(StrEnum):
    ULTRA_FROZEN = "ultra_frozen"
    FROZEN = "frozen"
    THAWED = "thawed"
    PUNCTURED = "punctured"


FROZEN_STATES = frozenset({State.ULTRA_FROZEN, State.FROZEN})

# Vaccine is drawn up only from thawed (or fridge-stored) and opened vials.
ADMINISTRABLE_STATES = frozenset({State.THAWED, State.PUNCTURED})


@dataclass(frozen=True)
class StateWindow:
    """The temperature range of one state and how long a unit may stay in it."""

    min_c: float
    max_c: float
    max_hours: float | None = None  # None: good until printed expiry
    # Spikevax: a shorter fridge window if the unit was frozen longer than this many days
    # after manufacture
    reduced_max_hours: float | None = None
    reduced_if_frozen_over_days: float | None = None


_PROFILE_KEYS = (
    "states",
    "in_use_hours",
    "room_temp_budget_hours",
    "room_temp_max_c",
    "refreeze_allowed",
)
_WINDOW_KEYS = ("min_c", "max_c", "max_hours", "reduced_max_hours", "reduced_if_frozen_over_days")
_PREFIX = "storage_profile"
_STATE_NAMES = frozenset(state.value for state in State)


@dataclass(frozen=True)
class StorageProfile:
    """How a product may be stored, as its label says."""

    windows: Mapping[State, StateWindow]  # the states this product may be in
    in_use_hours: float | None = None  # after first puncture; None for single-dose presentations
    room_temp_budget_hours: float | None = None  # unopened time above the thawed range
    room_temp_max_c: float | None = None  # the warmest that time may be spent at
    refreeze_allowed: bool = False  # FROZEN -> ULTRA_FROZEN once; thawed is never refrozen

    def __post_init__(self) -> None:
        by_state = {State(state): window for state, window in self.windows.items()}
        in_state_order = {state: by_state[state] for state in State if state in by_state}
        object.__setattr__(self, "windows", MappingProxyType(in_state_order))
        problems = _profile_problems(self)
        if problems:
            raise InvalidInput("the storage profile is not valid", fields=problems)

    def __hash__(self) -> int:
        return hash(
            (
                tuple(self.windows.items()),
                self.in_use_hours,
                self.room_temp_budget_hours,
                self.room_temp_max_c,
                self.refreeze_allowed,
            )
        )

    def window(self, state: State) -> StateWindow | None:
        return self.windows.get(state)

    def allows(self, state: State) -> bool:
        return state in self.windows

    def range_for(self, state: State) -> tuple[float, float]:
        window = self.window(state)
        if window is None:
            raise Conflict(
                f"this product may not be kept {state.value.replace('_', ' ')}",
                code="state_not_allowed",
            )
        return window.min_c, window.max_c

    @classmethod
    def from_dict(cls, d: Mapping) -> StorageProfile:
        """Read the JSON form; every problem is reported under its own field key."""
        if not isinstance(d, Mapping):
            raise InvalidInput(
                "the storage profile is not valid", fields={_PREFIX: ["must be an object"]}
            )
        problems = _Problems()
        for key in d:
            if key not in _PROFILE_KEYS:
                problems.add(str(key), "unknown field")
        windows = _read_windows(d.get("states"), problems)
        top = _read_numbers(
            d, ("in_use_hours", "room_temp_budget_hours", "room_temp_max_c"), "", problems
        )
        refreeze_allowed = d.get("refreeze_allowed", False)
        if not isinstance(refreeze_allowed, bool):
            problems.add("refreeze_allowed", "must be true or false")
        if problems.by_field:
            raise InvalidInput("the storage profile is not valid", fields=problems.by_field)
        return cls(windows=windows, refreeze_allowed=refreeze_allowed, **top)

    def to_dict(self) -> dict[str, Any]:
        return {
            "states": {
                state.value: {
                    field: getattr(window, field)
                    for field in _WINDOW_KEYS
                    if getattr(window, field) is not None
                }
                for state, window in self.windows.items()
            },
            "in_use_hours": self.in_use_hours,
            "room_temp_budget_hours": self.room_temp_budget_hours,
            "room_temp_max_c": self.room_temp_max_c,
            "refreeze_allowed": self.refreeze_allowed,
        }


@dataclass(frozen=True)
class UnitClock:
    """What a unit of vials has been through; a repacked child inherits its parent's clock."""

    state: State
    expiry: date  # printed expiry
    thawed_at: datetime | None = None  # when it left frozen storage: the fridge clock starts here
    frozen_since: datetime | None = None  # when it entered State.FROZEN; kept after a refreeze
    punctured_at: datetime | None = None
    manufactured_on: date | None = None
    room_temp_hours: float = 0.0  # cumulative unopened time above the thawed range
    room_temp_exhausted_at: datetime | None = None  # when room_temp_hours reached the budget

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", State(self.state))


def expiry_end(expiry: date) -> datetime:
    """The first instant after the printed expiry day (Danish time), in UTC.

    A unit is usable strictly before this moment, i.e. through the whole expiry day.
    """
    next_midnight = datetime.combine(expiry + timedelta(days=1), time(0), tzinfo=LOCAL_TIME)
    return next_midnight.astimezone(UTC)


def beyond_use_date(profile: StorageProfile, clock: UnitClock) -> datetime:
    """The moment the unit must no longer be used (aware, UTC).

    Raises Conflict(code="clock_incomplete") when a window applies but the time it started
    from was never recorded: guessing would risk using spoiled vaccine.
    """
    limits = [expiry_end(clock.expiry)]

    frozen = profile.window(State.FROZEN)
    if clock.state is State.FROZEN and frozen is not None and frozen.max_hours is not None:
        started = _started(clock.frozen_since, "the time it entered the freezer")
        limits.append(started + _hours(frozen.max_hours))

    fridge = profile.window(State.THAWED)
    if clock.state in ADMINISTRABLE_STATES and fridge is not None and fridge.max_hours is not None:
        started = _started(clock.thawed_at, "the time it was thawed")
        limits.append(started + _hours(_fridge_hours(fridge, clock, started)))

    if clock.room_temp_exhausted_at is not None:
        limits.append(clock.room_temp_exhausted_at)

    if clock.state is State.PUNCTURED:
        opened = _started(clock.punctured_at, "the time of first puncture")
        # A single-dose presentation is used at once: its BUD is the puncture itself.
        limits.append(opened + _hours(profile.in_use_hours or 0.0))

    return min(limit.astimezone(UTC) for limit in limits)


def thaw(profile: StorageProfile, clock: UnitClock, at: datetime) -> UnitClock:
    """Take a frozen unit out to the fridge: its fridge window starts now."""
    _require_aware(at)
    if clock.state not in FROZEN_STATES:
        raise Conflict("the unit is already thawed", code="already_thawed")
    if not profile.allows(State.THAWED):
        raise Conflict("this product may not be kept thawed", code="state_not_allowed")
    _require_within_bud(profile, clock, at, "thawed")
    return replace(clock, state=State.THAWED, thawed_at=at)


def freeze(profile: StorageProfile, clock: UnitClock, to: State, at: datetime) -> UnitClock:
    """Move a frozen unit between ultra-low and ordinary freezer storage.

    ULTRA_FROZEN -> FROZEN starts the frozen window; the label allows a single frozen period,
    so a unit that has already been in FROZEN cannot enter it again. FROZEN -> ULTRA_FROZEN is
    allowed only by ``refreeze_allowed``. Staying in the same state (a move between two freezers
    of the same kind) changes nothing.
    """
    _require_aware(at)
    if to not in _STATE_NAMES or State(to) not in FROZEN_STATES:
        raise InvalidInput(
            f"{to} is not a frozen state", fields={"to": ["must be ultra_frozen or frozen"]}
        )
    to = State(to)
    if clock.state not in FROZEN_STATES:
        raise Conflict("thawed vaccine is never refrozen", code="thawed_never_refrozen")
    if not profile.allows(to):
        raise Conflict(
            f"this product may not be kept {to.value.replace('_', ' ')}", code="state_not_allowed"
        )
    if to == clock.state:
        return clock
    _require_within_bud(profile, clock, at, "moved")
    if to == State.FROZEN:
        if clock.frozen_since is not None:
            raise Conflict(
                "the unit has already used its single frozen period", code="frozen_period_used"
            )
        return replace(clock, state=State.FROZEN, frozen_since=at)
    if not profile.refreeze_allowed:
        raise Conflict(
            "this product may not return to ultra-frozen storage", code="refreeze_not_allowed"
        )
    # frozen_since stays: it marks the single frozen period as used.
    return replace(clock, state=State.ULTRA_FROZEN)


def puncture(profile: StorageProfile, clock: UnitClock, at: datetime) -> UnitClock:
    """Draw the first dose: the in-use window starts now."""
    _require_aware(at)
    if clock.state in FROZEN_STATES:
        raise Conflict("a frozen unit must be thawed before use", code="not_thawed")
    if clock.state is State.PUNCTURED:
        raise Conflict("the unit is already opened", code="already_punctured")
    _require_within_bud(profile, clock, at, "opened")
    return replace(clock, state=State.PUNCTURED, punctured_at=at)


def add_room_temp_exposure(
    profile: StorageProfile, clock: UnitClock, hours: float, at: datetime
) -> UnitClock:
    """Count ``hours`` of unopened time above the thawed range, ending at ``at``.

    The first time the total reaches the budget, ``room_temp_exhausted_at`` records the moment it
    did (``at`` minus the overshoot). A product without room-temperature data has no budget, so
    any exposure exhausts it. Opened vials are governed by the in-use window instead, so their
    clock is returned unchanged.
    """
    _require_aware(at)
    if isinstance(hours, bool) or not math.isfinite(hours) or hours < 0:
        raise InvalidInput(
            f"exposure of {hours} hours", fields={"hours": ["must be zero or more hours"]}
        )
    if clock.state in FROZEN_STATES:
        raise Conflict(
            "a frozen unit above its range has an excursion, not room-temperature time",
            code="not_thawed",
        )
    if clock.state is State.PUNCTURED or hours == 0:
        return clock
    total = clock.room_temp_hours + hours
    exhausted_at = clock.room_temp_exhausted_at
    budget = profile.room_temp_budget_hours or 0.0
    if exhausted_at is None and total >= budget:
        exhausted_at = at - _hours(total - budget)
    return replace(clock, room_temp_hours=total, room_temp_exhausted_at=exhausted_at)


def room_temp_hours_left(profile: StorageProfile, clock: UnitClock) -> float | None:
    """Unopened hours still allowed above the fridge range; None when the product has no data
    (then no time at all is allowed)."""
    if profile.room_temp_budget_hours is None:
        return None
    return max(0.0, profile.room_temp_budget_hours - clock.room_temp_hours)


def is_usable(profile: StorageProfile, clock: UnitClock, at: datetime) -> bool:
    """May a dose be drawn from this unit at ``at``?"""
    _require_aware(at)
    return clock.state in ADMINISTRABLE_STATES and at < beyond_use_date(profile, clock)


# --- helpers --------------------------------------------------------------------------------


def _fridge_hours(fridge: StateWindow, clock: UnitClock, thawed_at: datetime) -> float:
    assert fridge.max_hours is not None
    if fridge.reduced_max_hours is None or fridge.reduced_if_frozen_over_days is None:
        return fridge.max_hours
    if clock.manufactured_on is None:
        # Without a manufacture date the frozen history is unknown: assume the shorter window.
        return fridge.reduced_max_hours
    made = datetime.combine(clock.manufactured_on, time(0), tzinfo=LOCAL_TIME)
    frozen_days = (thawed_at - made) / timedelta(days=1)
    if frozen_days > fridge.reduced_if_frozen_over_days:
        return fridge.reduced_max_hours
    return fridge.max_hours


def _started(moment: datetime | None, what: str) -> datetime:
    if moment is None:
        raise Conflict(
            f"the unit's clock lacks {what}, so its beyond-use date is unknown",
            code="clock_incomplete",
        )
    return moment


def _require_within_bud(profile: StorageProfile, clock: UnitClock, at: datetime, verb: str) -> None:
    # Leaving a state after its window ended must not open a fresh window.
    bud = beyond_use_date(profile, clock)
    if at >= bud:
        raise Conflict(
            f"the unit passed its beyond-use date ({bud.isoformat()}) and cannot be {verb}",
            code="beyond_use_date_passed",
        )


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("times must be timezone-aware")


def _hours(hours: float) -> timedelta:
    return timedelta(hours=hours)


class _Problem:
    def __init__(self, message: str) -> None:
        self.message = message


def _number(d: Mapping, key: str, *, required: bool) -> float | None | _Problem:
    value = d.get(key)
    if value is None:
        return _Problem("is required") if required else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return _Problem("must be a number")
    return float(value)


class _Problems:
    """Problems with a storage profile's JSON form, keyed like its fields."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.by_field.setdefault(f"{_PREFIX}.{key}", []).append(message)


def _read_numbers(
    d: Mapping, keys: tuple[str, ...], prefix: str, problems: _Problems, required=()
) -> dict[str, Any]:
    """The numbers under ``keys`` (None where absent), each problem added under its key."""
    values = {key: _number(d, key, required=key in required) for key in keys}
    for key, value in values.items():
        if isinstance(value, _Problem):
            problems.add(f"{prefix}{key}", value.message)
    return values


def _read_windows(states: object, problems: _Problems) -> dict[State, StateWindow]:
    if not isinstance(states, Mapping) or not states:
        problems.add("states", "at least one state is required")
        return {}
    windows: dict[State, StateWindow] = {}
    for name, window_dict in states.items():
        window = _read_window(name, window_dict, problems)
        if window is not None:
            windows[State(name)] = window
    return windows


def _read_window(name: str, window_dict: object, problems: _Problems) -> StateWindow | None:
    key = f"states.{name}"
    if name not in _STATE_NAMES:
        known = ", ".join(state.value for state in State)
        problems.add(key, f"unknown state; known states are {known}")
        return None
    if not isinstance(window_dict, Mapping):
        problems.add(key, "must be an object")
        return None
    for field in window_dict:
        if field not in _WINDOW_KEYS:
            problems.add(f"{key}.{field}", "unknown field")
    values = _read_numbers(window_dict, _WINDOW_KEYS, f"{key}.", problems, ("min_c", "max_c"))
    if any(isinstance(value, _Problem) for value in values.values()):
        return None
    return StateWindow(**values)


def _profile_problems(profile: StorageProfile) -> dict[str, list[str]]:
    """What makes a profile meaningless, keyed like the fields of its JSON form."""
    problems = _Problems()
    if not profile.windows:
        problems.add("states", "at least one state is required")
    for state, window in profile.windows.items():
        _window_problems(state, window, problems)
    _in_use_problems(profile, problems)
    _room_temp_problems(profile, problems)
    if not isinstance(profile.refreeze_allowed, bool):
        problems.add("refreeze_allowed", "must be true or false")
    elif profile.refreeze_allowed and not FROZEN_STATES <= profile.windows.keys():
        problems.add("refreeze_allowed", "needs both the ultra_frozen and the frozen state")
    return problems.by_field


def _window_problems(state: State, window: StateWindow, problems: _Problems) -> None:
    key = f"states.{state.value}"
    if window.min_c >= window.max_c:
        problems.add(f"{key}.max_c", f"must be above min_c ({window.min_c:g})")
    for field in ("max_hours", "reduced_max_hours", "reduced_if_frozen_over_days"):
        value = getattr(window, field)
        if value is not None and value <= 0:
            problems.add(f"{key}.{field}", "must be more than 0")
    if window.max_hours is not None and state is State.ULTRA_FROZEN:
        problems.add(f"{key}.max_hours", "ultra-frozen storage lasts until the printed expiry")
    if window.max_hours is not None and state is State.PUNCTURED:
        problems.add(f"{key}.max_hours", "the in-use window is set by in_use_hours")
    _reduced_window_problems(state, window, problems)


def _reduced_window_problems(state: State, window: StateWindow, problems: _Problems) -> None:
    """Spikevax's shorter fridge window: thawed only, both figures, shorter than the window."""
    key = f"states.{state.value}.reduced_max_hours"
    reduced, after = window.reduced_max_hours, window.reduced_if_frozen_over_days
    if reduced is None and after is None:
        return
    if state is not State.THAWED:
        problems.add(key, "only the thawed window can be reduced")
    elif reduced is None or after is None:
        problems.add(key, "reduced_max_hours and reduced_if_frozen_over_days go together")
    elif window.max_hours is None or reduced >= window.max_hours:
        problems.add(key, "must be shorter than max_hours")


def _in_use_problems(profile: StorageProfile, problems: _Problems) -> None:
    if profile.in_use_hours is None:
        return
    if profile.in_use_hours <= 0:
        problems.add("in_use_hours", "must be more than 0")
    if not profile.allows(State.PUNCTURED):
        problems.add(
            "states.punctured", "is required with in_use_hours: the range for opened vials"
        )


def _room_temp_problems(profile: StorageProfile, problems: _Problems) -> None:
    budget, warmest = profile.room_temp_budget_hours, profile.room_temp_max_c
    if budget is not None and budget <= 0:
        problems.add("room_temp_budget_hours", "must be more than 0")
    if (budget is None) != (warmest is None):
        problems.add("room_temp_max_c", "room_temp_max_c and room_temp_budget_hours go together")
    fridge = profile.window(State.THAWED)
    if budget is not None and fridge is None:
        problems.add("room_temp_budget_hours", "needs a thawed state to be above")
    if warmest is not None and fridge is not None and warmest <= fridge.max_c:
        problems.add("room_temp_max_c", f"must be above the thawed max_c ({fridge.max_c:g})")
