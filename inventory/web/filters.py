"""How the staff pages write times and numbers: Europe/Copenhagen, in the page's language
(Danish: 1.234,5 and 21.11.2026 11.00). One filter per kind, so no template formats by hand."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_date_format, get_datetime_format, get_time_format
from flask import Flask, g
from flask_babel import format_date, format_datetime, get_locale

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# the parts of CLDR's short date and time patterns that strftime writes alike
_STRFTIME = {"dd": "%d", "MM": "%m", "y": "%Y", "yyyy": "%Y", "HH": "%H", "mm": "%M"}


def localtime(value: datetime | None, form: str = "short") -> str:
    """A moment in Copenhagen time; form 'short' (date and time) or 'time'."""
    if value is None:
        return "–"
    if form == "time":
        return format_datetime(value, "HH:mm")
    # a page of stock writes hundreds of these: the locale's pattern is read once
    pattern = _strftime_pattern(_locale(), "datetime")
    if pattern is None:
        return format_datetime(value, "short")
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(COPENHAGEN).strftime(pattern)


@cache
def _strftime_pattern(locale: str, what: str) -> str | None:
    """The locale's short date ('date') or date-and-time ('datetime') pattern for strftime,
    or None where it needs Babel."""
    parsed = Locale.parse(locale)
    whole = get_date_format("short", locale=parsed).pattern
    if what == "datetime":
        whole = (
            get_datetime_format("short", locale=parsed)
            .replace("{1}", whole)
            .replace("{0}", get_time_format("short", locale=parsed).pattern)
        )
    if "'" in whole or "%" in whole:  # quoted text: leave it to Babel
        return None
    out = []
    for match in re.finditer(r"([A-Za-z])\1*|[^A-Za-z]+", whole):
        token = match.group(0)
        if token[0].isalpha():
            if token not in _STRFTIME:
                return None
            token = _STRFTIME[token]
        out.append(token)
    return "".join(out)


def localiso(value: datetime) -> str:
    """A moment as Copenhagen date and time for a URL (YYYY-MM-DDTHH:MM)."""
    return value.astimezone(COPENHAGEN).strftime("%Y-%m-%dT%H:%M")


def day(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    pattern = _strftime_pattern(_locale(), "date")
    if pattern is None or isinstance(value, datetime):
        return format_date(value, "short")
    return value.strftime(pattern)


def isodate(value: date | None) -> str:
    """Dates printed on stock (expiry) keep the unambiguous YYYY-MM-DD form."""
    return value.isoformat() if value else "–"


def days(value: float | None) -> str:
    """Days left: tenths when few are left, whole days otherwise."""
    if value is None:
        return "–"
    return number(value, 1 if abs(value) < 3 else 0)


def number(value: float | int | None, digits: int = 0) -> str:
    """Grouped the page's way (1.234,5 or 1,234.5), rounded half to even as Babel does; a
    page of stock writes hundreds, so without Babel's per-call machinery."""
    if value is None:
        return "–"
    exact = Decimal(value) if isinstance(value, int) else Decimal(str(value))
    rounded = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)
    group, decimal, minus = _symbols(_locale())
    text = f"{abs(rounded):,.{digits}f}".translate({44: group, 46: decimal})
    return minus + text if exact.is_signed() else text  # Babel writes -0 too


def _locale() -> str:
    """The page's locale, asked of Flask-Babel once a request."""
    name = g.get("_locale_name")
    if name is None:
        name = g._locale_name = str(get_locale() or "da")
    return name


@cache
def _symbols(locale: str) -> tuple[str, str, str]:
    symbols = Locale.parse(locale).number_symbols["latn"]
    return symbols["group"], symbols["decimal"], symbols["minusSign"]


def init_app(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(day)
    app.add_template_filter(isodate)
    app.add_template_filter(number)
    app.add_template_filter(days)
    app.add_template_filter(localiso)
    app.add_template_global(current_language)


def current_language() -> str:
    """The page's language as HTML names it: 'da' or 'en'."""
    return str(get_locale() or "da").split("_")[0]
