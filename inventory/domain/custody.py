"""A carton's custody: the status it is in, what may be done to it, and how doses leave it.

A carton is *available* until something stops it: an undecided hold (*held*), a journey
(*in_transit*), its beyond-use date (*expired*). Once its doses are gone it is *consumed*; a
carton thrown away on a decision or emptied as waste is *discarded*. Consumed and discarded
cartons are history: nothing more is done to them.

Doses are taken from the open vial first, then from new vials; opening a vial starts its
in-use clock, and the open vial's beyond-use date is the earlier of the carton's and the end
of that clock. The doses left in an open vial never count as stock to promise.

Frozen stock thawed on day ``D`` is usable through ``D + window - 1`` (its fridge window in
whole days) or its printed expiry, whichever is first. A planned delivery of frozen stock is
thawed on the latest planned thaw day that leaves the thaw lead time before the delivery, or
just in time when none does, and never before today.

These rules work on any object with the carton's attributes (``CustodyCarton``): the stored
carton in the service, a plain object in a test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from inventory.domain.errors import Conflict
from inventory.domain.stability import (
    FROZEN_STATES,
    LOCAL_TIME,
    State,
    StorageProfile,
    expiry_end,
)


class CartonStatus(StrEnum):
    """Stored as these strings."""

    AVAILABLE = "available"
    HELD = "held"
    IN_TRANSIT = "in_transit"
    EXPIRED = "expired"
    CONSUMED = "consumed"
    DISCARDED = "discarded"


# statuses whose doses are still at a site (counted as stock on hand)
ON_HAND_STATUSES = (CartonStatus.AVAILABLE, CartonStatus.HELD, CartonStatus.EXPIRED)
# statuses of cartons still somewhere: on hand or on their way
PRESENT_STATUSES = (*ON_HAND_STATUSES, CartonStatus.IN_TRANSIT)
# statuses of cartons that are history
GONE_STATUSES = (CartonStatus.CONSUMED, CartonStatus.DISCARDED)

WASTE_REASONS = ("open_vial", "expired", "bud_passed", "broken", "excursion", "recall", "other")


class HoldLike(Protocol):
    @property
    def decision(self) -> str | None: ...


class VialCount(Protocol):
    @property
    def vials(self) -> int: ...
    @property
    def open_vial_doses(self) -> int: ...


class CustodyCarton(Protocol):
    """What the custody rules read and change on a carton."""

    @property
    def id(self) -> int: ...
    @property
    def in_transit(self) -> bool: ...
    @property
    def shipment_id(self) -> int | None: ...
    @property
    def bud(self) -> datetime: ...
    @property
    def holds(self) -> Iterable[HoldLike]: ...

    status: str
    state: str
    vials: int
    doses: int
    open_vial_doses: int
    open_vial_opened_at: datetime | None


# ---------------------------------------------------------------- status


def status_after_change(carton: CustodyCarton, now: datetime) -> CartonStatus:
    """The status a carton settles in once nothing holds it."""
    if carton.doses <= 0:
        return CartonStatus.CONSUMED
    if any(h.decision is None for h in carton.holds):
        return CartonStatus.HELD
    if carton.in_transit:
        return CartonStatus.IN_TRANSIT
    if now >= carton.bud:
        return CartonStatus.EXPIRED
    return CartonStatus.AVAILABLE


def expire_if_due(carton: CustodyCarton, now: datetime) -> bool:
    """Mark an available carton expired once its beyond-use date has passed (the sweep)."""
    if carton.status == CartonStatus.AVAILABLE and now >= carton.bud:
        carton.status = CartonStatus.EXPIRED
        return True
    return False


def days_left(carton: CustodyCarton, now: datetime) -> float:
    """Days until the beyond-use date, rounded down to a tenth."""
    return math.floor((carton.bud - now).total_seconds() / 86400 * 10) / 10


# ---------------------------------------------------------------- what may be done


def require_present(carton: CustodyCarton) -> None:
    """Consumed and discarded cartons are history: nothing more is done to them."""
    if carton.status in GONE_STATUSES:
        raise Conflict(f"carton {carton.id} is {carton.status}", code=str(carton.status))


def require_not_travelling(carton: CustodyCarton, *, hint: str = "") -> None:
    if carton.in_transit:
        raise Conflict(f"carton {carton.id} is in transit{hint}", code="in_transit")


def require_not_picked(carton: CustodyCarton) -> None:
    if carton.shipment_id is not None:
        raise Conflict(
            f"carton {carton.id} is picked for shipment {carton.shipment_id}", code="picked"
        )


def require_movable(carton: CustodyCarton) -> None:
    """Present, not on hold, not travelling and not picked for a shipment."""
    require_present(carton)
    if carton.status == CartonStatus.HELD:
        raise Conflict(f"carton {carton.id} is on hold: release it first", code="held")
    require_not_travelling(carton)
    require_not_picked(carton)


def require_usable(carton: CustodyCarton, expiry: date, now: datetime) -> None:
    """Movable, within its printed ``expiry`` and before its beyond-use date."""
    require_movable(carton)
    if now >= expiry_end(expiry):
        raise Conflict(f"carton {carton.id} expired on {expiry}", code="expired")
    if now >= carton.bud:
        raise Conflict(
            f"carton {carton.id} passed its beyond-use date {carton.bud:%Y-%m-%d %H:%M}Z",
            code="bud_passed",
        )


def require_wastable(carton: CustodyCarton) -> None:
    """Doses are wasted from stock at hand; held stock is a pharmacist's decision."""
    require_present(carton)
    if carton.status == CartonStatus.HELD:
        raise Conflict(
            f"carton {carton.id} is on hold: a pharmacist releases or discards it", code="held"
        )
    require_not_travelling(carton)


