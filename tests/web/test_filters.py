"""The staff pages' own formatting of times, dates and whole numbers writes exactly what
Babel writes for the page's language (it only skips Babel's per-call work)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import format_date, format_datetime, format_decimal

from inventory.web import filters

MOMENTS = [
    datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=37 * n + 11) for n in range(0, 30000, 997)
]
# either side of the changes to and from summer time
MOMENTS += [datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)]
MOMENTS += [datetime(2026, 10, 25, 0, 59, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC)]
NUMBERS = [0, 7, -7, 999, 1000, -1234, 1234567, -98765432]
# halves (rounded to even), tenths near zero on both sides, and float noise
FRACTIONS = [0.05, 0.15, 0.25, 2.5, 3.5, -2.5, -0.04, -0.0, 2.675, 1.005, 12345.65, 1e-9, 2.999]


@pytest.mark.parametrize("lang", ["da", "en"])
def test_times_dates_and_numbers_as_babel_writes_them(app, lang):
    with app.test_request_context(f"/?lang={lang}"):
        for moment in MOMENTS:
            assert filters.localtime(moment) == format_datetime(moment, "short")
            day = moment.date()
            assert filters.day(day) == format_date(day, "short")
        for n in NUMBERS:
            assert filters.number(n) == format_decimal(n, format="#,##0")
        for x in FRACTIONS + NUMBERS:
            for digits, pattern in ((0, "#,##0"), (1, "#,##0.0"), (2, "#,##0.00")):
                assert filters.number(x, digits) == format_decimal(x, format=pattern), (x, digits)


def test_danish_and_english_forms(app):
    moment = datetime(2026, 11, 21, 10, 5, tzinfo=UTC)  # 11.05 in Copenhagen
    with app.test_request_context("/?lang=da"):
        assert (filters.localtime(moment), filters.day(date(2026, 11, 21))) == (
            "21.11.2026 11.05",
            "21.11.2026",
        )
        assert filters.number(-1234567) == "-1.234.567"
    with app.test_request_context("/?lang=en"):
        assert filters.localtime(moment) == "21/11/2026, 11:05"
        assert filters.number(1234567) == "1,234,567"
