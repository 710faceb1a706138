"""The baseline: what a pharmacist does by hand, first-expiry-first-out.

Walk the days in order. On each of a site's delivery days, look at what it needs until its
next delivery day (its expected bookings, or its own open request for that product and day;
a request with ``until`` stands for the whole need of its days), take off what it already
holds and can still use, and send the earliest-expiring stock that is still usable on the day
it will be given, whole vials (whole cartons of ``PlanRequest.carton_vials[product]`` vials
where the pharmacy repacks into cartons), as far as its fridge has room.
When no thawed stock is left, take the next frozen unit (earliest expiry first) out of the
freezer, a whole unit (carton or tray) at a time, early enough for its thaw lead time.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

from .model import THAWED, Plan, PlanRequest, Shipment, Site, StockUnit, Thaw
from .needs import (
    Horizon,
    bud_after_thaw,
    expected_need,
    horizon_of,
    normalised_requests,
    plannable_at_pharmacy,
    usable_site_stock,
)


@dataclass
class _Lot:
    stock_id: str
    product: str
    dpv: int
    last: int  # last usable day index
    vials: int
    ready: int = 0  # first day it can leave the pharmacy


def plan_fefo(req: PlanRequest) -> Plan:
    from .replay import plan_from_actions

    started = time.perf_counter()
    pharmacist = _ByHand.of(req)
    for today in range(pharmacist.horizon.days):
        for site in pharmacist.sites:
            if site.receives_on(pharmacist.horizon.date(today)):
                pharmacist.restock(site, today)
        for site in pharmacist.sites:
            pharmacist.give_out(site, today)
    return plan_from_actions(
        req,
        "fefo",
        "heuristic",
        pharmacist.planned_shipments(),
        tuple(pharmacist.thaws),
        time.perf_counter() - started,
        None,
    )


def _doses_wanted(req: PlanRequest, horizon: Horizon) -> dict[tuple[str, int], dict[str, int]]:
    """Doses per (site, day) and product: the expected need, or the site's own request for
    the product and day (with ``until``, for the whole need of its days)."""
    doses_wanted: dict[tuple[str, int, str], int] = {
        key: sum(groups.values()) for key, groups in expected_need(req, horizon).items()
    }
    for r in normalised_requests(req):
        t = horizon.index(r.day)
        if t not in horizon:
            continue
        if r.until is not None:
            for u in range(t + 1, min(horizon.index(r.until), horizon.last) + 1):
                doses_wanted.pop((r.site, u, r.product), None)
        doses_wanted[(r.site, t, r.product)] = r.doses
    wanted: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    for (code, t, product), doses in doses_wanted.items():
        wanted[(code, t)][product] = doses
    return wanted


def _give(lots: list[_Lot], product: str, day: int, doses: int) -> int:
    """Open vials oldest first for ``doses`` on ``day``; return the doses still short."""
    for lot in sorted(lots, key=lambda x: (x.last, x.stock_id)):
        if doses <= 0:
            break
        if lot.product != product or lot.last < day or not lot.vials:
            continue
        k = min(lot.vials, math.ceil(doses / lot.dpv))
        lot.vials -= k
        doses -= k * lot.dpv
    return max(doses, 0)


@dataclass
class _ByHand:
    """The pharmacist's stock and the sites' fridges as the days go by."""

    req: PlanRequest
    horizon: Horizon
    wanted: dict[tuple[str, int], dict[str, int]]
    sites: list[Site]
    thawed: list[_Lot] = field(default_factory=list)
    frozen: list[StockUnit] = field(default_factory=list)
    at_site: dict[str, list[_Lot]] = field(default_factory=dict)
    shipments: dict[tuple[str, int, str], int] = field(default_factory=lambda: defaultdict(int))
    thaws: list[Thaw] = field(default_factory=list)

    @classmethod
    def of(cls, req: PlanRequest) -> _ByHand:
        horizon = horizon_of(req)
        pharmacist = cls(
            req, horizon, _doses_wanted(req, horizon), sorted(req.sites, key=lambda s: s.code)
        )
        pharmacist.stock_at_start()
        return pharmacist

    def stock_at_start(self) -> None:
        req, horizon = self.req, self.horizon
        for u in req.pharmacy_stock:
            if not plannable_at_pharmacy(u, req.start):
                continue
            if u.is_frozen:
                self.frozen.append(u)
            elif u.state == THAWED:
                ready = max(0, horizon.index(u.available_from or req.start))
                self.thawed.append(self.lot_of(u, ready))
        self.frozen.sort(key=lambda u: (u.expiry, u.available_from or req.start, u.id))
        self.at_site = {
            s.code: [self.lot_of(u, 0) for u in usable_site_stock(s, req.start)] for s in req.sites
        }

    def lot_of(self, u: StockUnit, ready: int) -> _Lot:
        last = self.horizon.index(u.last_usable_day)
        return _Lot(u.id, u.product, u.doses_per_vial, last, u.vials, ready)

    def wanted_on(self, code: str, day: int) -> dict[str, int]:
        return self.wanted.get((code, day), {})

    # ------------------------------------------------------------ a delivery day

    def restock(self, site: Site, today: int) -> None:
        """Send what the site needs until its next delivery day, as far as its fridge has
        room, product by product."""
        until = next(
            (
                u
                for u in range(today + 1, self.horizon.days)
                if site.receives_on(self.horizon.date(u))
            ),
            self.horizon.days,
        )
        room = site.capacity_vials - sum(x.vials for x in self.at_site[site.code])
        products = sorted({p for u in range(today, until) for p in self.wanted_on(site.code, u)})
        for product in products:
            projected = [_Lot(**vars(x)) for x in self.at_site[site.code]]
            for use_day in range(today, until):
                wanted = self.wanted_on(site.code, use_day).get(product, 0)
                short = _give(projected, product, use_day, wanted)
                room = self.send(site, product, today, use_day, short, room)

    def send(
        self, site: Site, product: str, today: int, use_day: int, short: int, room: int
    ) -> int:
        """Send vials for ``short`` doses on ``use_day``, earliest expiring first; returns the
        room left in the site's fridge."""
        while short > 0 and room > 0:
            lot = self.next_thawed(product, today, use_day) or self.thaw_a_carton(
                product, today, use_day
            )
            if lot is None:
                break
            k = min(lot.vials, self.vials_for(product, math.ceil(short / lot.dpv)), room)
            lot.vials -= k
            room -= k
            short -= k * lot.dpv
            self.shipments[(site.code, today, lot.stock_id)] += k
            self.at_site[site.code].append(_Lot(lot.stock_id, product, lot.dpv, lot.last, k, today))
        return room

    def vials_for(self, product: str, vials: int) -> int:
        """Whole cartons where the pharmacy repacks the product into cartons."""
        carton = self.req.carton_vials.get(product, 1)
        return carton * math.ceil(vials / carton) if carton > 1 else vials

    def next_thawed(self, product: str, today: int, use_day: int) -> _Lot | None:
        usable = [
            x
            for x in self.thawed
            if x.product == product and x.vials and x.ready <= today and x.last >= use_day
        ]
        return min(usable, key=lambda x: (x.last, x.stock_id), default=None)

    def thaw_a_carton(self, product: str, today: int, use_day: int) -> _Lot | None:
        """Take the earliest expiring frozen unit of the product out whole, in time to ship it
        ``today``, if it lasts to ``use_day``."""
        for unit in self.frozen:
            if unit.product != product:
                continue
            thaw_day = today - unit.thaw_lead_days
            if thaw_day < max(0, self.horizon.index(unit.available_from or self.req.start)):
                continue
            last = self.horizon.index(bud_after_thaw(unit, self.horizon.date(thaw_day)))
            if last < use_day:
                continue
            self.frozen.remove(unit)
            self.thaws.append(Thaw(unit.id, self.horizon.date(thaw_day), unit.vials))
            lot = _Lot(unit.id, product, unit.doses_per_vial, last, unit.vials, today)
            self.thawed.append(lot)
            return lot
        return None

    # ------------------------------------------------------------ every day

    def give_out(self, site: Site, today: int) -> None:
        """The site gives the day's doses; what is empty or at its last day is gone."""
        for product, doses in sorted(self.wanted_on(site.code, today).items()):
            _give(self.at_site[site.code], product, today, doses)
        self.at_site[site.code] = [x for x in self.at_site[site.code] if x.vials and x.last > today]

    def planned_shipments(self) -> tuple[Shipment, ...]:
        return tuple(
            Shipment(code, self.horizon.date(t), stock_id, vials)
            for (code, t, stock_id), vials in sorted(
                self.shipments.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])
            )
        )
