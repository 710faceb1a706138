"""The optimal plan: a mixed-integer programme solved by HiGHS (``scipy.optimize.milp``).

Days ``t = 0 .. T`` (``T = days - 1``). A dose of stock whose last usable day is ``L`` may be
given on day ``t`` only if ``t <= L``; ``L = min(expiry, BUD)``.

Sets
    c ∈ C   supply classes at the pharmacy: plannable units with the same product, doses per
            vial, state kind (thawed / frozen), last usable day (or expiry, window and thaw
            lead for frozen stock) and arrival day, merged. ``n_c`` vials.
    k ∈ K   cohorts at a site: (product p_k, doses per vial q_k, last usable day L_k). Every
            ``L`` after ``T`` is one cohort ("usable to the end of the horizon"), because
            nothing tells such vials apart within the horizon.
    s ∈ S   sites; ``D_s`` their delivery days; capacity ``cap_s`` vials (or what the site
            holds now, if more).
    g       target groups, weight ``w_g = 1 + (n - rank_g)`` (listed groups), 1 otherwise.
    n[s,t,p,g]  whole doses expected to be given (``needs.expected_need``).

Thawing just in time. A frozen vial shipped on day ``d`` is thawed on day ``d - lead``: a
later thaw is impossible and an earlier one only shortens its BUD, and the pharmacy's freezer
has no other use for the timing. So thaws follow from shipments of frozen classes, and a class
shipped on day ``d`` lands in the site cohort with ``L = min(expiry, d - lead + window - 1)``.

Variables (all >= 0)
    out[c,d]   integer   vials of class c leaving the pharmacy on day d (thawed just before)
    a[s,k,d]   integer   vials of cohort k delivered to site s on d ∈ D_s
    v[s,k,t]   integer   vials of cohort k opened at s on day t (only if t <= L_k)
    i[s,k,t]   real      vials of cohort k in the site's fridge at the end of day t
    u[s,t,p,g] real      appointments left without a dose, <= n[s,t,p,g]
    r[s,t,p]   binary    the site runs out of p on day t (only where it may hold p that day)

Constraints
    pool       sum_s a[s,k,d] = sum_{c that yields k on d} out[c,d]
    supply     sum_d out[c,d] <= n_c
    balance    i[s,k,t] = i[s,k,t-1] + a[s,k,t] - v[s,k,t]     (i[s,k,-1] = site stock)
    doses      sum_g (n[s,t,p,g] - u[s,t,p,g]) <= sum_{k: p_k = p} q_k v[s,k,t]
    served     u[s,t,p,g] <= n[s,t,p,g] r[s,t,p]
               sum_{k: p_k = p} i[s,k,t] <= M[s,p] (1 - r[s,t,p])
               (M[s,p] = min(cap_s, vials of p at the pharmacy and at s): no more can be there)
               A site gives doses to whoever comes while it has any (as ``replay`` does, and
               as a vaccinator does): appointments go unmet only on a day the product runs
               out there. Doses kept for a later, more important appointment are kept at the
               pharmacy, never in a site's fridge past people who came for them.
               Added lazily: the programme is solved without them; if its solution left
               people unmet beside doses of their product, it is solved again with them at
               every site and day for each product it left anyone unmet of, and, should
               another product then break the rule, once more with them everywhere. Each
               binary costs solver time and most plans never run short: late in a season
               one or two products are short, and their rows cost a fraction of all of
               them; adding products one solve at a time cost a full solve per product.
    capacity   sum_k (i[s,k,d] + v[s,k,d]) <= cap_s on delivery days (the fridge in the morning)
    safety     sum_{k: p_k = p} q_k (i[s,k,t] + v[s,k,t]) + short[s,t,p]
                   >= sum_g (n - u)[s,t,p,g] + z sqrt(mean)
               (only with ``safety_z > 0``: a hedge against more people than expected and
               bookings still to come; ``short`` is a real variable, 0 <= short <= margin)
    Rules hold by construction: no variable exists for held, expired or BUD-passed stock,
    for a delivery after a cohort's last usable day, for a site with no need of the product
    between the delivery and that day, or for a day that is not a delivery day; thawed
    stock has no way back to a freezer.

Objective (in doses), minimised
      sum q_k v[s,k,t] - sum (n - u)                         open-vial waste
    + sum_{L_k <= T} q_k i[s,k,L_k]                          BUD/expiry waste at sites
    + sum_{thawed c, L_c <= T} q_c (n_c - sum_d out[c,d])    BUD/expiry waste at the pharmacy
    + unmet_penalty * sum w_g u[s,t,p,g]                     scarcity, rationed by priority
    + safety_penalty * sum short[s,t,p]                      a thin margin, where it is cheap
    + small per-vial costs, each far below one dose: shipping, thawing, holding at a site,
      and a first-expiry-first-out preference (earlier L is cheaper to ship and to open).

Model size: integers per (class, day), (site, cohort, delivery day) and (site, cohort, day
with need), typically a handful of cohorts per site and product; once ``served`` has to be
added, a binary per (site, day, product).

Never worse than FEFO. Carried out (``replay``), a plan costs its waste plus the weighted
unmet penalties: the objective without its tie-breakers and margins. The solver stops within a
relative gap of the best plan; relative to an objective of unmet penalties (a thousand per
appointment) that gap is several doses, enough to lose to FEFO's plan by a few doses of
waste. When it does, the programme is solved again to within ``ABS_GAP_DOSES``; should the
plan still cost more (the time limit, or tie-breakers outweighing a dose), FEFO's plan is
returned, with status ``fallback_fefo``.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from .model import THAWED, Plan, PlanRequest, Shipment, Site, StockUnit, Thaw
from .needs import (
    Horizon,
    NeedKey,
    bud_after_thaw,
    expected_need,
    horizon_of,
    plannable_at_pharmacy,
    priority_weight,
    safety_doses,
    usable_site_stock,
)

SHIP_COST = 0.01  # per vial shipped
THAW_COST = 0.005  # per vial thawed: prefer stock that is thawed already
HOLD_COST = 0.001  # per vial per night in a site's fridge: deliver as late as the days allow
FEFO_COST = 0.01  # per vial, scaled by how late its last usable day is (capped at a year)
FEFO_SCALE_DAYS = 366
# The solver stops once its plan is proven within this many doses of the best one. A gap
# relative to the objective would let a plan dominated by unmet-appointment penalties (a
# thousand per appointment) stop whole doses of waste short of the optimum.
ABS_GAP_DOSES = 0.4
MAX_REL_GAP = 1e-4


@dataclass
class _Class:
    """Pharmacy stock that the plan cannot tell apart."""

    product: str
    dpv: int
    frozen: bool
    ready: int
    last: int | None  # thawed stock
    units: list[StockUnit] = field(default_factory=list)

    @property
    def vials(self) -> int:
        return sum(u.vials for u in self.units)

    def last_if_shipped(self, horizon: Horizon, day: int) -> int | None:
        """Last usable day of a vial of this class shipped on ``day``; None if it cannot be."""
        if self.last is not None:  # thawed
            return self.last if self.ready <= day <= self.last else None
        unit = self.units[0]
        thaw_day = day - unit.thaw_lead_days
        if thaw_day < self.ready:
            return None
        last = horizon.index(bud_after_thaw(unit, horizon.date(thaw_day)))
        return last if last >= day else None


CohortKey = tuple[str, int, int]  # (product, doses per vial, last usable day capped at T + 1)


class _Milp:
    """A small builder for ``scipy.optimize.milp``: named columns, sparse rows."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def var(self, cost: float, upper: float, integer: bool) -> int:
        self.cost.append(cost)
        self.lower.append(0.0)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1

    def add_cost(self, col: int, cost: float) -> None:
        self.cost[col] += cost

    def row(self, coeffs: dict[int, float], lower: float, upper: float) -> None:
        if coeffs:
            self.rows.append((coeffs, lower, upper))

    def solve(self, time_limit: float, rel_gap: float = MAX_REL_GAP):
        r, c, v = [], [], []
        for n, (coeffs, _, _) in enumerate(self.rows):
            for col, val in coeffs.items():
                r.append(n)
                c.append(col)
                v.append(val)
        shape = (len(self.rows), len(self.cost))
        matrix = coo_array((v, (r, c)), shape=shape).tocsr()
        constraints = LinearConstraint(
            matrix, [lo for _, lo, _ in self.rows], [hi for _, _, hi in self.rows]
        )
        return milp(
            np.array(self.cost),
            integrality=np.array(self.integer),
            bounds=Bounds(np.array(self.lower), np.array(self.upper)),
            constraints=constraints if self.rows else None,
            options={"time_limit": max(time_limit, 1e-3), "mip_rel_gap": rel_gap, "presolve": True},
        )