def require_administrable(carton: CustodyCarton, expiry: date, now: datetime) -> None:
    require_usable(carton, expiry, now)
    if carton.state in FROZEN_STATES:
        raise Conflict(f"carton {carton.id} is {carton.state}: thaw it first", code="not_thawed")


def require_discardable(carton: CustodyCarton) -> None:
    require_present(carton)
    require_not_travelling(carton, hint=": receive it first")
    require_not_picked(carton)


def require_held(carton: CustodyCarton) -> None:
    if carton.status != CartonStatus.HELD:
        raise Conflict(f"carton {carton.id} is not on hold", code="not_held")


# ---------------------------------------------------------------- vials and doses


def open_vial_bud(carton: CustodyCarton, in_use_hours: float | None) -> datetime | None:
    """When the open vial must be thrown away; None without an open vial."""
    if not carton.open_vial_doses or carton.open_vial_opened_at is None:
        return None
    if in_use_hours is None:
        return carton.bud
    return min(carton.bud, carton.open_vial_opened_at + timedelta(hours=in_use_hours))


def unopened_vials(carton: VialCount) -> int:
    return carton.vials - (1 if carton.open_vial_doses else 0)


def take_doses(
    carton: CustodyCarton,
    doses: int,
    now: datetime,
    *,
    doses_per_vial: int,
    in_use_hours: float | None,
    for_administering: bool,
) -> dict:
    """Take doses from the open vial first, then open vials as needed: opening a vial starts
    its in-use clock. Administering from an open vial past its in-use window is refused.
    Returns what was opened, for the ledger."""
    if doses > carton.doses:
        raise Conflict(
            f"carton {carton.id} holds {carton.doses} doses, not {doses}", code="insufficient_doses"
        )
    if for_administering:
        _require_open_vial_in_use(carton, now, in_use_hours)
    left = doses - _take_from_open_vial(carton, doses)
    opened = _open_vials(carton, left, now, doses_per_vial)
    carton.doses -= doses
    carton.state = _state_after_taking(carton)
    return {"vials_opened": opened}


def _require_open_vial_in_use(
    carton: CustodyCarton, now: datetime, in_use_hours: float | None
) -> None:
    bud = open_vial_bud(carton, in_use_hours)
    if bud is not None and now >= bud:
        raise Conflict(
            f"the open vial of carton {carton.id} passed its in-use window at {bud:%H:%M}Z: "
            "record its doses as waste (open_vial) first",
            code="open_vial_expired",
        )


