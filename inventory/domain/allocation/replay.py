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
from dataclasses import dataclass, replace
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
    StockUnit,
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
    horizon = horizon_of(req)
    n_days = horizon.days if days is None else min(days, horizon.days)
    planned_need: set[NeedKey] = set(expected_need(req, horizon))
    for r in normalised_requests(req):  # a site's own order claims a need on its days
        last = horizon.index(r.until or r.day)
        planned_need.update((r.site, t, r.product) for t in range(horizon.index(r.day), last + 1))
    need = (
        expected_need(req, horizon) if realised is None else realised_need(req, realised, horizon)
    )
    attendance = expected_attendance(req, horizon) if realised is None else None
    need_by_day: dict[int, list[tuple[str, str, dict[str, int]]]] = defaultdict(list)
    for (code, t, product), groups in sorted(need.items()):
        need_by_day[t].append((code, product, groups))
    sites = {s.code: s for s in req.sites}
    violations: list[str] = []

    units = {u.id: u for u in req.pharmacy_stock}
    frozen_left = {u.id: u.vials for u in req.pharmacy_stock if u.is_frozen}
    pharmacy: dict[str, list[_Lot]] = defaultdict(list)
    for u in req.pharmacy_stock:
        if u.state == THAWED and plannable_at_pharmacy(u, req.start):
            pharmacy[u.id].append(
                _Lot(
                    u.id,
                    u.product,
                    u.doses_per_vial,
                    horizon.index(u.last_usable_day),
                    u.vials,
                    max(0, horizon.index(u.available_from or req.start)),
                    u.expiry,
                    u.lot,
                )
            )
    at_site: dict[str, list[_Lot]] = defaultdict(list)
    for s in req.sites:
        for u in usable_site_stock(s, req.start):
            at_site[s.code].append(
                _Lot(
                    u.id,
                    u.product,
                    u.doses_per_vial,
                    horizon.index(u.last_usable_day),
                    u.vials,
                    0,
                    u.expiry,
                    u.lot,
                )
            )
    capacity = {
        s.code: max(s.capacity_vials, sum(x.vials for x in at_site[s.code])) for s in req.sites
    }

    thaws = defaultdict(list)
    for th in plan.thaws:
        thaws[horizon.index(th.day)].append(th)
    shipments = defaultdict(list)
    for sh in plan.shipments:
        shipments[horizon.index(sh.day)].append(sh)
    for t in list(thaws) + list(shipments):
        if t not in horizon:
            violations.append(f"action on {horizon.date(t)} outside the horizon")

    used = thawed = shipped = filled_total = 0
    waste = {WASTE_EXPIRY_OR_BUD: 0, WASTE_OPEN_VIAL: 0}
    by_product: dict[str, dict[str, int]] = defaultdict(
        lambda: {WASTE_EXPIRY_OR_BUD: 0, WASTE_OPEN_VIAL: 0}
    )
    unmet_by_group: dict[str, int] = defaultdict(int)
    unmet: list[Unmet] = []
    fill: list[FillTheVial] = []

    for t in range(n_days):
        day = horizon.date(t)
        for th in thaws.get(t, []):
            unit = units.get(th.stock_id)
            if unit is None or not plannable_at_pharmacy(unit, req.start):
                violations.append(f"thaw of unplannable stock {th.stock_id}")
                continue
            if not unit.is_frozen:
                violations.append(f"thaw of {th.stock_id}, which is not frozen")
                continue
            if unit.available_from and day < unit.available_from:
                violations.append(f"thaw of {th.stock_id} before it arrives")
                continue
            vials = min(th.vials, frozen_left[unit.id])
            if vials < th.vials:
                violations.append(f"thaw of {th.vials} vials of {th.stock_id}: only {vials} frozen")
            frozen_left[unit.id] -= vials
            thawed += vials * unit.doses_per_vial
            pharmacy[unit.id].append(
                _Lot(
                    unit.id,
                    unit.product,
                    unit.doses_per_vial,
                    horizon.index(bud_after_thaw(unit, day)),
                    vials,
                    t + unit.thaw_lead_days,
                    unit.expiry,
                    unit.lot,
                )
            )
        for sh in shipments.get(t, []):
            site = sites.get(sh.site)
            unit = units.get(sh.stock_id)
            if site is None or unit is None or not plannable_at_pharmacy(unit, req.start):
                violations.append(f"shipment of unplannable stock {sh.stock_id} to {sh.site}")
                continue
            if not site.receives_on(day):
                violations.append(f"delivery to {sh.site} on {day}, not a delivery day")
            wanted = sh.vials
            for lot in sorted(pharmacy[unit.id], key=lambda x: x.last):
                if wanted == 0:
                    break
                if lot.ready > t or lot.last < t or lot.vials == 0:
                    continue
                if not any(
                    (sh.site, u, lot.product) in planned_need
                    for u in range(t, min(lot.last, horizon.last) + 1)
                ):
                    violations.append(
                        f"{sh.stock_id} sent to {sh.site}, which cannot use it by its BUD"
                    )
                take = min(wanted, lot.vials)
                lot.vials -= take
                wanted -= take
                shipped += take * lot.dpv
                at_site[sh.site].append(replace(lot, vials=take, ready=t))
            if wanted:
                violations.append(
                    f"{wanted} vials of {sh.stock_id} to {sh.site} on {day} not ready at the pharmacy"
                )
        for code, lots in at_site.items():
            if sum(x.vials for x in lots) > capacity[code]:
                violations.append(f"{code} over its capacity on {day}")

        for code, product, groups in need_by_day.get(t, []):
            lots = sorted(
                (x for x in at_site[code] if x.product == product and x.last >= t and x.vials),
                key=lambda x: (x.last, x.source),
            )
            groups = dict(groups)
            standby = groups.pop(STANDBY_GROUP, 0)
            people = sum(groups.values())
            offer = None
            if attendance is not None and any(lot.dpv > 1 for lot in lots):
                offer = _likely_left(
                    lots, *turnout_of(attendance.get((code, t, product), {}), sites[code], product)
                )
            per_lot, ready = _vials_to_open(lots, people)
            for k, lot in zip(per_lot, lots):
                lot.vials -= k
            opened = sum(per_lot)
            served = min(people, ready)
            left = ready - served
            filled = min(standby, left)
            left -= filled
            used += served + filled
            filled_total += filled
            waste[WASTE_OPEN_VIAL] += left
            by_product[product][WASTE_OPEN_VIAL] += left
            if opened:
                fill.append(
                    FillTheVial(code, day, product, opened, left, left if offer is None else offer)
                )
            for group in sorted(groups, key=lambda g: (-priority_weight(req.priority, g), g)):
                got = min(groups[group], served)
                served -= got
                short = groups[group] - got
                if short:
                    unmet_by_group[group] += short
                    unmet.append(Unmet(code, day, product, group, short))

        for lots in list(at_site.values()) + list(pharmacy.values()):
            for lot in lots:
                if lot.last <= t and lot.vials:
                    waste[WASTE_EXPIRY_OR_BUD] += lot.vials * lot.dpv
                    by_product[lot.product][WASTE_EXPIRY_OR_BUD] += lot.vials * lot.dpv
                    lot.vials = 0

    outcome = PlanOutcome(
        doses_used=used,
        waste_doses=dict(waste),
        unmet_appointments=sum(unmet_by_group.values()),
        unmet_by_group=dict(unmet_by_group),
        doses_thawed=thawed,
        doses_shipped=shipped,
        violations=tuple(violations),
        standby_doses=filled_total,
        waste_by_product={p: dict(w) for p, w in sorted(by_product.items())},
        pharmacy_stock=_pharmacy_left(req, horizon, n_days, units, frozen_left, pharmacy),
        site_stock={code: _site_left(code, horizon, lots) for code, lots in at_site.items()},
    )
    return _Replay(outcome, unmet, fill)


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
