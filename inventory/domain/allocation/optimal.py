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
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from .model import THAWED, Plan, PlanRequest, Shipment, StockUnit, Thaw
from .needs import (
    Horizon,
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
        if not self.frozen:
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

    def solve(self, time_limit: float):
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
            options={"time_limit": max(time_limit, 1e-3), "mip_rel_gap": 1e-4, "presolve": True},
        )


def _classes(req: PlanRequest, horizon: Horizon) -> list[_Class]:
    by_key: dict[tuple, _Class] = {}
    for u in sorted(req.pharmacy_stock, key=lambda u: u.id):
        if not plannable_at_pharmacy(u, req.start):
            continue
        ready = max(0, horizon.index(u.available_from or req.start))
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


def plan_optimal(req: PlanRequest) -> Plan:
    """Least waste and unmet appointments (weighted by priority); falls back to the FEFO plan,
    with status ``fallback_fefo``, when the solver finds no plan within the time limit."""
    from .fefo import plan_fefo
    from .replay import plan_from_actions

    started = time.perf_counter()
    horizon = horizon_of(req)
    T = horizon.last
    need = expected_need(req, horizon)
    need_days: dict[tuple[str, str], list[int]] = defaultdict(list)
    for code, t, product in sorted(need):
        need_days[(code, product)].append(t)

    def needed_between(code: str, product: str, first: int, last: int) -> bool:
        return any(first <= t <= last for t in need_days.get((code, product), ()))

    def cohort(product: str, dpv: int, last: int) -> CohortKey:
        return (product, dpv, min(last, T + 1))

    m = _Milp()
    sites = sorted(req.sites, key=lambda s: s.code)
    classes = _classes(req, horizon)

    # out[c, d] and the cohorts they yield
    out: dict[tuple[int, int], int] = {}
    yields: dict[tuple[CohortKey, int], list[int]] = defaultdict(list)
    for ci, cls in enumerate(classes):
        for d in range(horizon.days):
            last = cls.last_if_shipped(horizon, d)
            if last is None:
                continue
            reachable = any(
                s.receives_on(horizon.date(d)) and needed_between(s.code, cls.product, d, last)
                for s in sites
            )
            if not reachable:
                continue
            cost = SHIP_COST + _fefo_cost(
                last if not cls.frozen else horizon.index(cls.units[0].expiry)
            )
            if cls.frozen:
                cost += THAW_COST
            elif cls.last <= T:
                cost -= cls.dpv  # a shipped vial is no longer waste at the pharmacy
            out[(ci, d)] = m.var(cost, cls.vials, True)
            yields[(cohort(cls.product, cls.dpv, last), d)].append(out[(ci, d)])
    for ci, cls in enumerate(classes):
        m.row({out[(ci, d)]: 1.0 for d in range(horizon.days) if (ci, d) in out}, 0, cls.vials)

    # site cohorts: what a site holds, and what it may receive
    initial: dict[tuple[str, CohortKey], int] = defaultdict(int)
    for s in sites:
        for u in usable_site_stock(s, req.start):
            k = cohort(u.product, u.doses_per_vial, horizon.index(u.last_usable_day))
            initial[(s.code, k)] += u.vials
    arrive: dict[tuple[str, CohortKey, int], int] = {}
    pool: dict[tuple[CohortKey, int], dict[int, float]] = defaultdict(dict)
    for (k, d), sources in yields.items():
        product, _, last = k
        for s in sites:
            if s.receives_on(horizon.date(d)) and needed_between(s.code, product, d, last):
                col = m.var(0.0, s.capacity_vials, True)
                arrive[(s.code, k, d)] = col
                pool[(k, d)][col] = 1.0
        for col in sources:
            pool[(k, d)][col] = -1.0
    for coeffs in pool.values():
        m.row(coeffs, 0.0, 0.0)

    site_cohorts: dict[str, dict[CohortKey, int]] = defaultdict(dict)  # first day present
    for (code, k), _ in initial.items():
        site_cohorts[code][k] = 0
    for code, k, d in arrive:
        site_cohorts[code][k] = min(site_cohorts[code].get(k, d), d)

    # balance, opened vials, BUD waste
    opened: dict[tuple[str, int, str], dict[int, float]] = defaultdict(dict)
    in_fridge: dict[tuple[str, int], dict[int, float]] = defaultdict(dict)
    on_hand: dict[tuple[str, int, str], dict[int, float]] = defaultdict(dict)  # doses
    left_at_night: dict[tuple[str, int, str], list[int]] = defaultdict(list)  # i[s,k,t] of p
    for code, cohorts in site_cohorts.items():
        for k, first in cohorts.items():
            product, dpv, last = k
            end = min(last, T)
            total_need = sum(
                sum(need.get((code, t, product), {}).values()) for t in range(first, end + 1)
            )
            prev = None
            for t in range(first, end + 1):
                stock = m.var(HOLD_COST if t < end else 0.0, math.inf, False)
                if last <= T and t == last:
                    m.add_cost(stock, dpv)  # still in the fridge when its last day ends
                balance = {stock: 1.0}
                if prev is not None:
                    balance[prev] = -1.0
                if (code, k, t) in arrive:
                    balance[arrive[(code, k, t)]] = -1.0
                if (code, t, product) in need:
                    col = m.var(dpv + 0.001 * _fefo_cost(last), math.ceil(total_need / dpv), True)
                    balance[col] = 1.0
                    opened[(code, t, product)][col] = float(dpv)
                    in_fridge[(code, t)][col] = 1.0
                    on_hand[(code, t, product)][col] = float(dpv)
                rhs = initial.get((code, k), 0) if t == first else 0
                m.row(balance, rhs, rhs)
                in_fridge[(code, t)][stock] = 1.0
                on_hand[(code, t, product)][stock] = float(dpv)
                left_at_night[(code, t, product)].append(stock)
                prev = stock

    # capacity in the morning of delivery days bounds every vial a site ever holds
    cap = {
        s.code: max(s.capacity_vials, sum(n for (c, _), n in initial.items() if c == s.code))
        for s in sites
    }

    # doses: who comes is served from opened vials while the site has any; only then unmet
    constant = 0.0
    unmet_cols: dict[tuple[str, int, str], list[int]] = defaultdict(list)
    for (code, t, product), groups in need.items():
        row = {col: -q for col, q in opened.get((code, t, product), {}).items()}
        for group, n in groups.items():
            unmet = m.var(req.unmet_penalty * priority_weight(req.priority, group) + 1.0, n, False)
            row[unmet] = -1.0
            unmet_cols[(code, t, product)].append(unmet)
        demand = sum(groups.values())
        constant -= demand
        m.row(row, -math.inf, -demand)

    # safety stock: the morning's doses cover the expected need and a margin, or pay for it
    for (code, t, product), margin in safety_doses(req, horizon).items():
        if (code, t, product) in need:
            row = dict(on_hand.get((code, t, product), {}))
            row.update({col: 1.0 for col in unmet_cols[(code, t, product)]})
            row[m.var(req.safety_penalty, margin, False)] = 1.0
            m.row(row, sum(need[(code, t, product)].values()) + margin, math.inf)

    # capacity on delivery days
    for (code, t), coeffs in in_fridge.items():
        if any((code, k, t) in arrive for k in site_cohorts[code]):
            m.row(coeffs, -math.inf, cap[code])

    for cls in classes:
        if not cls.frozen and cls.last <= T:
            constant += cls.vials * cls.dpv

    if not m.cost:  # nothing to decide: no stock that any booking could use
        return plan_from_actions(
            req, "optimal", "optimal", (), (), time.perf_counter() - started, constant
        )
    # the most vials of a product a site can hold: its fridge, or all there is, if less
    supply: dict[str | tuple[str, str], int] = defaultdict(int)
    for cls in classes:
        supply[cls.product] += cls.vials
    for (code, k), n in initial.items():
        supply[(code, k[0])] += n

    def served_first(key: tuple[str, int, str]) -> None:
        """The rows ``served`` for one (site, day, product)."""
        code, _, product = key
        most = float(min(cap[code], supply[product] + supply[(code, product)]))
        runs_out = m.var(0.0, 1.0, True)
        for col, n in zip(unmet_cols[key], need[key].values()):
            m.row({col: 1.0, runs_out: -float(n)}, -math.inf, 0.0)
        m.row({**{col: 1.0 for col in left_at_night[key]}, runs_out: most}, -math.inf, most)

    # ``served`` rows (a binary each) only if a solution breaks them (lazy constraints): first
    # for the products it leaves anyone unmet of, then, if another product breaks them, for all
    unenforced = {key for key in need if left_at_night.get(key)}
    result, complete, first = None, False, True
    while not complete:
        remaining = req.time_limit_s - (time.perf_counter() - started)
        try:
            attempt = m.solve(remaining) if remaining > 0 else None
        except (ValueError, RuntimeError):
            attempt = None
        if attempt is None or attempt.x is None:
            break
        result = attempt
        unmet = {key for key in need if sum(result.x[c] for c in unmet_cols[key]) > 1e-6}
        complete = not any(
            sum(result.x[c] for c in left_at_night[key]) > 1e-6 for key in unmet & unenforced
        )
        if not complete:
            short = {key[2] for key in unmet}
            enforce = {key for key in unenforced if key[2] in short} if first else set(unenforced)
            for key in sorted(enforce):
                served_first(key)
            unenforced -= enforce
            first = False
    if result is None:
        fallback = plan_fefo(req)
        return replace(
            fallback, status="fallback_fefo", solve_seconds=time.perf_counter() - started
        )

    x = np.round(result.x).astype(int)
    shipments, thaws = _decode(horizon, classes, out, arrive, yields, x)
    status = "optimal" if result.status == 0 and complete else "time_limit"
    return plan_from_actions(
        req,
        "optimal",
        status,
        shipments,
        thaws,
        time.perf_counter() - started,
        float(result.fun) + constant,
    )


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
