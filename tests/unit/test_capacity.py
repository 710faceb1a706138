"""Serving bookings from counted doses: a dose is promised once, earliest deadline first."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from inventory.domain.capacity import CountedDoses, left_after, serve

TODAY = date(2024, 10, 7)


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def doses(carton_id: int, first: int, last: int, left: int) -> CountedDoses:
    return CountedDoses(carton_id, day(first), day(last), left)


def test_free_doses_are_what_is_usable_once_bookings_have_theirs():
    served = serve([doses(1, 0, 9, 10)], {day(0): 3, day(2): 2}, TODAY, day(0), day(2))
    assert [(d.usable, d.booked, d.free, d.overbooked) for d in served.days] == [
        (10, 3, 5, 0),
        (7, 0, 5, 0),
        (7, 2, 5, 0),
    ]
    assert (served.invitations, served.booked, served.overbooked) == (5, 5, 0)


def test_a_booking_takes_the_dose_that_runs_out_first():
    # A lasts to day 1, B to day 9: day 0's bookings take A, and B still serves day 5
    stock = [doses(2, 0, 9, 3), doses(1, 0, 1, 3)]
    served = serve(stock, {day(0): 3, day(5): 3}, TODAY, day(0), day(5))
    assert served.overbooked == 0
    assert [x.left for x in served.stock] == [0, 0]


def test_later_bookings_claim_their_doses_before_the_range_is_offered():
    # the range is days 0..1, but a booking on day 6 needs the only dose lasting that long
    served = serve([doses(1, 0, 9, 1)], {day(6): 1}, TODAY, day(0), day(1))
    assert [d.free for d in served.days] == [0, 0]
    assert served.invitations == 0 and served.booked == 0


def test_bookings_no_dose_is_left_for_are_overbooked():
    served = serve([doses(1, 1, 2, 2)], {day(0): 1, day(1): 3}, TODAY, day(0), day(2))
    assert [d.overbooked for d in served.days] == [1, 1, 0]
    assert served.overbooked == 2


def test_invitations_count_a_free_dose_once_over_the_range():
    stock = [doses(1, 0, 1, 2), doses(2, 3, 4, 1), doses(3, 8, 9, 5)]
    served = serve(stock, {}, TODAY, day(0), day(4))
    assert [d.free for d in served.days] == [2, 2, 0, 1, 1]
    assert served.invitations == 3


@given(
    stock=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 5)), max_size=6),
    bookings=st.dictionaries(st.integers(0, 8), st.integers(1, 6), max_size=6),
)
def test_every_dose_is_given_once_or_left(stock, bookings):
    counted = [doses(i, a, a + span, n) for i, (a, span, n) in enumerate(stock)]
    total = sum(x.left for x in counted)
    asked = {day(d): n for d, n in bookings.items()}
    served = serve(counted, asked, TODAY, day(0), day(8))
    given_out = sum(asked.values()) - served.overbooked
    assert given_out + sum(x.left for x in served.stock) == total
    assert all(d.free <= d.usable for d in served.days)


def test_what_is_left_after_the_bookings_is_what_serving_them_leaves():
    def stock():
        return [
            CountedDoses(1, TODAY, TODAY + timedelta(days=3), 10),
            CountedDoses(2, TODAY, TODAY + timedelta(days=30), 10),
            CountedDoses(3, TODAY + timedelta(days=2), TODAY + timedelta(days=30), 6),
        ]

    bookings = {
        TODAY + timedelta(days=1): 4,
        TODAY + timedelta(days=2): 9,
        TODAY + timedelta(days=20): 7,
    }
    served = serve(stock(), bookings, TODAY, TODAY, TODAY + timedelta(days=13))
    left = left_after(stock(), bookings)
    assert [(x.carton_id, x.left) for x in left] == [(x.carton_id, x.left) for x in served.stock]
    assert sum(x.left for x in left) == 26 - 20
