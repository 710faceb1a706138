"""Serving booked appointments from the stock a site can count on, day by day.

A dose is promised once. Appointments already booked are served day by day, each from the
stock that runs out first among the stock usable that day (earliest deadline first, which
never serves fewer appointments than any other order). What is left is free: ``free`` on day
``d`` is the number of doses still usable on ``d`` once every booking (on every day, earlier
and later) has its dose. Bookings that find no dose are ``overbooked``. ``invitations`` for a
range counts each free dose once: the doses left that are usable on at least one day of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass
class CountedDoses:
    """Doses of one carton a site can give from ``first`` through ``last``; ``left`` falls as
    bookings take them."""

    carton_id: int
    first: date
    last: date
    left: int

    def usable_on(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class ServedDay:
    day: date
    usable: int  # doses usable on the day, after earlier days' bookings took theirs
    booked: int
    free: int  # doses still usable that day once every booking has its dose
    overbooked: int  # booked appointments no dose is left for


@dataclass(frozen=True)
class Served:
    """One site and product served over ``first`` .. ``last``."""

    days: list[ServedDay]
    invitations: int
    booked: int
    overbooked: int
    stock: list[CountedDoses] = field(default_factory=list)


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def usable_on(stock: Iterable[CountedDoses], day: date) -> int:
    return sum(x.left for x in stock if x.usable_on(day))


def serve_day(stock: list[CountedDoses], day: date, booked: int) -> int:
    """Give each of ``booked`` appointments a dose from the stock usable on ``day``, the one
    that runs out first first (``stock`` is in that order). Returns the appointments left
    without a dose."""
    need = booked
    for x in stock:
        if need <= 0:
            break
        if x.usable_on(day) and x.left:
            take = min(x.left, need)
            x.left -= take
            need -= take
    return need


def runs_out_first(stock: Iterable[CountedDoses]) -> list[CountedDoses]:
    """The stock in the order bookings take it: the one that runs out first first."""
    return sorted(stock, key=lambda x: (x.last, x.carton_id))


def left_after(stock: Iterable[CountedDoses], bookings: Mapping[date, int]) -> list[CountedDoses]:
    """Serve every booking, day by day, as ``serve`` does, and return what is left (in the
    order it runs out); only the days with bookings are visited."""
    own = runs_out_first(stock)
    for day in sorted(bookings):
        serve_day(own, day, bookings[day])
    return own


def serve(
    stock: Iterable[CountedDoses],
    bookings: Mapping[date, int],
    today: date,
    first: date,
    last: date,
) -> Served:
    """Serve every booking from ``today`` on, then say what is free on each day of the range
    ``first`` .. ``last``."""
    own = runs_out_first(stock)
    usable_at_start: dict[date, int] = {}
    short: dict[date, int] = {}
    for day in _days(today, max(last, max(bookings, default=today))):
        usable_at_start[day] = usable_on(own, day)
        short[day] = serve_day(own, day, bookings.get(day, 0))
    days = [
        ServedDay(
            day,
            usable_at_start.get(day, 0),
            bookings.get(day, 0),
            usable_on(own, day),
            short.get(day, 0),
        )
        for day in _days(first, last)
    ]
    return Served(
        days=days,
        invitations=sum(x.left for x in own if x.first <= last and x.last >= first),
        booked=sum(n for d, n in bookings.items() if first <= d <= last),
        overbooked=sum(n for d, n in short.items() if first <= d <= last),
        stock=own,
    )
