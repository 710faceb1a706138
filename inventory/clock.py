"""The one place that reads the time. Everything stored is aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

UTC = UTC


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that stands still until told to move: tests and replays."""

    def __init__(self, at: datetime):
        self._at = as_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = as_utc(at)

    def advance(self, **delta) -> datetime:
        self._at += timedelta(**delta)
        return self._at


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: every time in this service carries its zone")
    return value.astimezone(UTC)