def _classes(req: PlanRequest, horizon: Horizon) -> list[_Class]:
    by_key: dict[tuple[object, ...], _Class] = {}
    for u in sorted(req.pharmacy_stock, key=lambda u: u.id):
        if not plannable_at_pharmacy(u, req.start):
            continue
        ready = max(0, horizon.index(u.available_from or req.start))
        key: tuple[object, ...]
        if u.is_frozen:
            key = (
                u.product,
                u.doses_per_vial,
                "frozen",
                u.expiry,
                u.thawed_window_days,
                u.thaw_lead_days,
                ready,
            )
            fresh = _Class(u.product, u.doses_per_vial, True, ready, None)
        elif u.state == THAWED:
            last = horizon.index(u.last_usable_day)
            key = (u.product, u.doses_per_vial, "thawed", last, ready)
            fresh = _Class(u.product, u.doses_per_vial, False, ready, last)
        else:
            continue
        by_key.setdefault(key, fresh).units.append(u)
    return list(by_key.values())


def _fefo_cost(last: int) -> float:
    return FEFO_COST * min(max(last, 0), FEFO_SCALE_DAYS) / FEFO_SCALE_DAYS


@dataclass
class _Programme:
    """The programme for one request, built stage by stage (see the module docstring)."""

    req: PlanRequest
    horizon: Horizon
    need: dict[NeedKey, dict[str, int]]
    sites: list[Site]
    classes: list[_Class]
    m: _Milp = field(default_factory=_Milp)
    need_days: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    # variables
    out: dict[tuple[int, int], int] = field(default_factory=dict)
    yields: dict[tuple[CohortKey, int], list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )
    initial: dict[tuple[str, CohortKey], int] = field(default_factory=lambda: defaultdict(int))
    arrive: dict[tuple[str, CohortKey, int], int] = field(default_factory=dict)
    site_cohorts: dict[str, dict[CohortKey, int]] = field(default_factory=lambda: defaultdict(dict))
    # columns by what they stand for, per (site, day, product) or (site, day)
    opened: dict[NeedKey, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))
    in_fridge: dict[tuple[str, int], dict[int, float]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    on_hand: dict[NeedKey, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))
    left_at_night: dict[NeedKey, list[int]] = field(default_factory=lambda: defaultdict(list))
    unmet_cols: dict[NeedKey, list[int]] = field(default_factory=lambda: defaultdict(list))
    cap: dict[str, int] = field(default_factory=dict)
    supply: dict[str | tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    constant: float = 0.0  # the objective's part no decision changes
    # (site, day, product) with and without their ``served`` rows
    enforced: set[NeedKey] = field(default_factory=set)
    unenforced: set[NeedKey] = field(default_factory=set)

    @classmethod
    def of(cls, req: PlanRequest) -> _Programme:
        horizon = horizon_of(req)
        programme = cls(
            req,
            horizon,
            expected_need(req, horizon),
            sorted(req.sites, key=lambda s: s.code),
            _classes(req, horizon),
        )
        for code, t, product in sorted(programme.need):
            programme.need_days[(code, product)].append(t)
        return programme

    @property
    def last_day(self) -> int:
        return self.horizon.last

    def needed_between(self, code: str, product: str, first: int, last: int) -> bool:
        return any(first <= t <= last for t in self.need_days.get((code, product), ()))

    def cohort(self, product: str, dpv: int, last: int) -> CohortKey:
        return (product, dpv, min(last, self.last_day + 1))

    def reachable(self, product: str, day: int, last: int) -> list[Site]:
        """The sites that receive on ``day`` and need ``product`` by ``last``."""
        return [
            s
            for s in self.sites
            if s.receives_on(self.horizon.date(day))
            and self.needed_between(s.code, product, day, last)
        ]

    # ------------------------------------------------------------ the stages

    def build(self) -> None:
        self.shipping_variables()
        self.supply_rows()
        self.site_stock_now()
        self.deliveries()
        self.balance()
        self.capacity_bounds()
        self.demand_rows()
        self.safety_rows()
        self.capacity_rows()
        self.pharmacy_waste()
        self.most_a_site_can_hold()
        self.unenforced = {key for key in self.need if self.left_at_night.get(key)}

    def shipping_variables(self) -> None:
        """out[c, d], and the site cohort each yields."""
        for ci, cls in enumerate(self.classes):
            for d in range(self.horizon.days):
                last = cls.last_if_shipped(self.horizon, d)
                if last is None or not self.reachable(cls.product, d, last):
                    continue
                col = self.m.var(self.ship_cost(cls, last), cls.vials, True)
                self.out[(ci, d)] = col
                self.yields[(self.cohort(cls.product, cls.dpv, last), d)].append(col)

    def ship_cost(self, cls: _Class, last: int) -> float:
        cost = SHIP_COST + _fefo_cost(
            last if not cls.frozen else self.horizon.index(cls.units[0].expiry)
        )
        if cls.frozen:
            return cost + THAW_COST
        if cls.last is not None and cls.last <= self.last_day:
            return cost - cls.dpv  # a shipped vial is no longer waste at the pharmacy
        return cost

    def supply_rows(self) -> None:
        for ci, cls in enumerate(self.classes):
            cols = [self.out[(ci, d)] for d in range(self.horizon.days) if (ci, d) in self.out]
            self.m.row(dict.fromkeys(cols, 1.0), 0, cls.vials)

    def site_stock_now(self) -> None:
        for s in self.sites:
            for u in usable_site_stock(s, self.req.start):
                k = self.cohort(u.product, u.doses_per_vial, self.horizon.index(u.last_usable_day))
                self.initial[(s.code, k)] += u.vials
        for code, k in self.initial:
            self.site_cohorts[code][k] = 0

    def deliveries(self) -> None:
        """a[s, k, d] and the pool rows: what arrives is what left the pharmacy."""
        for (k, d), sources in self.yields.items():
            product, _, last = k
            pool: dict[int, float] = {}
            for s in self.reachable(product, d, last):
                col = self.m.var(0.0, s.capacity_vials, True)
                self.arrive[(s.code, k, d)] = col
                pool[col] = 1.0
                cohorts = self.site_cohorts[s.code]
                cohorts[k] = min(cohorts.get(k, d), d)
            for col in sources:
                pool[col] = -1.0
            self.m.row(pool, 0.0, 0.0)

    def balance(self) -> None:
        """i[s, k, t] and v[s, k, t] day by day, each cohort from the first day it is there."""
        for code, cohorts in self.site_cohorts.items():
            for k, first in cohorts.items():
                self.cohort_balance(code, k, first)

    def cohort_balance(self, code: str, k: CohortKey, first: int) -> None:
        product, dpv, last = k
        end = min(last, self.last_day)
        total_need = sum(
            sum(self.need.get((code, t, product), {}).values()) for t in range(first, end + 1)
        )
        prev = None
        for t in range(first, end + 1):
            stock = self.m.var(HOLD_COST if t < end else 0.0, math.inf, False)
            if last <= self.last_day and t == last:
                self.m.add_cost(stock, dpv)  # still in the fridge when its last day ends
            balance = {stock: 1.0}
            if prev is not None:
                balance[prev] = -1.0
            if (code, k, t) in self.arrive:
                balance[self.arrive[(code, k, t)]] = -1.0
            if (code, t, product) in self.need:
                col = self.m.var(dpv + 0.001 * _fefo_cost(last), math.ceil(total_need / dpv), True)
                balance[col] = 1.0
                self.opened[(code, t, product)][col] = float(dpv)
                self.in_fridge[(code, t)][col] = 1.0
                self.on_hand[(code, t, product)][col] = float(dpv)
            rhs = self.initial.get((code, k), 0) if t == first else 0
            self.m.row(balance, rhs, rhs)
            self.in_fridge[(code, t)][stock] = 1.0
            self.on_hand[(code, t, product)][stock] = float(dpv)
            self.left_at_night[(code, t, product)].append(stock)
            prev = stock

    def capacity_bounds(self) -> None:
        """The fridge in the morning of delivery days bounds every vial a site ever holds (or
        what it holds now, if more)."""
        for s in self.sites:
            here = sum(n for (c, _), n in self.initial.items() if c == s.code)
            self.cap[s.code] = max(s.capacity_vials, here)

    def demand_rows(self) -> None:
        """Who comes is served from opened vials while the site has any; only then unmet."""
        for (code, t, product), groups in self.need.items():
            row = {col: -q for col, q in self.opened.get((code, t, product), {}).items()}
            for group, n in groups.items():
                weight = priority_weight(self.req.priority, group)
                unmet = self.m.var(self.req.unmet_penalty * weight + 1.0, n, False)
                row[unmet] = -1.0
                self.unmet_cols[(code, t, product)].append(unmet)
            demand = sum(groups.values())
            self.constant -= demand
            self.m.row(row, -math.inf, -demand)

    def safety_rows(self) -> None:
        """The morning's doses cover the expected need and a margin, or pay for it."""
        for key, margin in safety_doses(self.req, self.horizon).items():
            if key in self.need:
                row = dict(self.on_hand.get(key, {}))
                row.update(dict.fromkeys(self.unmet_cols[key], 1.0))
                row[self.m.var(self.req.safety_penalty, margin, False)] = 1.0
                self.m.row(row, sum(self.need[key].values()) + margin, math.inf)

    def capacity_rows(self) -> None:
        for (code, t), coeffs in self.in_fridge.items():
            if any((code, k, t) in self.arrive for k in self.site_cohorts[code]):
                self.m.row(coeffs, -math.inf, self.cap[code])

    def pharmacy_waste(self) -> None:
        """Thawed pharmacy stock that expires within the horizon is waste unless shipped
        (``ship_cost`` takes a shipped vial off again)."""
        for cls in self.classes:
            if not cls.frozen and cls.last is not None and cls.last <= self.last_day:
                self.constant += cls.vials * cls.dpv

    def most_a_site_can_hold(self) -> None:
        """Vials of each product at the pharmacy and at each site: no more can be anywhere."""
        for cls in self.classes:
            self.supply[cls.product] += cls.vials
        for (code, k), n in self.initial.items():
            self.supply[(code, k[0])] += n

    def served_first(self, key: NeedKey) -> None:
        """The rows ``served`` for one (site, day, product)."""
        code, _, product = key
        most = float(min(self.cap[code], self.supply[product] + self.supply[(code, product)]))
        runs_out = self.m.var(0.0, 1.0, True)
        for col, n in zip(self.unmet_cols[key], self.need[key].values(), strict=True):
            self.m.row({col: 1.0, runs_out: -float(n)}, -math.inf, 0.0)
        self.m.row({**dict.fromkeys(self.left_at_night[key], 1.0), runs_out: most}, -math.inf, most)

    # ------------------------------------------------------------ solving

    def rel_gap(self) -> float:
        """``ABS_GAP_DOSES`` as a share of the most the objective can be (every appointment
        unmet, every dose wasted, every margin short, every vial held every night)."""
        unmet = sum(
            n * (self.req.unmet_penalty * priority_weight(self.req.priority, g) + 1.0)
            for groups in self.need.values()
            for g, n in groups.items()
        )
        doses = sum(c.vials * c.dpv for c in self.classes) + sum(
            n * k[1] for (_, k), n in self.initial.items()
        )
        margins = sum(safety_doses(self.req, self.horizon).values()) * self.req.safety_penalty
        held = sum(self.initial.values()) * self.horizon.days * HOLD_COST
        return min(MAX_REL_GAP, ABS_GAP_DOSES / max(unmet + doses + margins + held, 1.0))

    def is_short(self, x: np.ndarray, key: NeedKey) -> bool:
        return sum(x[c] for c in self.unmet_cols[key]) > 1e-6

    def keeps_doses_back(self, x: np.ndarray, key: NeedKey) -> bool:
        """People of ``key`` left unmet while doses of their product wait in the fridge."""
        return self.is_short(x, key) and sum(x[c] for c in self.left_at_night[key]) > 1e-6

    def solve(self, started: float, gap: float) -> tuple[Any, bool]:
        """Solve, adding the ``served`` rows (a binary each) only where a solution breaks them
        (lazy constraints): first for the products it leaves anyone unmet of, then, if
        another product breaks them, for all. Returns the last solution and whether it keeps
        the rule everywhere."""
        result = None
        while True:
            attempt = self.attempt(started, gap)
            if attempt is None:
                return result, False
            result = attempt
            broken = {key for key in self.unenforced if self.keeps_doses_back(result.x, key)}
            if not broken:
                return result, True
            short = {key[2] for key in self.need if self.is_short(result.x, key)}
            enforce = (
                {key for key in self.unenforced if key[2] in short}
                if not self.enforced
                else set(self.unenforced)
            )
            for key in sorted(enforce):
                self.served_first(key)
            self.unenforced -= enforce
            self.enforced |= enforce

    def plan(self, started: float, gap: float) -> Plan | None:
        """The programme's plan, solved to within ``gap``; None without a solution in time."""
        from .replay import plan_from_actions

        result, complete = self.solve(started, gap)
        if result is None:
            return None
        x = np.round(result.x).astype(int)
        shipments, thaws = _decode(
            self.horizon, self.classes, self.out, self.arrive, self.yields, x
        )
        return plan_from_actions(
            self.req,
            "optimal",
            "optimal" if result.status == 0 and complete else "time_limit",
            shipments,
            thaws,
            time.perf_counter() - started,
            float(result.fun) + self.constant,
        )

    def attempt(self, started: float, gap: float) -> Any:
        remaining = self.req.time_limit_s - (time.perf_counter() - started)
        if remaining <= 0:
            return None
        try:
            attempt = self.m.solve(remaining, gap)
        except (ValueError, RuntimeError):
            return None
        return attempt if attempt.x is not None else None


def plan_optimal(req: PlanRequest) -> Plan:
    """Least waste and unmet appointments (weighted by priority); falls back to the FEFO plan,
    with status ``fallback_fefo``, when the solver finds no plan within the time limit or
    only one that costs more than FEFO's.

    The solver stops within a relative gap (``MAX_REL_GAP``) of the best plan: on an objective
    of unmet-appointment penalties that can be several doses. When that plan costs more than
    FEFO's, the programme is solved again to within ``ABS_GAP_DOSES`` (which takes longer)."""
    from .replay import plan_from_actions

    started = time.perf_counter()
    programme = _Programme.of(req)
    programme.build()
    if not programme.m.cost:  # nothing to decide: no stock that any booking could use
        return plan_from_actions(
            req, "optimal", "optimal", (), (), time.perf_counter() - started, programme.constant
        )
    plan = programme.plan(started, MAX_REL_GAP)
    fefo = _fallback(req, started)
    if plan is not None and plan_cost(req, plan) > plan_cost(req, fefo):
        plan = programme.plan(started, programme.rel_gap()) or plan
    return never_worse_than_fefo(req, plan, fefo, started)


def _fallback(req: PlanRequest, started: float) -> Plan:
    from .fefo import plan_fefo

    return replace(
        plan_fefo(req), status="fallback_fefo", solve_seconds=time.perf_counter() - started
    )


def plan_cost(req: PlanRequest, plan: Plan) -> float:
    """What a plan costs when it is carried out as planned (``replay`` against the expected
    need): doses wasted plus ``unmet_penalty`` per unmet appointment, weighted by priority.
    The programme's objective is this plus per-vial tie-breakers and safety shortfalls."""
    unmet = sum(priority_weight(req.priority, u.group) * u.appointments for u in plan.unmet)
    return sum(plan.waste_doses.values()) + req.unmet_penalty * unmet


def never_worse_than_fefo(req: PlanRequest, plan: Plan | None, fefo: Plan, started: float) -> Plan:
    """The plan, unless there is none or FEFO's (``fefo``, status ``fallback_fefo``) costs less
    carried out: a solution cut short by the time limit, or one whose tie-breakers outweigh a
    dose, is replaced by FEFO's plan."""
    if plan is None or plan_cost(req, fefo) < plan_cost(req, plan):
        return replace(fefo, solve_seconds=time.perf_counter() - started)
    return plan


def _decode(horizon, classes, out, arrive, yields, x) -> tuple[tuple, tuple]:
    """Turn class flows into shipments and thaws of real units (first unit first)."""
    left = {u.id: u.vials for cls in classes for u in cls.units}
    class_of = {col: ci for (ci, _), col in out.items()}
    shipments: dict[tuple[str, int, str], int] = defaultdict(int)
    thaws: dict[tuple[str, int], int] = defaultdict(int)
    deliveries: dict[tuple[CohortKey, int], list[tuple[str, int]]] = defaultdict(list)
    for (code, k, d), col in sorted(arrive.items()):
        deliveries[(k, d)].append((code, col))
    for (k, d), sources in sorted(yields.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        supply: list[tuple[StockUnit, int]] = []
        for col in sources:
            cls = classes[class_of[col]]
            wanted = int(x[col])
            for u in cls.units:
                take = min(wanted, left[u.id])
                if take:
                    left[u.id] -= take
                    wanted -= take
                    supply.append((u, take))
                    if cls.frozen:
                        thaws[(u.id, d - u.thaw_lead_days)] += take
        for code, col in deliveries[(k, d)]:
            wanted = int(x[col])
            while wanted and supply:
                unit, n = supply[0]
                take = min(n, wanted)
                shipments[(code, d, unit.id)] += take
                wanted -= take
                supply[0] = (unit, n - take)
                if supply[0][1] == 0:
                    supply.pop(0)
    return (
        tuple(
            Shipment(code, horizon.date(d), uid, n)
            for (code, d, uid), n in sorted(
                shipments.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])
            )
        ),
        tuple(
            Thaw(uid, horizon.date(t), n)
            for (uid, t), n in sorted(thaws.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ),
    )
