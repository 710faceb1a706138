"""The allocation vocabulary: plain, immutable data in and out of the planners.

Days are calendar days (``datetime.date``). A *session* is one day at one site: an opened
multi-dose vial without preservative is discarded at the end of its day (WHO policy), so the
doses left in it are open-vial waste.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

FROZEN_STATES = frozenset({"ultra_frozen", "frozen"})
THAWED = "thawed"
PUNCTURED = "punctured"

WASTE_EXPIRY_OR_BUD = "expiry_or_bud"
WASTE_OPEN_VIAL = "open_vial"

# Realised demand in this group are standby citizens called to fill the vial: they are given
# doses left in vials already opened that day, never open a vial themselves and are never
# counted as unmet appointments.
STANDBY_GROUP = "standby"


@dataclass(frozen=True)
class StockUnit:
    """A carton at the pharmacy or at a site (or planned incoming stock).

    ``bud`` is the beyond-use date of thawed stock (last day usable); ``None`` while frozen, or
    for fridge products whose only limit is the printed ``expiry``. Frozen stock thawed on day
    ``t`` becomes usable until ``min(expiry, t + thawed_window_days - 1)`` and can be shipped
    from day ``t + thaw_lead_days``.
    """

    id: str
    product: str
    lot: str
    state: str
    vials: int
    doses_per_vial: int
    expiry: date
    bud: date | None = None
    thawed_window_days: int | None = None
    thaw_lead_days: int = 0
    available_from: date | None = None
    held: bool = False

    @property
    def is_frozen(self) -> bool:
        return self.state in FROZEN_STATES

    @property
    def last_usable_day(self) -> date:
        """The last day a dose of this unit may be given, as it is now (without a thaw)."""
        return self.expiry if self.bud is None else min(self.expiry, self.bud)


@dataclass(frozen=True)
class Demand:
    """Booked appointments at a site on a day for a product and target group."""

    site: str
    day: date
    product: str
    group: str
    booked: int


@dataclass(frozen=True)
class Site:
    code: str
    capacity_vials: int
    delivery_days: frozenset[int] | None = None
    no_show_rate: float = 0.0
    walk_ins_per_day: Mapping[str, float] = field(default_factory=dict)
    stock: tuple[StockUnit, ...] = ()

    def receives_on(self, day: date) -> bool:
        return self.delivery_days is None or day.weekday() in self.delivery_days


@dataclass(frozen=True)
class OpenRequest:
    """A site's own request for doses of a product for a day (honoured by the baseline).

    With ``until``, the request covers the days ``day .. until``: it stands for the site's
    whole need over them (a weekly order), wanted on ``day``.
    """

    site: str
    product: str
    doses: int
    day: date
    until: date | None = None


@dataclass(frozen=True)
class PlanRequest:
    start: date
    days: int
    pharmacy_stock: tuple[StockUnit, ...]
    sites: tuple[Site, ...]
    demand: tuple[Demand, ...]
    priority: tuple[str, ...] = ()
    open_requests: tuple[OpenRequest, ...] = ()
    unmet_penalty: float = 1000.0
    time_limit_s: float = 10.0
    # hedging (plan_optimal): hold safety_z standard deviations of the day's attendance in a
    # site's fridge each morning on top of the expected need, each dose short costing
    # safety_penalty (between a wasted dose, 1, and an unmet appointment)
    safety_z: float = 0.0
    safety_penalty: float = 10.0
    # the pharmacy repacks into cartons of this many vials per product: plan_fefo, the
    # pharmacist by hand, ships whole cartons (fridge room permitting); plan_optimal ships vials
    carton_vials: Mapping[str, int] = field(default_factory=dict)
    # bookings still to come: on day index t of the plan, the bookings known now are expected
    # to grow to booking_pickup[t] times as many (the last entry for later days); () = none
    booking_pickup: tuple[float, ...] = ()


@dataclass(frozen=True)
class Shipment:
    """``vials`` of stock unit ``stock_id`` delivered to ``site`` on ``day``."""

    site: str
    day: date
    stock_id: str
    vials: int


@dataclass(frozen=True)
class Thaw:
    """``vials`` of frozen stock unit ``stock_id`` taken out of the freezer on ``day``."""

    stock_id: str
    day: date
    vials: int


@dataclass(frozen=True)
class Unmet:
    site: str
    day: date
    product: str
    group: str
    appointments: int


@dataclass(frozen=True)
class FillTheVial:
    """Doses left in the vials a site will open: extra slots the booking side may offer.

    ``vials_opened`` and ``doses_left`` are for the expected number of people;
    ``standby_slots`` is the offer: the most doses left in at least half of the likely
    turnouts (see ``replay``)."""

    site: str
    day: date
    product: str
    vials_opened: int
    doses_left: int
    standby_slots: int


@dataclass(frozen=True)
class Plan:
    method: str
    status: str
    shipments: tuple[Shipment, ...]
    thaws: tuple[Thaw, ...]
    unmet: tuple[Unmet, ...]
    fill_the_vial: tuple[FillTheVial, ...]
    waste_doses: Mapping[str, float]
    doses_used: float
    solve_seconds: float
    objective: float | None


@dataclass(frozen=True)
class PlanOutcome:
    """What happens when a plan meets demand, counted the same way for every method.

    ``pharmacy_stock`` and ``site_stock`` are what is left after the replayed days, ready to
    be the stock of the next request (rolling horizon).
    """

    doses_used: int
    waste_doses: Mapping[str, int]
    unmet_appointments: int
    unmet_by_group: Mapping[str, int]
    doses_thawed: int
    doses_shipped: int
    violations: tuple[str, ...]
    pharmacy_stock: tuple[StockUnit, ...] = ()
    site_stock: Mapping[str, tuple[StockUnit, ...]] = field(default_factory=dict)
    standby_doses: int = 0  # of doses_used: given to standby citizens from opened vials
    waste_by_product: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @property
    def total_waste(self) -> int:
        return sum(self.waste_doses.values())
