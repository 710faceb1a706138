"""A Danish-shaped vaccination season, planned three ways; prints figures, asserts nothing.

    python bench/season.py [--seed 1] [--weeks 8] [--region Hovedstaden] [--quick]
                           [--standby-uptake 0.5] [--safety-z 1]

Generated from the seed (every assumption is listed in ``ASSUMPTIONS`` and printed first):
5 regions, each with one hospital pharmacy, its vaccination centres (23 in all), GP practices
(280 in all) and mobile units for nursing homes; covid-19 (Comirnaty bivalent grey cap and
30 ug purple cap from ultra-frozen 195-vial trays, Spikevax bivalent 10-dose vials from
frozen cartons, some lots with the frozen extension and so a 14-day fridge window), influenza
and pneumococcal (single-dose syringes); bookings that peak at season start and fall off at
a pace of each site's own, made up to four weeks ahead; 5-10% no-shows; walk-ins; weekly SSI
deliveries to each pharmacy.

Each day (rolling horizon) a planner sees the stock, the bookings made so far and the SSI
deliveries due, plans the next 14 days, and the first day is carried out against the people
who actually come. Compared: plan_optimal; plan_fefo fed with the sites' own hand-made
weekly orders (the pharmacist's baseline); and perfect foresight (plan_optimal once over the
whole season, knowing who will come: a lower bound). The optimal plan's fill-the-vial offers
go back to the booking side as standby slots, a share of which is taken up (``--standby-
uptake``; the figures are printed with no uptake as well). Every method is scored by the same
replay (``evaluate_plan`` / ``execute_days``).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inventory.domain.allocation import (  # noqa: E402
    STANDBY_GROUP,
    Demand,
    OpenRequest,
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
PRIORITY = ("nursing_home", "85+", "risk", "65+", "staff", "50+")
ORDER_LEAD = 2  # a site orders 2 days before its delivery day
ORDER_MARGIN = 0.10  # and adds 10% on top of its estimate
SSI_FACTOR = 1.25  # SSI sends the week's bookings x this (supply was ample in autumn 2022)

# (centres, GP practices, mobile units, demand scale)
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
    extended_window_days: int | None  # the same for lots whose frozen shelf life was extended
    extended_share: float  # share of SSI's weekly lots with that extension
    ssi_unit_vials: int  # vials in one unit from SSI (a tray, a carton, a box)
    carton_vials: int  # vials in a carton the pharmacy repacks for a site
    thaw_lead_days: int
    groups: dict[str, float]
    first_day: date
    shelf_days: tuple[int, int]  # printed expiry, days after season start (range)


COVID = {"85+": 0.1, "65+": 0.35, "50+": 0.3, "risk": 0.2, "staff": 0.05}
PRODUCTS = (
    Product(
        "comirnaty-grey",
        6,
        "ultra_frozen",
        70,
        None,
        0.0,
        195,
        10,
        1,
        COVID,
        SEASON_START,
        (150, 330),
    ),
    Product(
        "comirnaty-purple",
        6,
        "ultra_frozen",
        31,
        None,
        0.0,
        195,
        10,
        1,
        {"50+": 0.5, "risk": 0.5},
        SEASON_START,
        (150, 330),
    ),
    Product("spikevax", 10, "frozen", 30, 14, 0.5, 10, 5, 0, COVID, SEASON_START, (90, 240)),
    Product(
        "influenza",
        1,
        "thawed",
        None,
        None,
        0.0,
        100,
        10,
        0,
        {"85+": 0.1, "65+": 0.5, "risk": 0.3, "staff": 0.1},
        date(2024, 10, 1),
        (150, 300),
    ),
    Product(
        "pneumococcal",
        1,
        "thawed",
        None,
        None,
        0.0,
        10,
        10,
        0,
        {"85+": 0.15, "65+": 0.6, "risk": 0.25},
        date(2024, 10, 1),
        (300, 700),
    ),
)
BY_CODE = {p.code: p for p in PRODUCTS}
CARTONS = {p.code: p.carton_vials for p in PRODUCTS}

ASSUMPTIONS = (
    "covid products: Comirnaty bivalent grey cap (6 doses/vial, ultra-frozen, 10 weeks in the "
    "fridge), Comirnaty 30 ug purple cap (6 doses, ultra-frozen, 31 days), both from SSI in "
    "195-vial trays, 1-day thaw lead; Spikevax bivalent 5 mL (10 doses, -20 C, 30 days in the "
    "fridge, 14 days for the half of SSI's weekly lots with the 12-month frozen extension), "
    "from SSI in cartons of 10 vials, no thaw lead",
    "influenza (from 1 Oct; boxes of 100 syringes) and pneumococcal (from 1 Oct; packs of 10): "
    "single-dose, fridge to printed expiry; an old influenza lot expires on day 20; some "
    "Comirnaty is held (quarantine) all season",
    "sites: centres (open Mon-Sat, delivered Mon-Fri, grey + a little purple for primary "
    "courses, 120-300 covid bookings a day at the peak), GP practices (open 2-3 weekdays, "
    "delivered once or twice a week; 25% use Spikevax, the rest grey; 3-20 covid bookings an "
    "open day at the peak), mobile units (a nursing home a weekday, 10-35 residents, list "
    "known 10 days ahead; no pneumococcal); influenza 1.2x and pneumococcal 0.15x the covid "
    "volume",
    "booking curve per site: 0.06 + 0.94 exp(-day/tau), tau drawn per site (centres 10-20 "
    "days, GPs 8-20, mobile 7-12): a rush at season start that falls off late in the season",
    "bookings made exp(7 days) ahead (max 27); no-shows 5-10% (mobile 2%) drawn per site; "
    "walk-ins Poisson per open day (centres 1-5 covid and 2-8 influenza, GPs 0-0.5 covid and "
    "0-1.5 influenza)",
    "SSI delivers each Thursday for the next week: that week's bookings x 1.25 (x 0.85 in the "
    "first week of the rush), in whole trays/cartons/boxes; the pharmacy thawed one grey tray "
    "and one Spikevax carton the day before the season; centres hold thawed grey from the summer with "
    "3-20 days left",
    "baseline (plan_fefo, by hand): each site orders 2 days before each delivery day for the "
    "days until its next delivery: max(bookings known then, grossed up by the usual share "
    "still to be booked that many days ahead, + expected walk-ins; doses given in the same "
    "number of days before the order) + 10%, per product; the pharmacy sends "
    "that minus what the site holds and can still use, first-expiry-first-out, in whole "
    "cartons (10 vials; Spikevax 5 vials of 10 doses) as far as the fridge takes, and thaws "
    "a whole tray/carton when no thawed stock is left",
    "optimal (plan_optimal): bookings known that day, grossed up by the same late-booking "
    "share as the hand orders (PlanRequest.booking_pickup), x (1 - no-show rate) + walk-ins, "
    "safety stock of safety_z standard deviations, vials thawed and shipped one by one (a tray may "
    "be emptied a vial at a time); its fill-the-vial offers (standby slots: the doses left in "
    "the vials it opens in at least half of the likely turnouts) are published for the day; "
    "each offered slot is taken "
    "up with probability = standby uptake (seeded per site/day/product); standby citizens "
    "only get doses left in vials opened that day for others, never open a vial, are never "
    "unmet, and are citizens not otherwise booked in the season (no later booking is "
    "removed); those who come when no dose is left are sent home (counted, shown apart); "
    "the baseline publishes no offers",
    "baseline-carton-thaw (sensitivity, not the target's baseline): the same, but the "
    "pharmacist splits frozen trays into 10-vial cartons and thaws a carton at a time",
    "foresight: plan_optimal once over the season with the realised attendance (no no-shows, "
    "no walk-ins to guess); its offers are taken up the same way",
    "waste: expiry/BUD passed within the season (site and pharmacy) + doses left in opened "
    "vials at day end; thawed stock left at the end is shown apart, not counted as waste",
)


@dataclass
class Season:
    region: str
    days: int
    seed: int
    sites: tuple[Site, ...]
    stock: tuple[StockUnit, ...]  # at the pharmacy on day 0
    deliveries: dict[date, list[StockUnit]]  # from SSI, by arrival day
    booking_days: dict[tuple[str, date, str, str], np.ndarray]  # when each slot was booked
    attended: dict[tuple[str, date, str, str], int]  # who actually came (walk-ins in "")
    products_at: dict[str, tuple[str, ...]] = field(default_factory=dict)
    realised: list[Demand] = field(default_factory=list)
    _orders: dict[tuple[str, date], tuple[OpenRequest, ...]] = field(default_factory=dict)

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

    def index(self) -> None:
        self._booked: dict[tuple[str, date, str], list[np.ndarray]] = defaultdict(list)
        self._came: dict[tuple[str, date, str], int] = defaultdict(int)
        for (code, d, product, _), made in self.booking_days.items():
            self._booked[(code, d, product)].append(made)
        for (code, d, product, _), n in self.attended.items():
            self._came[(code, d, product)] += n
        # how bookings for a day grow after k days before it: known k days ahead x pickup[k]
        # is the final count on average (the booking curve a pharmacist knows from experience)
        ahead = np.concatenate(
            [
                (d - SEASON_START).days - made
                for (code, d, _, _), made in self.booking_days.items()
                if "-M" not in code
            ]
            or [np.zeros(1)]
        )
        self._pickup = [1.0 / max(float(np.mean(ahead >= k)), 0.05) for k in range(15)]

    def order(self, site: Site, delivery: int) -> tuple[OpenRequest, ...]:
        """The site's own order for the delivery on day ``delivery`` (see ASSUMPTIONS)."""
        key = (site.code, self.day(delivery))
        if key in self._orders:
            return self._orders[key]
        placed = delivery - ORDER_LEAD
        until = (
            next(u for u in range(delivery + 1, delivery + 8) if site.receives_on(self.day(u))) - 1
        )
        period = range(delivery, until + 1)
        requests = []
        for product in self.products_at[site.code]:
            known = sum(
                int(np.searchsorted(made, placed, side="right")) * self._pickup[t - placed]
                for t in period
                for made in self._booked.get((site.code, self.day(t), product), ())
            )
            open_days = sum(
                1
                for t in period
                if any(
                    (site.code, self.day(t), p) in self._booked for p in self.products_at[site.code]
                )
            )
            known += site.walk_ins_per_day.get(product, 0.0) * open_days
            given = sum(
                self._came.get((site.code, self.day(t), product), 0)
                for t in range(placed - len(period), placed)
                if t >= 0
            )
            doses = math.ceil(max(known, given) * (1 + ORDER_MARGIN))
            if doses > 0:
                requests.append(
                    OpenRequest(site.code, product, doses, self.day(delivery), self.day(until))
                )
        self._orders[key] = tuple(requests)
        return self._orders[key]


