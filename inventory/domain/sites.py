"""What a citizen needs to find a vaccination site: when it is open and how many people it
can see.

Opening hours are kept per weekday as a list of intervals in local time,
``{"mon": [["08:00", "12:00"], ["13:00", "16:00"]], ...}``; a weekday that is missing or has
no interval is closed. A site vaccinates ``slots_per_hour`` people in each open hour, so its
appointment slots on a day are the open minutes of that day times that rate.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from inventory.domain.errors import InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")

OpeningHours = dict[str, list[list[str]]]


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def opening_hours_errors(hours: object) -> list[str]:
    """Why ``hours`` is not a valid opening-hours table (an empty list when it is)."""
    if not isinstance(hours, dict):
        return ["an object with weekdays (mon..sun) as keys"]
    errors = [f"{day}: not a weekday (mon..sun)" for day in hours if day not in WEEKDAYS]
    for day in WEEKDAYS:
        intervals = hours.get(day, [])
        if not isinstance(intervals, list):
            errors.append(f"{day}: a list of [opens, closes] pairs")
            continue
        previous_close = -1
        for interval in intervals:
            if (
                not isinstance(interval, list | tuple)
                or len(interval) != 2
                or not all(isinstance(t, str) and _HHMM.match(t) for t in interval)
            ):
                errors.append(f"{day}: {interval!r} is not an [opens, closes] pair of HH:MM")
                continue
            opens, closes = (_minutes(t) for t in interval)
            if opens >= closes:
                errors.append(f"{day}: {interval[0]}-{interval[1]} closes before it opens")
            elif opens < previous_close:
                errors.append(f"{day}: {interval[0]}-{interval[1]} overlaps the interval before")
            previous_close = max(previous_close, closes)
    return errors


def checked_opening_hours(hours: object) -> OpeningHours:
    """The table in canonical form (every weekday, intervals as lists); raises when invalid."""
    errors = opening_hours_errors(hours)
    if errors:
        raise InvalidInput("invalid opening hours", fields={"opening_hours": errors})
    assert isinstance(hours, dict)
    return {day: [list(i) for i in hours.get(day, [])] for day in WEEKDAYS}


def open_minutes(hours: OpeningHours | None, day: date, after: time | None = None) -> int:
    """Minutes the site is open on ``day`` (local), only those from ``after`` on when given."""
    if not hours:
        return 0
    start = after.hour * 60 + after.minute if after else 0
    total = 0
    for opens, closes in hours.get(WEEKDAYS[day.weekday()], []):
        total += max(0, _minutes(closes) - max(_minutes(opens), start))
    return total


def slots_on(
    hours: OpeningHours | None, slots_per_hour: int | None, day: date, now: datetime | None = None
) -> int | None:
    """Appointment slots of a day: open minutes times the hourly rate. On the day of ``now``
    (local) only the hours still ahead count. None when the site has not said its rate or
    hours (its slots are then unknown, not zero)."""
    if slots_per_hour is None or hours is None:
        return None
    after = now.time() if now is not None and now.date() == day else None
    return open_minutes(hours, day, after) * slots_per_hour // 60


def is_open(hours: OpeningHours | None, day: date) -> bool:
    return open_minutes(hours, day) > 0
