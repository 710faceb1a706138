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
from dataclasses import dataclass

from .model import THAWED, Plan, PlanRequest, Shipment, StockUnit, Thaw
from .needs import (
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
    horizon = horizon_of(req)
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

    thawed: list[_Lot] = []
    frozen: list[StockUnit] = []
    for u in req.pharmacy_stock:
        if not plannable_at_pharmacy(u, req.start):
            continue
        if u.is_frozen:
            frozen.append(u)
        elif u.state == THAWED:
            thawed.append(
                _Lot(
                    u.id,
                    u.product,
                    u.doses_per_vial,
                    horizon.index(u.last_usable_day),
                    u.vials,
                    max(0, horizon.index(u.available_from or req.start)),
                )
            )
    frozen.sort(key=lambda u: (u.expiry, u.available_from or req.start, u.id))
    at_site: dict[str, list[_Lot]] = {
        s.code: [
            _Lot(u.id, u.product, u.doses_per_vial, horizon.index(u.last_usable_day), u.vials)
            for u in usable_site_stock(s, req.start)
        ]
        for s in req.sites
    }
    shipments: dict[tuple[str, int, str], int] = defaultdict(int)
    thaws: list[Thaw] = []

    def next_thawed(product: str, today: int, use_day: int) -> _Lot | None:
        usable = [
            x
            for x in thawed
            if x.product == product and x.vials and x.ready <= today and x.last >= use_day
        ]
        return min(usable, key=lambda x: (x.last, x.stock_id), default=None)

    def thaw_a_carton(product: str, today: int, use_day: int) -> _Lot | None:
        for unit in frozen:
            if unit.product != product:
                continue
            thaw_day = today - unit.thaw_lead_days
            arrives = horizon.index(unit.available_from or req.start)
            if thaw_day < max(0, arrives):
                continue
            last = horizon.index(bud_after_thaw(unit, horizon.date(thaw_day)))
            if last < use_day:
                continue
            frozen.remove(unit)
            thaws.append(Thaw(unit.id, horizon.date(thaw_day), unit.vials))
            lot = _Lot(unit.id, product, unit.doses_per_vial, last, unit.vials, today)
            thawed.append(lot)
            return lot
        return None

    def give(lots: list[_Lot], product: str, day: int, doses: int) -> int:
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

    sites = sorted(req.sites, key=lambda s: s.code)
    for today in range(horizon.days):
        for site in sites:
            if not site.receives_on(horizon.date(today)):
                continue
            until = next(
                (u for u in range(today + 1, horizon.days) if site.receives_on(horizon.date(u))),
                horizon.days,
            )
            room = site.capacity_vials - sum(x.vials for x in at_site[site.code])
            products = sorted(
                {p for u in range(today, until) for p in wanted.get((site.code, u), {})}
            )
            for product in products:
                projected = [_Lot(**vars(x)) for x in at_site[site.code]]
                for use_day in range(today, until):
                    short = give(
                        projected,
                        product,
                        use_day,
                        wanted.get((site.code, use_day), {}).get(product, 0),
                    )
                    while short > 0 and room > 0:
                        lot = next_thawed(product, today, use_day) or thaw_a_carton(
                            product, today, use_day
                        )
                        if lot is None:
                            break
                        k = math.ceil(short / lot.dpv)
                        carton = req.carton_vials.get(product, 1)
                        if carton > 1:
                            k = carton * math.ceil(k / carton)
                        k = min(lot.vials, k, room)
                        lot.vials -= k
                        room -= k
                        short -= k * lot.dpv
                        shipments[(site.code, today, lot.stock_id)] += k
                        at_site[site.code].append(
                            _Lot(lot.stock_id, product, lot.dpv, lot.last, k, today)
                        )
        for site in sites:
            for product, doses in sorted(wanted.get((site.code, today), {}).items()):
                give(at_site[site.code], product, today, doses)
            at_site[site.code] = [x for x in at_site[site.code] if x.vials and x.last > today]

    planned = tuple(
        Shipment(code, horizon.date(t), stock_id, vials)
        for (code, t, stock_id), vials in sorted(
            shipments.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])
        )
    )
    return plan_from_actions(
        req, "fefo", "heuristic", planned, tuple(thaws), time.perf_counter() - started, None
    )
