"""How the staff pages write times and numbers: Europe/Copenhagen, in the page's language
(Danish: 1.234,5 and 21.11.2026 11.00). One filter per kind, so no template formats by hand."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def localtime(value: datetime | None, form: str = "short") -> str:
    """A moment in Copenhagen time; form 'short' (date and time) or 'time'."""
    if value is None:
        return "–"
    if form == "time":
        return format_datetime(value, "HH:mm")
    return format_datetime(value, "short")


def localiso(value: datetime) -> str:
    """A moment as Copenhagen date and time for a URL (YYYY-MM-DDTHH:MM)."""
    return value.astimezone(COPENHAGEN).strftime("%Y-%m-%dT%H:%M")


def day(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    return format_date(value, "short")


def isodate(value: date | None) -> str:
    """Dates printed on stock (expiry) keep the unambiguous YYYY-MM-DD form."""
    return value.isoformat() if value else "–"


def days(value: float | None) -> str:
    """Days left: tenths when few are left, whole days otherwise."""
    if value is None:
        return "–"
    return number(value, 1 if abs(value) < 3 else 0)


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern)


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
