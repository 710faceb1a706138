"""Free appointments a citizen may be offered, each dose promised once.

A site's free appointments on a day are bounded twice: by its unbooked slots that day (its
appointment slots, less every booking that day, whatever the product) and by the doses still
unpromised that are usable that day. Going through the days shown in order, earliest first,
each day promises what both allow and takes those doses out of the stock, so a dose offered
on Monday is not offered again on Tuesday. Summed over all days and products, the free
appointments shown for a site never exceed the doses it has and has coming once the bookings
have theirs.

The stock given here is what is left after the bookings were served
(``inventory.domain.capacity``): each entry usable from ``first`` through ``last`` (held,
expired and BUD-passed stock never enters; stock whose BUD passes before a day is not usable
on it). A day takes the doses that run out first, so the later days keep the longer-lived ones.

Products share a site's slots: one slot is one person. On a day the product whose usable
stock runs out first is offered first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol


class Doses(Protocol):
    """Doses of one carton usable from ``first`` through ``last``; ``left`` of them."""

    first: date
    last: date
    left: int


@dataclass
class _Unpromised:
    first: date
    last: date
    left: int


@dataclass(frozen=True)
class SiteDay:
    day: date
    free: dict[str, int]  # per product

    @property
    def total(self) -> int:
        return sum(self.free.values())


def unbooked_slots(slots: int | None, booked: int) -> int | None:
    """Slots nobody has booked (None: the site keeps no count of its slots)."""
    return None if slots is None else max(slots - booked, 0)


def promise_once(
    stock: Mapping[str, Iterable[Doses]],
    days: list[date],
    unbooked: Mapping[date, int | None],
) -> list[SiteDay]:
    """Free appointments per day and product for one site: ``stock`` per product is what is
    left after the bookings; ``unbooked`` gives each day's unbooked slots (None: not counted,
    so only the doses bound that day). The input is not changed."""
    left = {
        product: sorted(
            (_Unpromised(x.first, x.last, x.left) for x in doses if x.left > 0),
            key=lambda x: (x.last, x.first),
        )
        for product, doses in stock.items()
    }
    result = []
    for day in sorted(days):
        room = unbooked.get(day)
        free: dict[str, int] = {}
        if room != 0:
            # the product whose usable doses run out first is offered first
            for _, product, usable in sorted(_usable_on(left, day)):
                wanted = usable if room is None else min(usable, room)
                if wanted > 0:
                    _take(left[product], day, wanted)
                    free[product] = wanted
                    if room is not None:
                        room -= wanted
        result.append(SiteDay(day, free))
    return result


def _usable_on(left: dict[str, list[_Unpromised]], day: date) -> list[tuple[date, str, int]]:
    """(the day its first usable doses run out, product, doses usable) per product with doses
    usable on ``day``."""
    found = []
    for product, stock in left.items():
        usable, runs_out = 0, date.max
        for x in stock:
            if x.left and x.first <= day <= x.last:
                usable += x.left
                runs_out = min(runs_out, x.last)
        if usable:
            found.append((runs_out, product, usable))
    return found


def _take(stock: list[_Unpromised], day: date, doses: int) -> None:
    for x in stock:
        if doses == 0:
            return
        if x.first <= day <= x.last and x.left:
            take = min(x.left, doses)
            x.left -= take
            doses -= take


def first_free_day(days: list[SiteDay]) -> date | None:
    return next((d.day for d in days if d.total > 0), None)
