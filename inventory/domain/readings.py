"""What a series of readings says over a period: time in range, and min/max per bucket.
Charts of long periods keep each bucket's extremes: an average would hide an excursion."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Bucket:
    start: datetime
    min_c: float
    max_c: float
    count: int


def min_max_buckets(
    points: Iterable[tuple[datetime, float]], origin: datetime, width: timedelta
) -> list[Bucket]:
    """Group (ts, c) points into buckets of `width` counted from `origin`."""
    buckets: dict[int, list[float]] = {}
    for ts, c in points:
        index = int((ts - origin) // width)
        low_high = buckets.get(index)
        if low_high is None:
            buckets[index] = [c, c, 1]
        else:
            low_high[0] = min(low_high[0], c)
            low_high[1] = max(low_high[1], c)
            low_high[2] += 1
    return [
        Bucket(origin + i * width, lo, hi, int(n)) for i, (lo, hi, n) in sorted(buckets.items())
    ]


def merge_buckets(buckets: Sequence[Bucket], origin: datetime, width: timedelta) -> list[Bucket]:
    """Coarser buckets from finer ones, keeping extremes."""
    # running [min, max, count] per bucket: one Bucket made per output, not per input
    merged: dict[int, list] = {}
    for b in buckets:
        index = int((b.start - origin) // width)
        m = merged.get(index)
        if m is None:
            merged[index] = [b.min_c, b.max_c, b.count]
        else:
            m[0], m[1], m[2] = min(m[0], b.min_c), max(m[1], b.max_c), m[2] + b.count
    return [Bucket(origin + i * width, lo, hi, n) for i, (lo, hi, n) in sorted(merged.items())]


@dataclass(frozen=True)
class TimeInRange:
    covered_s: (
        float  # time the readings speak for (gaps longer than max_gap_s count only max_gap_s)
    )
    in_range_s: float
    above_s: float
    below_s: float

    @property
    def percent_in_range(self) -> float | None:
        return None if self.covered_s == 0 else round(100.0 * self.in_range_s / self.covered_s, 3)


def time_in_range(
    points: Sequence[tuple[datetime, float]],
    min_c: float,
    max_c: float,
    start: datetime,
    end: datetime,
    *,
    max_gap_s: float = 3600.0,
) -> TimeInRange:
    """Each reading stands for the time until the next one (sample and hold), within
    [start, end)."""
    covered = inside = above = below = 0.0
    ordered = sorted(points)
    for i, (ts, c) in enumerate(ordered):
        until = (
            ordered[i + 1][0]
            if i + 1 < len(ordered)
            else min(end, ts + timedelta(seconds=max_gap_s))
        )
        span_start, span_end = max(ts, start), min(until, end, ts + timedelta(seconds=max_gap_s))
        seconds = (span_end - span_start).total_seconds()
        if seconds <= 0:
            continue
        covered += seconds
        if c > max_c:
            above += seconds
        elif c < min_c:
            below += seconds
        else:
            inside += seconds
    return TimeInRange(covered, inside, above, below)
