from datetime import date, datetime

import pytest

from inventory.domain.errors import InvalidInput
from inventory.domain.sites import checked_opening_hours, opening_hours_errors, slots_on
from inventory.domain.stability import LOCAL_TIME

MONDAY = date(2026, 11, 23)
SATURDAY = date(2026, 11, 28)
HOURS = {"mon": [["08:00", "12:00"], ["12:30", "15:30"]], "sat": [["09:00", "13:00"]]}


def test_slots_are_the_open_minutes_times_the_hourly_rate():
    assert slots_on(HOURS, 6, MONDAY) == 7 * 6
    assert slots_on(HOURS, 60, SATURDAY) == 4 * 60


def test_a_weekday_without_hours_is_closed():
    assert slots_on(HOURS, 60, date(2026, 11, 24)) == 0


def test_today_counts_only_the_hours_still_ahead():
    at = datetime(2026, 11, 23, 12, 15, tzinfo=LOCAL_TIME)
    assert slots_on(HOURS, 60, MONDAY, at) == 3 * 60
    assert slots_on(HOURS, 60, date(2026, 11, 30), at) == 7 * 60


def test_a_site_without_rate_or_hours_has_unknown_slots_not_zero():
    assert slots_on(None, 60, MONDAY) is None
    assert slots_on(HOURS, None, MONDAY) is None


@pytest.mark.parametrize(
    "hours, message",
    [
        ({"monday": []}, "monday: not a weekday (mon..sun)"),
        ({"mon": [["16:00", "08:00"]]}, "mon: 16:00-08:00 closes before it opens"),
        ({"mon": [["8:00", "12:00"]]}, "is not an [opens, closes] pair of HH:MM"),
        (
            {"mon": [["08:00", "12:00"], ["11:00", "13:00"]]},
            "mon: 11:00-13:00 overlaps the interval before",
        ),
        ([], "an object with weekdays (mon..sun) as keys"),
    ],
)
def test_invalid_opening_hours_are_refused_with_a_reason(hours, message):
    assert any(message in e for e in opening_hours_errors(hours))
    with pytest.raises(InvalidInput):
        checked_opening_hours(hours)


def test_valid_opening_hours_name_every_weekday():
    hours = checked_opening_hours({"mon": [("08:00", "24:00")]})
    assert hours["mon"] == [["08:00", "24:00"]] and hours["sun"] == []