def generate(region: str, weeks: int, seed: int) -> Season:
    centres, gps, mobiles, scale = REGIONS[region]
    rng = np.random.default_rng([seed, list(REGIONS).index(region)])
    days = 7 * weeks
    sites: list[Site] = []
    volume: dict[str, float] = {}  # covid bookings per open day at the peak
    tau: dict[str, float] = {}  # how fast a site's bookings fall off, days
    opening: dict[str, tuple[int, ...]] = {}
    mix: dict[str, dict[str, float]] = {}
    for n in range(centres):
        code = f"{region[:3].upper()}-C{n + 1:02d}"
        volume[code] = rng.uniform(120, 300)
        tau[code] = rng.uniform(10, 20)
        opening[code] = (0, 1, 2, 3, 4, 5)
        mix[code] = {
            "comirnaty-grey": 1.0,
            "comirnaty-purple": 0.04,
            "influenza": 1.2,
            "pneumococcal": 0.15,
        }
        sites.append(
            Site(
                code,
                capacity_vials=int(rng.integers(1200, 2000)),
                delivery_days=frozenset({0, 1, 2, 3, 4}),
                no_show_rate=round(float(rng.uniform(0.05, 0.10)), 3),
                walk_ins_per_day={
                    "comirnaty-grey": float(rng.uniform(1, 5)),
                    "influenza": float(rng.uniform(2, 8)),
                },
            )
        )
    for n in range(gps):
        code = f"{region[:3].upper()}-G{n + 1:03d}"
        volume[code] = rng.uniform(3, 20)
        tau[code] = rng.uniform(8, 20)
        opening[code] = tuple(sorted(rng.choice(5, size=int(rng.integers(2, 4)), replace=False)))
        covid = "spikevax" if rng.random() < 0.25 else "comirnaty-grey"
        mix[code] = {covid: 1.0, "influenza": 1.2, "pneumococcal": 0.15}
        first = int(rng.integers(0, 5))
        sites.append(
            Site(
                code,
                capacity_vials=int(rng.integers(40, 100)),
                delivery_days=frozenset({first, (first + 3) % 5} if n % 3 else {first}),
                no_show_rate=round(float(rng.uniform(0.05, 0.10)), 3),
                walk_ins_per_day={
                    covid: float(rng.uniform(0, 0.5)),
                    "influenza": float(rng.uniform(0, 1.5)),
                },
            )
        )
    for n in range(mobiles):
        code = f"{region[:3].upper()}-M{n + 1:02d}"
        volume[code] = rng.uniform(10, 35)
        tau[code] = rng.uniform(7, 12)
        opening[code] = (0, 1, 2, 3, 4)
        mix[code] = {"comirnaty-grey": 1.0, "influenza": 0.8}
        sites.append(
            Site(
                code, capacity_vials=60, delivery_days=frozenset({0, 1, 2, 3, 4}), no_show_rate=0.02
            )
        )

    booking_days: dict[tuple[str, date, str, str], np.ndarray] = {}
    attended: dict[tuple[str, date, str, str], int] = defaultdict(int)
    for site in sites:
        code = site.code
        for n in range(days):
            d = SEASON_START + timedelta(days=n)
            if d.weekday() not in opening[code]:
                continue
            curve = 0.06 + 0.94 * np.exp(-n / tau[code])
            opened = False
            for product, share_of_covid in mix[code].items():
                p = BY_CODE[product]
                if d < p.first_day:
                    continue
                mean = volume[code] * share_of_covid * curve * scale
                groups = {"nursing_home": 1.0} if "-M" in code else p.groups
                for group, share in groups.items():
                    booked = int(rng.poisson(mean * share))
                    if booked == 0:
                        continue
                    opened = True
                    if "-M" in code:
                        ahead = np.full(booked, 10)
                    else:
                        ahead = np.minimum(rng.exponential(7.0, booked).astype(int), 27)
                    made = np.sort(np.maximum(n - ahead, -28))
                    key = (code, d, product, group)
                    booking_days[key] = made
                    attended[key] += int(rng.binomial(booked, 1 - site.no_show_rate))
            if opened:
                for product, rate in site.walk_ins_per_day.items():
                    walk_ins = int(rng.poisson(rate))
                    if walk_ins:
                        attended[(code, d, product, "")] += walk_ins

    # supply: SSI delivers every Thursday what the region has booked for the next week, a
    # little short in the first week of the rush; the pharmacy starts with some stock
    weekly: dict[tuple[int, str], float] = defaultdict(float)
    for (_code, d, product, _group), made in booking_days.items():
        weekly[((d - SEASON_START).days // 7, product)] += len(made)
    for product in BY_CODE:  # the delivery in the last week, for the week after the season
        weekly[(weeks, product)] = weekly.get((weeks - 1, product), 0.0)
    deliveries: dict[date, list[StockUnit]] = defaultdict(list)
    stock: list[StockUnit] = []
    serial = 0

    def units_of(
        product: Product,
        doses: float,
        arrival: date,
        expiry: date,
        lot: str,
        window: int | None,
        held: bool = False,
    ) -> list[StockUnit]:
        nonlocal serial
        units = []
        per_unit = product.doses_per_vial * product.ssi_unit_vials
        for _ in range(int(np.ceil(doses / per_unit))):
            serial += 1
            units.append(
                StockUnit(
                    id=f"{region[:3].upper()}-{product.code[:3]}{product.code[-3:]}-{serial:05d}",
                    product=product.code,
                    lot=lot,
                    state=product.state,
                    vials=product.ssi_unit_vials,
                    doses_per_vial=product.doses_per_vial,
                    expiry=expiry,
                    bud=None,
                    thawed_window_days=window,
                    thaw_lead_days=product.thaw_lead_days,
                    available_from=arrival if arrival > SEASON_START else None,
                    held=held,
                )
            )
        return units

    for (week, product_code), doses in sorted(weekly.items()):
        p = BY_CODE[product_code]
        arrival = SEASON_START + timedelta(weeks=week) - timedelta(days=4)  # the Thursday before
        factor = 0.85 if week == 0 else SSI_FACTOR
        expiry = SEASON_START + timedelta(days=int(rng.integers(*p.shelf_days)))
        window = p.window_days
        lot = f"{product_code[:3].upper()}{seed}{week:02d}"
        if p.extended_window_days is not None and rng.random() < p.extended_share:
            window, lot = p.extended_window_days, lot + "X"
        units = units_of(p, doses * factor, arrival, expiry, lot, window)
        if arrival <= SEASON_START:
            if units and p.window_days is not None and p.code != "comirnaty-purple":
                # one unit of the main covid products was thawed the day before
                thawed_on = SEASON_START - timedelta(days=1)
                units[0] = replace(
                    units[0],
                    state="thawed",
                    bud=min(expiry, thawed_on + timedelta(days=window - 1)),
                )
            stock.extend(units)
        else:
            deliveries[arrival].extend(units)
    flu, grey = BY_CODE["influenza"], BY_CODE["comirnaty-grey"]
    stock.extend(
        units_of(
            flu,
            1500 * scale,
            SEASON_START,
            SEASON_START + timedelta(days=20),
            "FLU-LAST-SEASON",
            None,
        )
    )
    stock.extend(
        units_of(
            grey,
            1200 * scale,
            SEASON_START,
            SEASON_START + timedelta(days=200),
            "COM-HELD",
            grey.window_days,
            held=True,
        )
    )
    # centres hold thawed covid from the summer, part of it near its BUD
    sites = [
        replace(
            s,
            stock=(
                StockUnit(
                    f"{s.code}-summer",
                    "comirnaty-grey",
                    "COM-SUMMER",
                    "thawed",
                    int(rng.integers(20, 80)),
                    6,
                    SEASON_START + timedelta(120),
                    SEASON_START + timedelta(days=int(rng.integers(3, 20))),
                ),
            ),
        )
        if "-C" in s.code
        else s
        for s in sites
    ]
    season = Season(
        region,
        days,
        seed,
        tuple(sites),
        tuple(stock),
        dict(deliveries),
        booking_days,
        dict(attended),
        products_at={c: tuple(sorted(m)) for c, m in mix.items()},
    )
    season.realised = [Demand(c, d, p, g, n) for (c, d, p, g), n in attended.items() if n]
    season.index()
    return season


def standby_takers(season: Season, offers, uptake: float) -> list[Demand]:
    """Standby citizens who take up the plan's fill-the-vial offers (seeded per offer)."""
    takers = []
    if uptake <= 0:
        return takers
    for f in offers:
        if f.standby_slots <= 0:
            continue
        n = standby_arrivals(season.seed, f.site, f.day, f.product, f.standby_slots, uptake)
        if n:
            takers.append(Demand(f.site, f.day, f.product, STANDBY_GROUP, n))
    return takers


def standby_arrivals(
    seed: int, site: str, day: date, product: str, offered: int, uptake: float
) -> int:
    """How many of ``offered`` standby slots are taken up (seeded per site, day and product)."""
    key = f"{seed}|{site}|{day}|{product}".encode()
    return int(np.random.default_rng(zlib.crc32(key)).binomial(offered, uptake))


@dataclass
class Score:
    used: int = 0
    standby: int = 0
    standby_came: int = 0  # standby citizens who came; those not given a dose went home
    waste_bud: int = 0
    waste_open: int = 0
    unmet: int = 0
    thawed_left: int = 0
    plan_seconds: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_product: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def waste(self) -> int:
        return self.waste_bud + self.waste_open

    def add(self, outcome) -> None:
        self.used += outcome.doses_used
        self.standby += outcome.standby_doses
        self.waste_bud += outcome.waste_doses["expiry_or_bud"]
        self.waste_open += outcome.waste_doses["open_vial"]
        self.unmet += outcome.unmet_appointments
        for product, w in outcome.waste_by_product.items():
            self.by_product[product][0] += w["expiry_or_bud"]
            self.by_product[product][1] += w["open_vial"]

    def merge(self, other: Score) -> None:
        for name in (
            "used",
            "standby",
            "standby_came",
            "waste_bud",
            "waste_open",
            "unmet",
            "thawed_left",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.plan_seconds += other.plan_seconds
        for k, v in other.statuses.items():
            self.statuses[k] += v
        for k, (bud, opened) in other.by_product.items():
            self.by_product[k][0] += bud
            self.by_product[k][1] += opened


def thawed_doses(units) -> int:
    return sum(u.vials * u.doses_per_vial for u in units if u.state == "thawed" and not u.held)


def split_frozen(units: list[StockUnit]) -> list[StockUnit]:
    """Frozen trays split into the pharmacy's cartons while still frozen (a sensitivity run
    of the baseline: thawing a carton at a time by hand instead of a whole tray)."""
    out = []
    for u in units:
        carton = CARTONS.get(u.product, u.vials)
        if not u.is_frozen or u.vials <= carton:
            out.append(u)
            continue
        for n, first in enumerate(range(0, u.vials, carton)):
            out.append(replace(u, id=f"{u.id}/{n + 1}", vials=min(carton, u.vials - first)))
    return out


def rolling(
    season: Season,
    method: str,
    time_limit: float,
    safety_z: float = 0.0,
    uptake: float = 0.0,
    observe=None,
) -> Score:
    """One plan a day over 14 days, its first day carried out. ``method`` "fefo" is the
    baseline fed with the sites' own orders; "optimal" publishes its offers as standby slots.
    ``observe(req, plan, realised)``, if given, sees each day's plan and who came."""
    score = Score()
    deliveries = season.deliveries
    pharmacy = list(season.stock)
    if method == "fefo-carton":
        deliveries = {d: split_frozen(units) for d, units in deliveries.items()}
        pharmacy = split_frozen(pharmacy)
    sites = list(season.sites)
    for today in range(season.days):
        start = season.day(today)
        upcoming = [
            u
            for d, units in deliveries.items()
            if start < d < start + timedelta(days=HORIZON)
            for u in units
        ]
        upcoming_ids = {u.id for u in upcoming}
        req = PlanRequest(
            start=start,
            days=HORIZON,
            pharmacy_stock=tuple(pharmacy + upcoming),
            sites=tuple(sites),
            demand=season.known_bookings(today, today + HORIZON),
            priority=PRIORITY,
            time_limit_s=time_limit,
            carton_vials=CARTONS,
            booking_pickup=tuple(season._pickup[:HORIZON]),
        )
        if method.startswith("fefo"):
            orders = tuple(
                r
                for s in sites
                for t in range(today, today + ORDER_LEAD + 1)
                if s.receives_on(season.day(t))
                for r in season.order(s, t)
            )
            req = replace(req, open_requests=orders)
            plan = plan_fefo(req)
        else:
            req = replace(req, safety_z=safety_z)
            plan = plan_optimal(req)
        score.plan_seconds.append(plan.solve_seconds)
        score.statuses[plan.status] += 1
        realised = season.realised_on(today, today + 1)
        if method == "optimal":
            takers = standby_takers(
                season, [f for f in plan.fill_the_vial if f.day == start], uptake
            )
            score.standby_came += sum(d.booked for d in takers)
            realised += takers
        if observe is not None:
            observe(req, plan, realised)
        outcome = execute_days(req, plan, realised, days=1)
        assert not outcome.violations, outcome.violations
        score.add(outcome)
        tomorrow = start + timedelta(days=1)
        pharmacy = [u for u in outcome.pharmacy_stock if u.id not in upcoming_ids]
        pharmacy += deliveries.get(tomorrow, [])
        sites = [replace(s, stock=outcome.site_stock.get(s.code, ())) for s in sites]
    score.thawed_left = thawed_doses(pharmacy) + sum(thawed_doses(s.stock) for s in sites)
    return score


def perfect_foresight(
    season: Season, time_limit: float, uptakes: list[float]
) -> dict[float, Score]:
    incoming = [u for units in season.deliveries.values() for u in units]
    sites = tuple(replace(s, no_show_rate=0.0, walk_ins_per_day={}) for s in season.sites)
    req = PlanRequest(
        start=SEASON_START,
        days=season.days,
        pharmacy_stock=season.stock + tuple(incoming),
        sites=sites,
        demand=tuple(season.realised),
        priority=PRIORITY,
        time_limit_s=time_limit,
    )
    plan = plan_optimal(req)
    scores = {}
    for uptake in uptakes:
        takers = standby_takers(season, plan.fill_the_vial, uptake)
        outcome = evaluate_plan(req, plan, list(season.realised) + takers)
        assert not outcome.violations, outcome.violations
        score = Score(plan_seconds=[plan.solve_seconds], standby_came=sum(d.booked for d in takers))
        score.add(outcome)
        score.statuses[plan.status] += 1
        score.thawed_left = thawed_doses(outcome.pharmacy_stock) + sum(
            thawed_doses(units) for units in outcome.site_stock.values()
        )
        scores[uptake] = score
    return scores


def single_plan_timing(seed: int, time_limit: float, safety_z: float) -> None:
    region = max(REGIONS, key=lambda r: sum(REGIONS[r][:3]))
    season = generate(region, 3, seed)
    upcoming = [
        u
        for d, units in season.deliveries.items()
        if d < SEASON_START + timedelta(days=HORIZON)
        for u in units
    ]
    req = PlanRequest(
        start=SEASON_START,
        days=HORIZON,
        pharmacy_stock=season.stock + tuple(upcoming),
        sites=season.sites,
        demand=season.known_bookings(0, HORIZON) or (),
        priority=PRIORITY,
        time_limit_s=time_limit,
        safety_z=safety_z,
        carton_vials=CARTONS,
        booking_pickup=tuple(season._pickup[:HORIZON]),
    )
    full = tuple(
        Demand(c, d, p, g, len(made))
        for (c, d, p, g), made in season.booking_days.items()
        if (d - SEASON_START).days < HORIZON
    )
    # all bookings made: none still to come, so no booking curve on top of them
    for label, demand, pickup in (
        ("bookings known on day 0", req.demand, req.booking_pickup),
        ("all bookings of the 14 days", full, ()),
    ):
        r = replace(req, demand=demand, booking_pickup=pickup)
        plan = plan_optimal(r)
        products = sorted({u.product for u in r.pharmacy_stock})
        print(
            f"  14-day plan, {region}, {label}: {len(r.sites)} sites, {len(products)} products, "
            f"{len(r.pharmacy_stock)} units, {len(r.demand)} demand lines -> "
            f"{plan.solve_seconds:.2f} s, status {plan.status}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--region", choices=sorted(REGIONS), action="append")
    parser.add_argument(
        "--quick", action="store_true", help="one small region over 3 weeks (under 2 minutes)"
    )
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument(
        "--safety-z",
        type=float,
        default=1.0,
        help="safety stock of plan_optimal in the rolling runs (0: none)",
    )
    parser.add_argument(
        "--standby-uptake",
        type=float,
        default=0.5,
        help="share of fill-the-vial offers taken up by standby citizens; "
        "figures are printed for 0 as well",
    )
    parser.add_argument("--foresight-time-limit", type=float, default=120.0)
    args = parser.parse_args(argv)
    regions = args.region or (["Nordjylland"] if args.quick else list(REGIONS))
    weeks = min(args.weeks, 3) if args.quick else args.weeks
    foresight_limit = (
        min(args.foresight_time_limit, 30.0) if args.quick else args.foresight_time_limit
    )
    uptakes = sorted({0.0, args.standby_uptake})

    print(
        f"season.py seed={args.seed} weeks={weeks} regions={','.join(regions)} "
        f"safety_z={args.safety_z} standby uptake={','.join(f'{u:.0%}' for u in uptakes)}"
    )
    print("Assumptions:")
    for line in ASSUMPTIONS:
        print(f"  - {line}")
    totals: dict[str, Score] = defaultdict(Score)
    for region in regions:
        season = generate(region, weeks, args.seed)
        booked = sum(len(v) for v in season.booking_days.values())
        came = sum(season.attended.values())
        print(
            f"\n{region}: {len(season.sites)} sites, {booked} booked, {came} came, "
            f"{len(season.stock) + sum(len(v) for v in season.deliveries.values())} units "
            f"from SSI"
        )
        t0 = time.perf_counter()
        scores: dict[str, Score] = {
            "baseline": rolling(season, "fefo", args.time_limit),
            "baseline-carton-thaw": rolling(season, "fefo-carton", args.time_limit),
        }
        foresight = perfect_foresight(season, foresight_limit, uptakes)
        for uptake in uptakes:
            scores[f"optimal@{uptake:.0%}"] = rolling(
                season, "optimal", args.time_limit, args.safety_z, uptake
            )
            scores[f"foresight@{uptake:.0%}"] = foresight[uptake]
        report(scores, uptakes)
        print(f"  (region took {time.perf_counter() - t0:.0f} s)")
        for name, s in scores.items():
            totals[name].merge(s)
    if len(regions) > 1:
        print("\nAll regions")
        report(totals, uptakes)
    print("\nSingle plan timing (largest region)")
    single_plan_timing(args.seed, args.time_limit, args.safety_z)


def report(scores: dict[str, Score], uptakes: list[float]) -> None:
    print(
        f"  {'method@standby uptake':<22} {'waste':>7} {'(bud':>6} {'open)':>6} {'used':>8} "
        f"{'standby':>7} {'sent home':>9} {'used %':>7} {'unmet':>6} {'thawed left':>11} "
        f"{'plan s mean':>11} {'max':>6}  status"
    )
    for name, s in scores.items():
        total = s.used + s.waste
        share = 100.0 * s.used / total if total else 0.0
        status = ",".join(f"{k}:{v}" for k, v in sorted(s.statuses.items()))
        print(
            f"  {name:<22} {s.waste:>7} {s.waste_bud:>6} {s.waste_open:>6} {s.used:>8} "
            f"{s.standby:>7} {s.standby_came - s.standby:>9} {share:>6.1f}% {s.unmet:>6} "
            f"{s.thawed_left:>11} "
            f"{statistics.mean(s.plan_seconds):>11.2f} {max(s.plan_seconds):>6.2f}  {status}"
        )
    print("  waste by product, bud/open:")
    for name, s in scores.items():
        print(
            f"    {name:<20} "
            + "  ".join(f"{p}: {bud}/{opened}" for p, (bud, opened) in sorted(s.by_product.items()))
        )

    def ratio(a: int, b: int) -> str:
        return f"{a / b:.2f}" if b else ("1.00" if a == b else "inf")

    base, carton = scores["baseline"], scores["baseline-carton-thaw"]
    for uptake in uptakes:
        opt, fore = scores[f"optimal@{uptake:.0%}"], scores[f"foresight@{uptake:.0%}"]
        print(
            f"  standby uptake {uptake:.0%}: optimal/foresight waste "
            f"{ratio(opt.waste, fore.waste)} (target <= 1.1), optimal/baseline waste "
            f"{ratio(opt.waste, base.waste)} (target <= 0.5; vs carton-thaw baseline "
            f"{ratio(opt.waste, carton.waste)}), optimal/baseline unmet "
            f"{ratio(opt.unmet, base.unmet)} ({opt.unmet} vs {base.unmet}, target <= 1)"
        )


if __name__ == "__main__":
    main()
