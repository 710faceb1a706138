"""Replaying a plan: one scorer for every method.

Day by day: the plan's thaws, then its shipments (checked against the rules), then each site
gives doses to the people who come, oldest stock first (earliest last-usable day), opening
whole vials; what is left in an opened vial is open-vial waste at the end of the day, and
stock whose last usable day has come is expiry/BUD waste.

Fill-the-vial offers: replayed against the expected need, each session's offer carries the
vials opened and doses left if the expected number of people come, and ``standby_slots``: the
most doses left in at least half of the likely turnouts (``needs.turnout``). A dose offered
and not there sends a standby citizen home; a dose there and not offered is wasted; with the
two weighed alike, the median leftover is the offer that loses least. When turnout is certain
it is the doses left.

Counted as expiry/BUD waste: unused doses at a site, and thawed doses at the pharmacy, whose
last usable day falls within the replayed days. Frozen stock left frozen is never waste.
People who come are served by priority (most important group first) while doses last.
Standby citizens (``STANDBY_GROUP`` in realised demand: those who took up a fill-the-vial
offer) are given only doses left in vials opened that day for others; they never open a
vial and are never unmet.

``realised`` demand lists the people who actually came (booked means attended); without it
the plan is replayed against the expected need (see ``needs``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from .model import (
    STANDBY_GROUP,
    THAWED,
    WASTE_EXPIRY_OR_BUD,
    WASTE_OPEN_VIAL,
    Demand,
    FillTheVial,
    Plan,
    PlanOutcome,
    PlanRequest,
    Shipment,
    Site,
    StockUnit,
    Thaw,
    Unmet,
)
from .needs import (
    Horizon,
    NeedKey,
    bud_after_thaw,
    expected_attendance,
    expected_need,
    horizon_of,
    normalised_requests,
    plannable_at_pharmacy,
    priority_weight,
    realised_need,
    turnout_of,
    usable_site_stock,
)


@dataclass
class _Lot:
    """Thawed vials of one unit with one last usable day (day index)."""

    source: str
    product: str
    dpv: int
    last: int
    vials: int
    ready: int = 0
    expiry: date | None = None
    lot: str = ""


@dataclass
class _Replay:
    outcome: PlanOutcome
    unmet: list[Unmet]
    fill: list[FillTheVial]


def evaluate_plan(
    req: PlanRequest, plan: Plan, realised: Sequence[Demand] | None = None
) -> PlanOutcome:
    """Replay ``plan`` over the whole horizon and count doses used, waste by cause, unmet."""
    return replay(req, plan, realised).outcome


def execute_days(
    req: PlanRequest, plan: Plan, realised: Sequence[Demand] | None, days: int
) -> PlanOutcome:
    """Replay only the first ``days`` days (rolling horizon); the outcome carries the stock
    left at the pharmacy and at the sites, ready for the next request."""
    return replay(req, plan, realised, days).outcome


def replay(
    req: PlanRequest,
    plan: Plan,
    realised: Sequence[Demand] | None = None,
    days: int | None = None,
) -> _Replay:
    """Carry ``plan`` out day by day: thaw, ship, serve, expire (see the module docstring)."""
    days_run = _Days.of(req, plan, realised, days)
    for t in range(days_run.n_days):
        days_run.thaw(t)
        days_run.ship(t)
        days_run.check_capacity(t)
        days_run.serve(t)
        days_run.expire(t)
    return days_run.result()


def _lot_of(unit: StockUnit, horizon: Horizon, ready: int) -> _Lot:
    """A thawed unit as a lot, usable through its last usable day."""
    return _Lot(
        unit.id,
        unit.product,
        unit.doses_per_vial,
        horizon.index(unit.last_usable_day),
        unit.vials,
        ready,
        unit.expiry,
        unit.lot,
    )


def _by_day(actions, horizon: Horizon) -> dict[int, list]:
    by_day: dict[int, list] = defaultdict(list)
    for action in actions:
        by_day[horizon.index(action.day)].append(action)
    return by_day


@dataclass
class _Days:
    """The state of a replay: stock where it is, what has happened so far."""

    req: PlanRequest
    horizon: Horizon
    n_days: int
    planned_need: set[NeedKey]
    need_by_day: dict[int, list[tuple[str, str, dict[str, int]]]]
    attendance: dict[NeedKey, dict[str, float]] | None
    thaws: dict[int, list[Thaw]]
    shipments: dict[int, list[Shipment]]
    sites: dict[str, Site] = field(default_factory=dict)
    units: dict[str, StockUnit] = field(default_factory=dict)
    frozen_left: dict[str, int] = field(default_factory=dict)
    pharmacy: dict[str, list[_Lot]] = field(default_factory=lambda: defaultdict(list))
    at_site: dict[str, list[_Lot]] = field(default_factory=lambda: defaultdict(list))
    capacity: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    used: int = 0
    thawed: int = 0
    shipped: int = 0
    standby: int = 0
    waste: dict[str, int] = field(
        default_factory=lambda: {WASTE_EXPIRY_OR_BUD: 0, WASTE_OPEN_VIAL: 0}
    )
    by_product: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: {WASTE_EXPIRY_OR_BUD: 0, WASTE_OPEN_VIAL: 0})
    )
    unmet_by_group: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unmet: list[Unmet] = field(default_factory=list)
    fill: list[FillTheVial] = field(default_factory=list)

    @classmethod
    def of(
        cls, req: PlanRequest, plan: Plan, realised: Sequence[Demand] | None, days: int | None
    ) -> _Days:
        horizon = horizon_of(req)
        need = (
            expected_need(req, horizon)
            if realised is None
            else realised_need(req, realised, horizon)
        )
        need_by_day: dict[int, list[tuple[str, str, dict[str, int]]]] = defaultdict(list)
        for (code, t, product), groups in sorted(need.items()):
            need_by_day[t].append((code, product, groups))
        state = cls(
            req,
            horizon,
            horizon.days if days is None else min(days, horizon.days),
            _planned_need(req, horizon),
            need_by_day,
            expected_attendance(req, horizon) if realised is None else None,
            _by_day(plan.thaws, horizon),
            _by_day(plan.shipments, horizon),
        )
        state.stock_at_start()
        for t in list(state.thaws) + list(state.shipments):
            if t not in horizon:
                state.violations.append(f"action on {horizon.date(t)} outside the horizon")
        return state

    def stock_at_start(self) -> None:
        req, horizon = self.req, self.horizon
        self.sites = {s.code: s for s in req.sites}
        self.units = {u.id: u for u in req.pharmacy_stock}
        self.frozen_left = {u.id: u.vials for u in req.pharmacy_stock if u.is_frozen}
        for u in req.pharmacy_stock:
            if u.state == THAWED and plannable_at_pharmacy(u, req.start):
                ready = max(0, horizon.index(u.available_from or req.start))
                self.pharmacy[u.id].append(_lot_of(u, horizon, ready))
        for s in req.sites:
            for u in usable_site_stock(s, req.start):
                self.at_site[s.code].append(_lot_of(u, horizon, 0))
        self.capacity = {
            s.code: max(s.capacity_vials, sum(x.vials for x in self.at_site[s.code]))
            for s in req.sites
        }

    # ------------------------------------------------------------ thaw

    def thaw(self, t: int) -> None:
        for th in self.thaws.get(t, []):
            unit = self.thawable(th, self.horizon.date(t))
            if unit is None:
                continue
            vials = min(th.vials, self.frozen_left[unit.id])
            if vials < th.vials:
                self.violations.append(
                    f"thaw of {th.vials} vials of {th.stock_id}: only {vials} frozen"
                )
            self.frozen_left[unit.id] -= vials
            self.thawed += vials * unit.doses_per_vial
            last = self.horizon.index(bud_after_thaw(unit, self.horizon.date(t)))
            self.pharmacy[unit.id].append(
                replace(
                    _lot_of(unit, self.horizon, t + unit.thaw_lead_days), last=last, vials=vials
                )
            )

    def thawable(self, th: Thaw, day: date) -> StockUnit | None:
        """The frozen unit a planned thaw takes out, if it may."""
        unit = self.units.get(th.stock_id)
        if unit is None or not plannable_at_pharmacy(unit, self.req.start):
            self.violations.append(f"thaw of unplannable stock {th.stock_id}")
        elif not unit.is_frozen:
            self.violations.append(f"thaw of {th.stock_id}, which is not frozen")
        elif unit.available_from and day < unit.available_from:
            self.violations.append(f"thaw of {th.stock_id} before it arrives")
        else:
            return unit
        return None

    # ------------------------------------------------------------ ship

    def ship(self, t: int) -> None:
        day = self.horizon.date(t)
        for sh in self.shipments.get(t, []):
            site = self.sites.get(sh.site)
            unit = self.units.get(sh.stock_id)
            if site is None or unit is None or not plannable_at_pharmacy(unit, self.req.start):
                self.violations.append(f"shipment of unplannable stock {sh.stock_id} to {sh.site}")
                continue
            if not site.receives_on(day):
                self.violations.append(f"delivery to {sh.site} on {day}, not a delivery day")
            wanted = self.send(sh, unit, t)
            if wanted:
                self.violations.append(
                    f"{wanted} vials of {sh.stock_id} to {sh.site} on {day} "
                    "not ready at the pharmacy"
                )

    def send(self, sh: Shipment, unit: StockUnit, t: int) -> int:
        """Send the shipment's vials from the unit's lots that are ready, earliest last day
        first; returns the vials that were not there."""
        wanted = sh.vials
        for lot in sorted(self.pharmacy[unit.id], key=lambda x: x.last):
            if wanted == 0:
                break
            if lot.ready > t or lot.last < t or lot.vials == 0:
                continue
            if not self.usable_there(sh.site, lot, t):
                self.violations.append(
                    f"{sh.stock_id} sent to {sh.site}, which cannot use it by its BUD"
                )
            take = min(wanted, lot.vials)
            lot.vials -= take
            wanted -= take
            self.shipped += take * lot.dpv
            self.at_site[sh.site].append(replace(lot, vials=take, ready=t))
        return wanted

    def usable_there(self, code: str, lot: _Lot, t: int) -> bool:
        last = min(lot.last, self.horizon.last)
        return any((code, u, lot.product) in self.planned_need for u in range(t, last + 1))

    def check_capacity(self, t: int) -> None:
        for code, lots in self.at_site.items():
            if sum(x.vials for x in lots) > self.capacity[code]:
                self.violations.append(f"{code} over its capacity on {self.horizon.date(t)}")

    # ------------------------------------------------------------ serve

    def serve(self, t: int) -> None:
        for code, product, groups in self.need_by_day.get(t, []):
            self.session(t, code, product, dict(groups))

    def session(self, t: int, code: str, product: str, groups: dict[str, int]) -> None:
        """One day at one site for one product: open vials oldest first for the people who
        come, fill them with standby citizens, and count who was left without a dose."""
        lots = sorted(
            (x for x in self.at_site[code] if x.product == product and x.last >= t and x.vials),
            key=lambda x: (x.last, x.source),
        )
        standby = groups.pop(STANDBY_GROUP, 0)
        people = sum(groups.values())
        offer = self.likely_offer(t, code, product, lots)
        per_lot, ready = _vials_to_open(lots, people)
        for k, lot in zip(per_lot, lots, strict=True):
            lot.vials -= k
        served = min(people, ready)
        filled = min(standby, ready - served)
        left = ready - served - filled
        self.used += served + filled
        self.standby += filled
        self.waste[WASTE_OPEN_VIAL] += left
        self.by_product[product][WASTE_OPEN_VIAL] += left
        if sum(per_lot):
            day = self.horizon.date(t)
            self.fill.append(
                FillTheVial(
                    code, day, product, sum(per_lot), left, left if offer is None else offer
                )
            )
        self.count_unmet(t, code, product, groups, served)

    def likely_offer(self, t: int, code: str, product: str, lots: list[_Lot]) -> int | None:
        """The standby slots of a session replayed against the expected need."""
        if self.attendance is None or not any(lot.dpv > 1 for lot in lots):
            return None
        shares = self.attendance.get((code, t, product), {})
        return _likely_left(lots, *turnout_of(shares, self.sites[code], product))

    def count_unmet(
        self, t: int, code: str, product: str, groups: dict[str, int], served: int
    ) -> None:
        """Doses go to the most important groups first; the rest are unmet."""
        for group in sorted(groups, key=lambda g: (-priority_weight(self.req.priority, g), g)):
            got = min(groups[group], served)
            served -= got
            short = groups[group] - got
            if short:
                self.unmet_by_group[group] += short
                self.unmet.append(Unmet(code, self.horizon.date(t), product, group, short))

    # ------------------------------------------------------------ expire

    def expire(self, t: int) -> None:
        """Stock whose last usable day has come is waste, at the sites and the pharmacy."""
        for lots in list(self.at_site.values()) + list(self.pharmacy.values()):
            for lot in lots:
                if lot.last <= t and lot.vials:
                    self.waste[WASTE_EXPIRY_OR_BUD] += lot.vials * lot.dpv
                    self.by_product[lot.product][WASTE_EXPIRY_OR_BUD] += lot.vials * lot.dpv
                    lot.vials = 0

    def result(self) -> _Replay:
        outcome = PlanOutcome(
            doses_used=self.used,
            waste_doses=dict(self.waste),
            unmet_appointments=sum(self.unmet_by_group.values()),
            unmet_by_group=dict(self.unmet_by_group),
            doses_thawed=self.thawed,
            doses_shipped=self.shipped,
            violations=tuple(self.violations),
            standby_doses=self.standby,
            waste_by_product={p: dict(w) for p, w in sorted(self.by_product.items())},
            pharmacy_stock=_pharmacy_left(
                self.req, self.horizon, self.n_days, self.units, self.frozen_left, self.pharmacy
            ),
            site_stock={
                code: _site_left(code, self.horizon, lots) for code, lots in self.at_site.items()
            },
        )
        return _Replay(outcome, self.unmet, self.fill)


def _planned_need(req: PlanRequest, horizon: Horizon) -> set[NeedKey]:
    """Where and when the plan may send stock: the expected need, and a site's own order on
    the days it covers."""
    planned: set[NeedKey] = set(expected_need(req, horizon))
    for r in normalised_requests(req):
        last = horizon.index(r.until or r.day)
        planned.update((r.site, t, r.product) for t in range(horizon.index(r.day), last + 1))
    return planned


def _vials_to_open(lots: Sequence[_Lot], people: int) -> tuple[list[int], int]:
    """Vials opened from each lot, in order, to give ``people`` doses (whole vials), and the
    doses in them."""
    opened, doses = [], 0
    for lot in lots:
        k = min(lot.vials, math.ceil(people / lot.dpv)) if people > 0 else 0
        opened.append(k)
        doses += k * lot.dpv
        people -= min(k * lot.dpv, people)
    return opened, doses


def _likely_left(lots: Sequence[_Lot], people: np.ndarray, chance: np.ndarray) -> int:
    """The most doses left in opened vials in at least half of the turnouts."""
    doses = sum(lot.vials * lot.dpv for lot in lots)
    sizes = {lot.dpv for lot in lots}
    if len(sizes) == 1 and doses >= people[-1]:
        dpv = sizes.pop()
        left = np.where(people > 0, -people % dpv, 0)
    else:  # too few doses for some turnouts, or vials of two sizes: open them as replay does
        left = np.empty(len(people), dtype=int)
        for i, n in enumerate(people):
            ready = _vials_to_open(lots, int(n))[1]
            left[i] = ready - min(int(n), ready)
    return likely_left(left, chance)


def likely_left(left: np.ndarray, chance: np.ndarray, share: float = 0.5) -> int:
    """The most doses that are left (``left[i]`` with probability ``chance[i]``) in at least
    ``share`` of the outcomes."""
    # P(left >= k) falls as k grows: the answer is how many k keep it at ``share`` or more
    return sum(
        1 for k in range(1, int(left.max(initial=0)) + 1) if chance[left >= k].sum() >= share - 1e-9
    )


def _as_unit(uid: str, lot: _Lot, horizon: Horizon, n_days: int | None) -> StockUnit:
    arrives = horizon.date(lot.ready) if n_days is not None and lot.ready >= n_days else None
    bud = horizon.date(lot.last)
    suffix = f"@{bud}"
    return StockUnit(
        id=uid if uid.endswith(suffix) else uid + suffix,
        product=lot.product,
        lot=lot.lot,
        state=THAWED,
        vials=lot.vials,
        doses_per_vial=lot.dpv,
        expiry=lot.expiry or bud,
        bud=bud,
        available_from=arrives,
    )


def _pharmacy_left(req, horizon, n_days, units, frozen_left, pharmacy) -> tuple[StockUnit, ...]:
    left: list[StockUnit] = []
    for u in req.pharmacy_stock:
        if u.is_frozen:
            if frozen_left[u.id] > 0:
                left.append(replace(u, vials=frozen_left[u.id]))
        elif not plannable_at_pharmacy(u, req.start):
            left.append(u)
    for uid, lots in pharmacy.items():
        for lot in lots:
            if lot.vials and lot.last >= n_days:
                if units[uid].state == THAWED:
                    left.append(replace(_as_unit(uid, lot, horizon, n_days), id=uid))
                else:
                    left.append(_as_unit(uid, lot, horizon, n_days))
    return _merge(left)


def _site_left(code: str, horizon: Horizon, lots: list[_Lot]) -> tuple[StockUnit, ...]:
    return _merge([_as_unit(lot.source, lot, horizon, None) for lot in lots if lot.vials])


def _merge(units: list[StockUnit]) -> tuple[StockUnit, ...]:
    by_id: dict[str, StockUnit] = {}
    for u in units:
        if u.id in by_id:
            by_id[u.id] = replace(by_id[u.id], vials=by_id[u.id].vials + u.vials)
        else:
            by_id[u.id] = u
    return tuple(by_id.values())


def plan_from_actions(
    req: PlanRequest,
    method: str,
    status: str,
    shipments: tuple,
    thaws: tuple,
    solve_seconds: float,
    objective: float | None,
) -> Plan:
    """Complete a plan's thaws and shipments with what they lead to under the expected need:
    unmet appointments, fill-the-vial offers, waste by cause and doses used."""
    draft = Plan(method, status, shipments, thaws, (), (), {}, 0.0, solve_seconds, objective)
    result = replay(req, draft)
    return replace(
        draft,
        unmet=tuple(result.unmet),
        fill_the_vial=tuple(result.fill),
        waste_doses={k: float(v) for k, v in result.outcome.waste_doses.items()},
        doses_used=float(result.outcome.doses_used),
    )