def _take_from_open_vial(carton: CustodyCarton, doses: int) -> int:
    if not carton.open_vial_doses:
        return 0
    take = min(doses, carton.open_vial_doses)
    carton.open_vial_doses -= take
    if carton.open_vial_doses == 0:
        carton.vials -= 1
        carton.open_vial_opened_at = None
    return take


def _open_vials(carton: CustodyCarton, doses: int, now: datetime, per_vial: int) -> int:
    """Open as many vials as ``doses`` needs; a vial not emptied stays open."""
    opened = 0
    while doses > 0:
        opened += 1
        take = min(doses, per_vial)
        doses -= take
        if take == per_vial:
            carton.vials -= 1
        else:
            carton.open_vial_doses = per_vial - take
            carton.open_vial_opened_at = now
    return opened


def _state_after_taking(carton: CustodyCarton) -> str:
    if carton.open_vial_doses:
        return State.PUNCTURED.value
    return State.THAWED.value if carton.state == State.PUNCTURED else carton.state


def empty(carton: CustodyCarton) -> int:
    """Throw all the carton's doses away; returns how many there were."""
    doses = carton.doses
    carton.doses, carton.vials, carton.open_vial_doses = 0, 0, 0
    carton.status = CartonStatus.DISCARDED
    return doses


# ---------------------------------------------------------------- days of use


def last_usable_day(bud: datetime) -> date:
    """The last local day that ends before the beyond-use moment (a whole day of use)."""
    return bud.astimezone(LOCAL_TIME).date() - timedelta(days=1)


def thawed_window_days(profile: StorageProfile) -> int | None:
    """Whole days a thawed unit of the product keeps in the fridge (the shorter window where
    the label has two); None when the fridge window runs to the printed expiry."""
    window = profile.window(State.THAWED)
    if window is None or window.max_hours is None:
        return None
    hours = min(h for h in (window.max_hours, window.reduced_max_hours) if h is not None)
    return max(int(hours // 24), 0)


def thaw_lead_days(thaw_lead_hours: float | None) -> int:
    """Whole days from taking stock out of the freezer to shipping or giving it."""
    return math.ceil((thaw_lead_hours or 0) / 24)


def last_day_if_thawed_on(expiry: date, window_days: int | None, day: date) -> date:
    """``min(expiry, day + window - 1)``; a product without a fridge window keeps its
    printed expiry."""
    if window_days is None:
        return expiry
    return min(expiry, day + timedelta(days=window_days - 1))


def thaw_day_for_delivery(
    planned_thaws: list[date], ship_day: date, lead_days: int, today: date
) -> date:
    """The day frozen stock for a delivery on ``ship_day`` is thawed: the latest planned thaw
    that leaves the lead time, else just in time; never before ``today``."""
    latest = ship_day - timedelta(days=lead_days)
    in_time = [d for d in planned_thaws if d <= latest]
    return max(max(in_time) if in_time else latest, today)


@dataclass(frozen=True)
class UsableDays:
    """The days a carton's doses can be given at a site: ``first`` .. ``last``."""

    first: date
    last: date


def usable_days(
    *,
    state: str,
    expiry: date,
    bud: datetime,
    arrives: date,
    today: date,
    window_days: int | None,
    lead_days: int,
    thaw_day: date | None = None,
) -> UsableDays | None:
    """Thawed stock is usable from its arrival through its last whole day before the BUD; frozen
    stock as if thawed on ``thaw_day`` (or today), from the thaw lead time after. None when no
    day is left."""
    if state in FROZEN_STATES:
        thawed_on = max(thaw_day or today, today)
        first = max(arrives, thawed_on + timedelta(days=lead_days))
        last = min(last_day_if_thawed_on(expiry, window_days, thawed_on), last_usable_day(bud))
    else:
        first, last = arrives, min(expiry, last_usable_day(bud))
    return UsableDays(first, last) if last >= first else None
