"""What the planners agree on before they differ: the horizon, who needs doses, and which
stock may be planned at all.

Doses needed at a site on a day, per product::

    need = ceil(sum over groups of booked * pickup[t] * (1 - no_show_rate)
                + walk_ins_per_day[product])

``pickup[t]`` (``PlanRequest.booking_pickup``, 1 when not given) is how much the bookings
known today for day ``t`` of the plan are expected to grow before the day comes.

Walk-ins come on the days a site is open (it has bookings for any product) and count in the
unknown group ``""``. Standby citizens (``STANDBY_GROUP``) only fill vials opened for others,
so they are no part of the need. The whole-dose total is shared among the groups by largest
remainder, ties going to the more important group, so that scarcity can be rationed by priority.

How many people actually come is uncertain: ``turnout`` gives its distribution, each booked
citizen coming with the site's show rate and walk-ins a Poisson count around their expectation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
from scipy.special import gammaln

from inventory.domain.custody import last_day_if_thawed_on
from inventory.domain.errors import InvalidInput

from .model import (
    PUNCTURED,
    STANDBY_GROUP,
    THAWED,
    Demand,
    OpenRequest,
    PlanRequest,
    Site,
    StockUnit,
)

WALK_IN_GROUP = ""

NeedKey = tuple[str, int, str]  # (site, day index, product)


@dataclass(frozen=True)
class Horizon:
    """Day ``0`` is ``start``; the last planned day is ``days - 1``."""

    start: date
    days: int

    def index(self, day: date) -> int:
        return (day - self.start).days

    def date(self, index: int) -> date:
        return self.start + timedelta(days=index)

    @property
    def last(self) -> int:
        return self.days - 1

    def __contains__(self, index: int) -> bool:
        return 0 <= index < self.days


def horizon_of(req: PlanRequest) -> Horizon:
    if req.days <= 0:
        raise InvalidInput("a plan covers at least one day", fields={"days": ["must be >= 1"]})
    codes = [s.code for s in req.sites]
    if len(set(codes)) != len(codes):
        raise InvalidInput("site codes must be unique", fields={"sites": ["duplicate code"]})
    return Horizon(req.start, req.days)


def priority_weight(priority: tuple[str, ...], group: str) -> float:
    """Weight of an unmet appointment: ``1 + (n - rank)`` for the group at ``rank`` (0 = most
    important) of ``n`` listed groups; groups not listed weigh 1."""
    rank = priority.index(group) if group in priority else len(priority)
    return 1.0 + (len(priority) - rank)


def _share_by_largest_remainder(
    total: int, shares: dict[str, float], priority: tuple[str, ...]
) -> dict[str, int]:
    floors = {g: math.floor(v + 1e-9) for g, v in shares.items()}
    left = total - sum(floors.values())
    order = sorted(
        shares,
        key=lambda g: (-(shares[g] - floors[g]), -priority_weight(priority, g), g),
    )
    for g in order[: max(left, 0)]:
        floors[g] += 1
    return {g: n for g, n in floors.items() if n > 0}


def expected_attendance(
    req: PlanRequest, horizon: Horizon | None = None
) -> dict[NeedKey, dict[str, float]]:
    """Expected people per (site, day index, product) and group, before rounding."""
    horizon = horizon or horizon_of(req)
    sites = {s.code: s for s in req.sites}
    booked: dict[NeedKey, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    open_days: dict[str, set[int]] = defaultdict(set)
    for d in req.demand:
        t = horizon.index(d.day)
        if t not in horizon or d.site not in sites or d.booked <= 0 or d.group == STANDBY_GROUP:
            continue
        site = sites[d.site]
        pickup = (
            req.booking_pickup[min(t, len(req.booking_pickup) - 1)] if req.booking_pickup else 1.0
        )
        booked[(d.site, t, d.product)][d.group] += (
            d.booked * max(pickup, 1.0) * (1.0 - site.no_show_rate)
        )
        open_days[d.site].add(t)
    for code, days in open_days.items():
        for product, rate in sites[code].walk_ins_per_day.items():
            if rate > 0:
                for t in days:
                    booked[(code, t, product)][WALK_IN_GROUP] += rate
    return {key: dict(shares) for key, shares in booked.items()}


@lru_cache(maxsize=16384)
def turnout(booked: int, show_rate: float, walk_ins: float) -> tuple[np.ndarray, np.ndarray]:
    """People who may come and the probability of each: every one of ``booked`` comes with
    ``show_rate``, and a Poisson number of walk-ins with mean ``walk_ins`` comes too. Outcomes
    less likely than one in a billion are left out. Arrays are shared: do not write to them."""
    shows_at, shows = _binomial(booked, show_rate)
    walk_at, walk = _poisson(walk_ins)
    p = np.convolve(shows, walk)
    people = np.arange(shows_at + walk_at, shows_at + walk_at + len(p))
    keep = p > 1e-9
    people, p = people[keep], p[keep]
    people.flags.writeable = p.flags.writeable = False
    return people, p


def turnout_of(shares: dict[str, float], site: Site, product: str) -> tuple[np.ndarray, np.ndarray]:
    """The turnout distribution behind an expected attendance (bookings grossed up by the
    booking curve, shown at the site's rate, plus walk-ins). Walk-ins share the unknown
    group with bookings that name none, so they are told apart by the site's own rate."""
    expected = sum(shares.values())
    walk_ins = min(site.walk_ins_per_day.get(product, 0.0), shares.get(WALK_IN_GROUP, 0.0))
    show_rate = 1.0 - site.no_show_rate
    booked = round((expected - walk_ins) / show_rate) if show_rate > 0 else 0
    return turnout(booked, round(show_rate, 4), round(walk_ins, 3))


def _binomial(n: int, q: float) -> tuple[int, np.ndarray]:
    """(first k, pmf from there) over the likely part of Binomial(n, q)."""
    if n <= 0 or q <= 0.0:
        return 0, np.ones(1)
    if q >= 1.0:
        return n, np.ones(1)
    sd = math.sqrt(n * q * (1.0 - q))
    lo, hi = max(0, math.floor(n * q - 9 * sd - 2)), min(n, math.ceil(n * q + 9 * sd + 2))
    k = np.arange(lo, hi + 1)
    log_p = (
        gammaln(n + 1)
        - gammaln(k + 1)
        - gammaln(n - k + 1)
        + k * math.log(q)
        + (n - k) * math.log1p(-q)
    )
    return lo, np.exp(log_p)


def _poisson(mean: float) -> tuple[int, np.ndarray]:
    if mean <= 0:
        return 0, np.ones(1)
    k = np.arange(0, math.ceil(mean + 9 * math.sqrt(mean) + 4))
    return 0, np.exp(-mean + k * math.log(mean) - gammaln(k + 1))


def expected_need(
    req: PlanRequest, horizon: Horizon | None = None
) -> dict[NeedKey, dict[str, int]]:
    """Whole doses expected to be given, per (site, day index, product), split by group."""
    need: dict[NeedKey, dict[str, int]] = {}
    for key, shares in expected_attendance(req, horizon).items():
        total = math.ceil(sum(shares.values()) - 1e-9)
        if total > 0:
            need[key] = _share_by_largest_remainder(total, shares, req.priority)
    return need


def safety_doses(req: PlanRequest, horizon: Horizon | None = None) -> dict[NeedKey, float]:
    """Doses to hold above the expected need: ``safety_z`` standard deviations of a Poisson
    attendance (its square root); none when ``safety_z`` is 0."""
    if req.safety_z <= 0:
        return {}
    return {
        key: req.safety_z * math.sqrt(sum(shares.values()))
        for key, shares in expected_attendance(req, horizon).items()
    }


def realised_need(
    req: PlanRequest, realised: Sequence[Demand], horizon: Horizon
) -> dict[NeedKey, dict[str, int]]:
    """Realised demand lists the people who actually came (no-shows and walk-ins included)."""
    need: dict[NeedKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d in realised:
        t = horizon.index(d.day)
        if t in horizon and d.booked > 0:
            need[(d.site, t, d.product)][d.group] += d.booked
    return {k: dict(v) for k, v in need.items()}


def normalised_requests(req: PlanRequest) -> tuple[OpenRequest, ...]:
    return tuple(r if isinstance(r, OpenRequest) else OpenRequest(*r) for r in req.open_requests)


def plannable_at_pharmacy(unit: StockUnit, start: date) -> bool:
    """Held, expired, BUD-passed, punctured or empty stock is never planned."""
    if unit.held or unit.vials <= 0 or unit.state == PUNCTURED or unit.expiry < start:
        return False
    if unit.is_frozen:
        return True
    return unit.state == THAWED and unit.last_usable_day >= start


def usable_site_stock(site: Site, start: date) -> list[StockUnit]:
    """Thawed, not held stock at a site whose BUD has not passed."""
    return [
        u
        for u in site.stock
        if not u.held and u.vials > 0 and u.state == THAWED and u.last_usable_day >= start
    ]


def bud_after_thaw(unit: StockUnit, thaw_day: date) -> date:
    """The last day the unit is usable if thawed on ``thaw_day`` (see
    ``custody.last_day_if_thawed_on``)."""
    return last_day_if_thawed_on(unit.expiry, unit.thawed_window_days, thaw_day)


def ready_day(unit: StockUnit, start: date) -> date:
    """The first day the pharmacy holds this unit."""
    return max(start, unit.available_from or start)
