"""Free appointments promise every dose once, bounded by the unbooked slots of each day."""

from dataclasses import dataclass
from datetime import date, timedelta

from inventory.domain.availability import first_free_day, promise_once, unbooked_slots

DAY0 = date(2026, 11, 23)
DAYS = [DAY0 + timedelta(days=i) for i in range(14)]
LAST = DAYS[-1]


@dataclass
class Doses:
    first: date
    last: date
    left: int


def every_day(slots):
    return {d: slots for d in DAYS}


def total(days) -> int:
    return sum(d.total for d in days)


def test_36_doses_and_100_slots_a_day_promise_36_appointments_not_36_a_day():
    days = promise_once({"flu": [Doses(DAY0, LAST, 36)]}, DAYS, every_day(100))
    assert total(days) == 36
    assert days[0].free == {"flu": 36} and all(d.free == {} for d in days[1:])
    assert first_free_day(days) == DAY0


def test_slots_spread_the_doses_over_the_days_earliest_first():
    days = promise_once({"flu": [Doses(DAY0, LAST, 36)]}, DAYS, every_day(10))
    assert [d.total for d in days[:5]] == [10, 10, 10, 6, 0]


def test_booked_slots_leave_only_the_rest():
    assert unbooked_slots(100, 30) == 70 and unbooked_slots(20, 30) == 0
    assert unbooked_slots(None, 30) is None
    unbooked = {d: unbooked_slots(10, 8) for d in DAYS}
    days = promise_once({"flu": [Doses(DAY0, LAST, 36)]}, DAYS, unbooked)
    assert [d.total for d in days[:3]] == [2, 2, 2] and total(days) == 28


def test_doses_are_not_promised_on_days_after_they_pass_their_bud():
    short_lived = Doses(DAY0, DAY0 + timedelta(days=2), 20)
    days = promise_once({"flu": [short_lived]}, DAYS, every_day(5))
    assert [d.total for d in days[:4]] == [5, 5, 5, 0] and total(days) == 15


def test_doses_that_arrive_later_are_promised_from_their_first_day():
    days = promise_once({"flu": [Doses(DAY0 + timedelta(days=3), LAST, 4)]}, DAYS, every_day(9))
    assert first_free_day(days) == DAY0 + timedelta(days=3) and total(days) == 4


def test_a_day_takes_the_doses_that_run_out_first():
    soon, later = Doses(DAY0, DAY0 + timedelta(days=1), 5), Doses(DAY0, LAST, 5)
    days = promise_once({"flu": [later, soon]}, DAYS, every_day(5))
    # day 0 uses the short-lived doses, so the long-lived ones are still there on day 1
    assert [d.total for d in days[:3]] == [5, 5, 0]


def test_a_closed_day_promises_nothing():
    unbooked = every_day(50)
    unbooked[DAY0] = 0
    days = promise_once({"flu": [Doses(DAY0, LAST, 10)]}, DAYS, unbooked)
    assert days[0].free == {} and days[1].free == {"flu": 10}


def test_products_share_a_sites_slots_the_one_running_out_first_first():
    stock = {
        "covid": [Doses(DAY0, DAY0 + timedelta(days=1), 8)],
        "flu": [Doses(DAY0, LAST, 8)],
    }
    days = promise_once(stock, DAYS, every_day(10))
    assert days[0].free == {"covid": 8, "flu": 2} and days[0].total == 10
    assert days[1].free == {"flu": 6}


def test_unknown_slots_bound_by_the_doses_only():
    days = promise_once({"flu": [Doses(DAY0, LAST, 7)]}, DAYS, {})
    assert days[0].free == {"flu": 7} and total(days) == 7


def test_the_stock_given_is_left_as_it_was():
    doses = Doses(DAY0, LAST, 7)
    promise_once({"flu": [doses]}, DAYS, every_day(3))
    assert doses.left == 7


def test_no_stock_no_free_day():
    days = promise_once({}, DAYS, every_day(100))
    assert total(days) == 0 and first_free_day(days) is None
