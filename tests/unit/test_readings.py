from datetime import UTC, datetime, timedelta

from inventory.domain.readings import merge_buckets, min_max_buckets, time_in_range

T = datetime(2026, 11, 21, tzinfo=UTC)
M = timedelta(minutes=1)


def test_a_one_reading_spike_survives_the_roll_up():
    points = [(T + i * M, 5.0) for i in range(120)]
    points[37] = (T + 37 * M, 14.0)
    hours = min_max_buckets(points, T, timedelta(hours=1))
    assert [(b.min_c, b.max_c, b.count) for b in hours] == [(5.0, 14.0, 60), (5.0, 5.0, 60)]
    day = merge_buckets(hours, T, timedelta(days=1))
    assert (day[0].max_c, day[0].count) == (14.0, 120)


def test_time_in_range_holds_each_reading_until_the_next():
    points = [(T, 5.0), (T + 30 * M, 9.0), (T + 45 * M, 1.0), (T + 50 * M, 5.0)]
    result = time_in_range(points, 2.0, 8.0, T, T + 60 * M)
    assert (result.in_range_s, result.above_s, result.below_s) == (40 * 60, 15 * 60, 5 * 60)
    assert result.percent_in_range == round(100 * 40 / 60, 3)


def test_a_silent_gap_is_not_counted_as_in_range():
    points = [(T, 5.0), (T + 10 * 60 * M, 5.0)]
    result = time_in_range(points, 2.0, 8.0, T, T + 11 * 60 * M, max_gap_s=3600)
    assert result.covered_s == 2 * 3600
