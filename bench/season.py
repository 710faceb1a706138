"""A Danish-shaped vaccination season, planned three ways; prints figures, asserts nothing.

    python bench/season.py [--seed 1] [--weeks 8] [--region Hovedstaden] [--quick]

Generated from the seed: 5 regions, each with one hospital pharmacy, its vaccination centres
(23 in all), GP practices (a few hundred in all) and mobile units for nursing homes; three
programmes (covid-19: Comirnaty 6-dose vials kept ultra-frozen at the pharmacy, 31 days in the
fridge after thawing; influenza: single-dose syringes; pneumococcal: single-dose syringes);
bookings that peak in the first weeks and are made up to four weeks ahead; 5-10% no-shows;
walk-ins; weekly deliveries from SSI to each pharmacy.

Each day (rolling horizon) the planner sees the stock, the bookings made so far and the SSI
deliveries due, plans the next 14 days, and the first day is carried out against the people
who actually come. Compared: plan_optimal, plan_fefo (the pharmacist's baseline), and perfect
foresight (plan_optimal once over the whole season, knowing who will come: a lower bound).
Every method is scored by the same replay (``evaluate_plan`` / ``execute_days``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inventory.domain.allocation import (  # noqa: E402
    Demand,
    PlanRequest,
    Site,
    StockUnit,
    evaluate_plan,
    execute_days,
    plan_fefo,
    plan_optimal,
)

SEASON_START = date(2024, 9, 30)  # a Monday; influenza and pneumococcal from 1 October
HORIZON = 14
LEAD = 1
PRIORITY = ("nursing_home", "85+", "risk", "65+", "staff", "50+")

# (name, centres, GP practices, mobile units, demand scale)
REGIONS = {
    "Hovedstaden": (6, 80, 4, 1.0),
    "Midtjylland": (5, 65, 3, 0.75),
    "Syddanmark": (5, 60, 3, 0.7),
    "Sjaelland": (4, 45, 2, 0.5),
    "Nordjylland": (3, 30, 2, 0.35),
}


@dataclass(frozen=True)
class Product:
    code: str
    doses_per_vial: int
    state: str  # as it is kept at the pharmacy
    window_days: int | None  # fridge days after thawing
    carton_vials: int
    groups: dict[str, float]
    first_day: date


PRODUCTS = (
    Product("comirnaty", 6, "ultra_frozen", 31, 50,
            {"85+": 0.1, "65+": 0.35, "50+": 0.3, "risk": 0.2, "staff": 0.05}, SEASON_START),
    Product("influenza", 1, "thawed", None, 100,
            {"85+": 0.1, "65+": 0.5, "risk": 0.3, "staff": 0.1}, date(2024, 10, 1)),
    Product("pneumococcal", 1, "thawed", None, 50,
            {"85+": 0.15, "65+": 0.6, "risk": 0.25}, date(2024, 10, 1)),
)


@dataclass
class Season:
    region: str
    days: int
    sites: tuple[Site, ...]
    stock: tuple[StockUnit, ...]  # at the pharmacy on day 0
    deliveries: dict[date, list[StockUnit]]  # from SSI, by arrival day
    booking_days: dict[tuple[str, date, str, str], np.ndarray]  # when each slot was booked
    attended: dict[tuple[str, date, str, str], int]  # who actually came (walk-ins in "")
    realised: list[Demand] = field(default_factory=list)

    def day(self, n: int) -> date:
        return SEASON_START + timedelta(days=n)

    def known_bookings(self, today: int, until: int) -> tuple[Demand, ...]:
        known = []
        for (code, d, product, group), made in self.booking_days.items():
            n = (d - SEASON_START).days
            if today <= n < until:
                count = int(np.searchsorted(made, today, side="right"))
                if count:
                    known.append(Demand(code, d, product, group, count))
        return tuple(known)

    def realised_on(self, first: int, last: int) -> list[Demand]:
        return [r for r in self.realised if first <= (r.day - SEASON_START).days < last]


def generate(region: str, weeks: int, seed: int) -> Season:
    centres, gps, mobiles, scale = REGIONS[region]
    rng = np.random.default_rng([seed, list(REGIONS).index(region)])
    days = 7 * weeks
    sites: list[Site] = []
    volume: dict[str, float] = {}  # covid bookings per open day at the peak
    opening: dict[str, tuple[int, ...]] = {}
    for n in range(centres):
        code = f"{region[:3].upper()}-C{n + 1:02d}"
        volume[code] = rng.uniform(120, 300)
        opening[code] = (0, 1, 2, 3, 4, 5)
        sites.append(Site(code, capacity_vials=int(rng.integers(1200, 2000)),
                          delivery_days=frozenset({0, 1, 2, 3, 4}),
                          no_show_rate=round(float(rng.uniform(0.05, 0.10)), 3),
                          walk_ins_per_day={"comirnaty": float(rng.uniform(2, 8)),
                                            "influenza": float(rng.uniform(2, 8))}))
    for n in range(gps):
        code = f"{region[:3].upper()}-G{n + 1:03d}"
        volume[code] = rng.uniform(6, 30)
        opening[code] = tuple(sorted(rng.choice(5, size=int(rng.integers(2, 4)), replace=False)))
        first = int(rng.integers(0, 5))
        sites.append(Site(code, capacity_vials=int(rng.integers(40, 100)),
                          delivery_days=frozenset({first, (first + 3) % 5} if n % 3 else {first}),
                          no_show_rate=round(float(rng.uniform(0.05, 0.10)), 3),
                          walk_ins_per_day={"influenza": float(rng.uniform(0, 1.5))}))
    for n in range(mobiles):
        code = f"{region[:3].upper()}-M{n + 1:02d}"
        volume[code] = rng.uniform(15, 40)
        opening[code] = (0, 1, 2, 3, 4)
        sites.append(Site(code, capacity_vials=60, delivery_days=frozenset({0, 1, 2, 3, 4}),
                          no_show_rate=0.02))

    booking_days: dict[tuple[str, date, str, str], np.ndarray] = {}
    attended: dict[tuple[str, date, str, str], int] = defaultdict(int)
    product_mix = {"comirnaty": 1.0, "influenza": 1.2, "pneumococcal": 0.15}
    for site in sites:
        code = site.code
        for n in range(days):
            d = SEASON_START + timedelta(days=n)
            if d.weekday() not in opening[code]:
                continue
            peak = np.exp(-n / 14.0) * 0.85 + 0.15  # the season starts with a rush
            opened = False
            for p in PRODUCTS:
                if d < p.first_day:
                    continue
                mean = volume[code] * product_mix[p.code] * peak * scale
                groups = {"nursing_home": 1.0} if "-M" in code else p.groups
                for group, share in groups.items():
                    booked = int(rng.poisson(mean * share))
                    if booked == 0:
                        continue
                    opened = True
                    ahead = np.minimum(rng.exponential(7.0, booked).astype(int), 27)
                    made = np.sort(np.maximum(n - ahead, -28))
                    key = (code, d, p.code, group)
                    booking_days[key] = made
                    attended[key] += int(rng.binomial(booked, 1 - site.no_show_rate))
            if opened:
                for product, rate in site.walk_ins_per_day.items():
                    walk_ins = int(rng.poisson(rate))
                    if walk_ins:
                        attended[(code, d, product, "")] += walk_ins

    # supply: SSI delivers every Monday what the region is expected to need, a little short
    # in the first week of the rush; the pharmacy starts with some stock, part of it old
    weekly: dict[tuple[int, str], float] = defaultdict(float)
    for (code, d, product, group), made in booking_days.items():
        weekly[((d - SEASON_START).days // 7, product)] += len(made)
    deliveries: dict[date, list[StockUnit]] = defaultdict(list)
    stock: list[StockUnit] = []
    by_code = {p.code: p for p in PRODUCTS}
    serial = 0

    def cartons(product: Product, doses: float, arrival: date, expiry: date, lot: str,
                held: bool = False) -> list[StockUnit]:
        nonlocal serial
        units = []
        for _ in range(int(np.ceil(doses / (product.doses_per_vial * product.carton_vials)))):
            serial += 1
            units.append(StockUnit(
                id=f"{region[:3].upper()}-{product.code[:3]}-{serial:05d}", product=product.code,
                lot=lot, state=product.state, vials=product.carton_vials,
                doses_per_vial=product.doses_per_vial, expiry=expiry, bud=None,
                thawed_window_days=product.window_days, thaw_lead_days=LEAD if product.window_days else 0,
                available_from=arrival if arrival > SEASON_START else None, held=held))
        return units

    for (week, product_code), doses in sorted(weekly.items()):
        p = by_code[product_code]
        arrival = SEASON_START + timedelta(weeks=week) - timedelta(days=3)  # the Friday before
        factor = 0.85 if week == 0 else 1.1
        expiry = SEASON_START + timedelta(days=int(rng.integers(150, 300)))
        lot = f"{product_code[:3].upper()}{seed}{week:02d}"
        units = cartons(p, doses * factor, arrival, expiry, lot)
        if arrival <= SEASON_START:
            stock.extend(units)
        else:
            deliveries[arrival].extend(units)
    flu = by_code["influenza"]
    stock.extend(cartons(flu, 1500 * scale, SEASON_START, SEASON_START + timedelta(days=20),
                         "FLU-LAST-SEASON"))
    stock.extend(cartons(by_code["comirnaty"], 600 * scale, SEASON_START,
                         SEASON_START + timedelta(days=200), "COM-HELD", held=True))
    # centres hold thawed covid from the summer, part of it near its BUD
    sites = [
        replace(s, stock=(StockUnit(f"{s.code}-summer", "comirnaty", "COM-SUMMER", "thawed",
                                    int(rng.integers(20, 80)), 6, SEASON_START + timedelta(120),
                                    SEASON_START + timedelta(days=int(rng.integers(3, 20)))),))
        if "-C" in s.code else s
        for s in sites
    ]
    season = Season(region, days, tuple(sites), tuple(stock), dict(deliveries),
                    booking_days, dict(attended))
    season.realised = [Demand(c, d, p, g, n) for (c, d, p, g), n in attended.items() if n]
    return season


@dataclass
class Score:
    used: int = 0
    waste_bud: int = 0
    waste_open: int = 0
    unmet: int = 0
    thawed_left: int = 0
    plan_seconds: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def waste(self) -> int:
        return self.waste_bud + self.waste_open

    def add(self, outcome) -> None:
        self.used += outcome.doses_used
        self.waste_bud += outcome.waste_doses["expiry_or_bud"]
        self.waste_open += outcome.waste_doses["open_vial"]
        self.unmet += outcome.unmet_appointments


def thawed_doses(units) -> int:
    return sum(u.vials * u.doses_per_vial for u in units if u.state == "thawed" and not u.held)


def rolling(season: Season, planner, time_limit: float) -> Score:
    score = Score()
    pharmacy = list(season.stock)
    sites = list(season.sites)
    for today in range(season.days):
        start = season.day(today)
        upcoming = [u for d, units in season.deliveries.items()
                    if start < d < start + timedelta(days=HORIZON) for u in units]
        upcoming_ids = {u.id for u in upcoming}
        req = PlanRequest(
            start=start, days=HORIZON, pharmacy_stock=tuple(pharmacy + upcoming),
            sites=tuple(sites), demand=season.known_bookings(today, today + HORIZON),
            priority=PRIORITY, time_limit_s=time_limit,
        )
        plan = planner(req)
        score.plan_seconds.append(plan.solve_seconds)
        score.statuses[plan.status] += 1
        outcome = execute_days(req, plan, season.realised_on(today, today + 1), days=1)
        score.add(outcome)
        tomorrow = start + timedelta(days=1)
        pharmacy = [u for u in outcome.pharmacy_stock if u.id not in upcoming_ids]
        pharmacy += season.deliveries.get(tomorrow, [])
        sites = [replace(s, stock=outcome.site_stock.get(s.code, ())) for s in sites]
    score.thawed_left = thawed_doses(pharmacy) + sum(thawed_doses(s.stock) for s in sites)
    return score


def perfect_foresight(season: Season, time_limit: float) -> tuple[Score, str]:
    incoming = [u for units in season.deliveries.values() for u in units]
    sites = tuple(replace(s, no_show_rate=0.0, walk_ins_per_day={}) for s in season.sites)
    req = PlanRequest(
        start=SEASON_START, days=season.days, pharmacy_stock=season.stock + tuple(incoming),
        sites=sites, demand=tuple(season.realised), priority=PRIORITY, time_limit_s=time_limit,
    )
    plan = plan_optimal(req)
    outcome = evaluate_plan(req, plan, season.realised)
    score = Score(plan_seconds=[plan.solve_seconds])
    score.add(outcome)
    score.statuses[plan.status] += 1
    score.thawed_left = thawed_doses(outcome.pharmacy_stock) + sum(
        thawed_doses(units) for units in outcome.site_stock.values())
    return score, plan.status


def single_plan_timing(seed: int, time_limit: float) -> None:
    region = max(REGIONS, key=lambda r: sum(REGIONS[r][:3]))
    season = generate(region, 3, seed)
    upcoming = [u for d, units in season.deliveries.items()
                if d < SEASON_START + timedelta(days=HORIZON) for u in units]
    req = PlanRequest(
        start=SEASON_START, days=HORIZON, pharmacy_stock=season.stock + tuple(upcoming),
        sites=season.sites, demand=season.known_bookings(0, HORIZON) or (),
        priority=PRIORITY, time_limit_s=time_limit,
    )
    full = tuple(
        Demand(c, d, p, g, len(made)) for (c, d, p, g), made in season.booking_days.items()
        if (d - SEASON_START).days < HORIZON
    )
    for label, demand in (("bookings known on day 0", req.demand),
                          ("all bookings of the 14 days", full)):
        r = replace(req, demand=demand)
        plan = plan_optimal(r)
        products = sorted({u.product for u in r.pharmacy_stock})
        print(f"  14-day plan, {region}, {label}: {len(r.sites)} sites, {len(products)} products, "
              f"{len(r.pharmacy_stock)} cartons, {len(r.demand)} demand lines -> "
              f"{plan.solve_seconds:.2f} s, status {plan.status}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--region", choices=sorted(REGIONS), action="append")
    parser.add_argument("--quick", action="store_true",
                        help="one small region over 3 weeks (under 2 minutes)")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--safety-z", type=float, default=1.0,
                        help="safety stock of plan_optimal in the rolling runs (0: none)")
    parser.add_argument("--foresight-time-limit", type=float, default=120.0)
    args = parser.parse_args(argv)
    regions = args.region or (["Nordjylland"] if args.quick else list(REGIONS))
    weeks = min(args.weeks, 3) if args.quick else args.weeks
    foresight_limit = min(args.foresight_time_limit, 30.0) if args.quick else args.foresight_time_limit

    print(f"season.py seed={args.seed} weeks={weeks} regions={','.join(regions)} "
          f"safety_z={args.safety_z} (optimal, rolling)")
    totals: dict[str, Score] = defaultdict(Score)
    for region in regions:
        season = generate(region, weeks, args.seed)
        booked = sum(len(v) for v in season.booking_days.values())
        came = sum(season.attended.values())
        print(f"\n{region}: {len(season.sites)} sites, {booked} booked, {came} came, "
              f"{len(season.stock) + sum(len(v) for v in season.deliveries.values())} cartons")
        t0 = time.perf_counter()
        def hedged(req: PlanRequest):
            return plan_optimal(replace(req, safety_z=args.safety_z))

        scores = {
            "optimal": rolling(season, hedged, args.time_limit),
            "fefo": rolling(season, plan_fefo, args.time_limit),
        }
        scores["foresight"], status = perfect_foresight(season, foresight_limit)
        report(scores)
        print(f"  (foresight status: {status}; region took {time.perf_counter() - t0:.0f} s)")
        for name, s in scores.items():
            t = totals[name]
            t.used += s.used
            t.waste_bud += s.waste_bud
            t.waste_open += s.waste_open
            t.unmet += s.unmet
            t.thawed_left += s.thawed_left
            t.plan_seconds += s.plan_seconds
    if len(regions) > 1:
        print("\nAll regions")
        report(totals)
    print("\nSingle plan timing (largest region)")
    single_plan_timing(args.seed, args.time_limit)


def report(scores: dict[str, Score]) -> None:
    print(f"  {'method':<10} {'waste':>7} {'(bud':>6} {'open)':>6} {'used':>8} {'used %':>7} "
          f"{'unmet':>6} {'thawed left':>11} {'plan s mean':>11} {'max':>6}")
    for name, s in scores.items():
        total = s.used + s.waste
        share = 100.0 * s.used / total if total else 0.0
        print(f"  {name:<10} {s.waste:>7} {s.waste_bud:>6} {s.waste_open:>6} {s.used:>8} "
              f"{share:>6.1f}% {s.unmet:>6} {s.thawed_left:>11} "
              f"{statistics.mean(s.plan_seconds):>11.2f} {max(s.plan_seconds):>6.2f}")
    opt, base, fore = scores["optimal"], scores["fefo"], scores["foresight"]

    def ratio(a: int, b: int) -> str:
        return f"{a / b:.2f}" if b else ("1.00" if a == b else "inf")

    print(f"  optimal waste / foresight waste: {ratio(opt.waste, fore.waste)}   "
          f"optimal waste / baseline waste: {ratio(opt.waste, base.waste)}   "
          f"unmet optimal vs baseline: {opt.unmet} vs {base.unmet}")


if __name__ == "__main__":
    main()
