"""Excursion engine: rules over hand-made logger traces."""

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.domain.excursions import (
    Direction,
    Evaluator,
    EventKind,
    Excursion,
    Reading,
    Rule,
    RuleKind,
    evaluate,
    rules_for,
)

T0 = datetime(2024, 1, 15, 8, 0, tzinfo=UTC)
MIN = 60.0
HOUR = 3600.0

FRIDGE = (2.0, 8.0)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def trace(*celsius: float, every_min: float = 10, start_min: float = 0) -> list[Reading]:
    """Readings at a fixed interval, the first at ``start_min``."""
    return [Reading(at(start_min + i * every_min), c) for i, c in enumerate(celsius)]


def readings(*points: tuple[float, float]) -> list[Reading]:
    """Readings from (minute, celsius) pairs."""
    return [Reading(at(minute), c) for minute, c in points]


def instant(name: str, direction: Direction, threshold_c: float) -> Rule:
    return Rule(name, RuleKind.INSTANT, direction, threshold_c)


def consecutive(name: str, direction: Direction, threshold_c: float, minutes: float) -> Rule:
    return Rule(name, RuleKind.CONSECUTIVE, direction, threshold_c, duration_s=minutes * MIN)


def cumulative(
    name: str, direction: Direction, threshold_c: float, minutes: float, window_h: float
) -> Rule:
    return Rule(
        name,
        RuleKind.CUMULATIVE,
        direction,
        threshold_c,
        duration_s=minutes * MIN,
        window_s=window_h * HOUR,
    )


def feed_live(evaluator: Evaluator, history: list[Reading]) -> list:
    return [event for reading in history for event in evaluator.feed(reading)]


def kinds(events) -> list[tuple[str, datetime]]:
    return [(str(event.kind), event.at) for event in events]


# --- thresholds and range ---


def test_a_reading_exactly_at_the_threshold_breaches_the_rule():
    heat = instant("heat", Direction.HOT, 8.0)

    [excursion] = evaluate(trace(5.0, 8.0, 5.0), [heat], *FRIDGE)

    assert excursion.fired_rule == heat
    assert excursion.fired_at == at(10)


def test_a_reading_on_the_range_edge_is_in_range_and_adds_no_out_of_range_time():
    heat = consecutive("heat", Direction.HOT, 8.0, minutes=600)

    [excursion] = evaluate(trace(5.0, 8.0, 8.0, 5.0), [heat], *FRIDGE)

    assert excursion.started_at == at(10)
    assert excursion.ended_at == at(30)
    assert excursion.out_of_range_s == 0
    assert excursion.fired_rule is None


def test_a_fridge_held_at_exactly_8_c_for_ten_hours_raises_the_heat_alarm():
    rules = rules_for("fridge", *FRIDGE)
    history = trace(5.0, *[8.0] * 61)  # 8.0 C from minute 10 to minute 610

    [excursion] = evaluate(history, rules, *FRIDGE)

    assert excursion.fired_rule.name == "cumulative heat"
    assert excursion.fired_at == at(70)
    evaluator = Evaluator(rules, *FRIDGE)
    fired = [e for e in feed_live(evaluator, history) if e.kind == "rule_fired"]
    assert [(e.rule.name, e.at) for e in fired] == [
        ("cumulative heat", at(70)),
        ("heat alarm", at(610)),
    ]


def test_without_a_rule_at_the_edge_a_reading_on_it_is_not_an_excursion():
    assert evaluate(trace(5.0, 8.0, 2.0, 5.0), [], *FRIDGE) == []


# --- instant ---


def test_instant_rule_fires_on_the_first_reading_beyond_it():
    rules = rules_for("fridge", *FRIDGE)

    [excursion] = evaluate(trace(5.0, 9.0, 26.0, 27.0, 5.0), rules, *FRIDGE)

    assert excursion.fired_rule.name == "instant heat"
    assert excursion.fired_at == at(20)
    assert excursion.started_at == at(10)


def test_freeze_risk_fires_while_the_reading_is_only_just_below_one_degree():
    rules = rules_for("fridge", *FRIDGE)

    [excursion] = evaluate(trace(5.0, 1.0, 0.5), rules, *FRIDGE)

    assert excursion.direction == Direction.COLD
    assert excursion.fired_rule.name == "instant freeze"
    assert excursion.fired_at == at(20)


# --- consecutive ---


def test_consecutive_rule_fires_when_unbroken_breach_reaches_its_duration():
    cold = consecutive("cold", Direction.COLD, 2.0, minutes=60)

    # 1.5 C from minute 10: sixty minutes of breach are complete at minute 70.
    [excursion] = evaluate(trace(5.0, *[1.5] * 7), [cold], *FRIDGE)

    assert excursion.fired_rule == cold
    assert excursion.fired_at == at(70)


def test_consecutive_rule_resets_when_back_in_range_and_counts_afresh_on_recrossing():
    cold = consecutive("cold", Direction.COLD, 2.0, minutes=60)
    history = trace(*[1.5] * 5, 3.0, *[1.5] * 7)  # 1.5 at 0..40, 3.0 at 50, 1.5 at 60..120

    first, second = evaluate(history, [cold], *FRIDGE)

    assert (first.started_at, first.ended_at, first.fired_rule) == (at(0), at(50), None)
    assert (second.started_at, second.fired_at) == (at(60), at(120))


def test_consecutive_rule_counts_the_span_closed_by_the_reading_back_in_range():
    heat = consecutive("heat", Direction.HOT, 8.0, minutes=60)

    # Held at 9 C from minute 0 to minute 60, when 5 C is read.
    [excursion] = evaluate(trace(*[9.0] * 6, 5.0), [heat], *FRIDGE)

    assert excursion.fired_at == at(60)
    assert excursion.ended_at == at(60)
    assert excursion.out_of_range_s == 60 * MIN


def test_consecutive_rule_is_reset_by_a_reading_short_of_its_own_threshold():
    freeze = consecutive("freeze", Direction.COLD, -0.5, minutes=30)

    # Still cold throughout, but -0.4 is not beyond the freeze threshold.
    [excursion] = evaluate(trace(-1.0, -1.0, -0.4, -1.0, -1.0, -1.0), [freeze], *FRIDGE)

    assert excursion.ended_at is None
    assert excursion.fired_rule is None


# --- cumulative ---


def test_cumulative_rule_adds_up_short_episodes_within_its_window():
    heat = cumulative("heat", Direction.HOT, 8.0, minutes=60, window_h=24)
    history = [
        *trace(9.0, 9.0, 9.0, 5.0),  # 30 min hot
        *trace(9.0, 9.0, 9.0, 9.0, 5.0, start_min=120),  # another 30 min by minute 150
    ]

    first, second = evaluate(history, [heat], *FRIDGE)

    assert first.fired_rule is None
    assert second.fired_rule == heat
    assert second.fired_at == at(150)


def test_cumulative_rule_forgets_breach_time_that_has_left_its_window():
    heat = cumulative("heat", Direction.HOT, 8.0, minutes=60, window_h=24)
    history = [
        *trace(9.0, 9.0, 9.0, 5.0),
        *trace(9.0, 9.0, 9.0, 9.0, 5.0, start_min=25 * 60),
    ]

    excursions = evaluate(history, [heat], *FRIDGE)

    assert [e.fired_rule for e in excursions] == [None, None]


def test_cumulative_rule_fires_once_per_episode_and_again_in_a_later_one():
    heat = cumulative("heat", Direction.HOT, 8.0, minutes=20, window_h=24)
    history = [
        *trace(9.0, 9.0, 9.0, 9.0, 9.0, 5.0),
        *trace(9.0, 9.0, 5.0, start_min=120),
    ]
    evaluator = Evaluator([heat], *FRIDGE)

    fired = [e for e in feed_live(evaluator, history) if e.kind == EventKind.RULE_FIRED]

    # The window already holds over 20 minutes, so the later episode alarms at its start.
    assert [e.at for e in fired] == [at(20), at(120)]


# --- the episode ---


def test_episode_records_its_extremes_and_time_out_of_range():
    [excursion] = evaluate(trace(5.0, 9.0, 12.5, 10.0, 5.0), [], *FRIDGE)

    assert excursion == Excursion(
        direction=Direction.HOT,
        started_at=at(10),
        ended_at=at(40),
        min_c=9.0,
        max_c=12.5,
        out_of_range_s=30 * MIN,
        fired_rule=None,
        fired_at=None,
    )


def test_a_silent_gap_counts_for_no_more_than_the_maximum_gap():
    heat = consecutive("heat", Direction.HOT, 8.0, minutes=120)
    history = readings((0, 9.0), (300, 9.0), (310, 5.0))  # five hours of silence while hot

    [excursion] = evaluate(history, [heat], *FRIDGE, max_gap_s=HOUR)

    assert excursion.out_of_range_s == HOUR + 10 * MIN
    assert excursion.ended_at == at(310)
    assert excursion.fired_rule is None


def test_an_episode_without_a_reading_back_in_range_stays_open():
    evaluator = Evaluator([], *FRIDGE)
    feed_live(evaluator, trace(5.0, 9.0, 10.0))

    [excursion] = evaluator.open_excursions

    assert excursion.open
    assert excursion.ended_at is None
    assert evaluate(trace(5.0, 9.0, 10.0), [], *FRIDGE) == [excursion]


def test_hot_straight_to_cold_ends_one_episode_and_starts_the_other_at_that_reading():
    evaluator = Evaluator(rules_for("fridge", *FRIDGE), *FRIDGE)

    events = feed_live(evaluator, trace(5.0, 9.0, -1.0))

    assert kinds(events) == [
        ("excursion_started", at(10)),
        ("excursion_ended", at(20)),
        ("excursion_started", at(20)),
        ("rule_fired", at(20)),
    ]
    assert events[1].excursion.direction == Direction.HOT
    assert events[2].excursion.direction == Direction.COLD
    assert events[3].rule.name == "instant freeze"


def test_warning_then_alarm_then_end_are_reported_as_events():
    heat = consecutive("heat", Direction.HOT, 8.0, minutes=20)
    evaluator = Evaluator([heat], *FRIDGE)

    events = feed_live(evaluator, trace(5.0, 9.0, 9.0, 9.0, 6.0))

    assert kinds(events) == [
        ("excursion_started", at(10)),
        ("rule_fired", at(30)),
        ("excursion_ended", at(40)),
    ]
    assert events[0].excursion.fired_rule is None
    assert events[1].excursion.fired_rule == heat
    assert events[2].excursion.ended_at == at(40)


# --- arrival order, backlog, persistence ---


def day_of_readings() -> list[Reading]:
    """A fridge day: a door left open, a short warm spell, a cold snap, a dead battery."""
    temps = [5.0] * 20 + [9.5, 12.0, 26.0, 11.0] + [5.0] * 30 + [8.0, 8.5, 9.0] + [4.0] * 40
    temps += [1.8] * 8 + [0.4, -1.0, -1.0] + [3.0] * 10
    quiet_day_later = len(temps) * 5 + 24 * 60
    return trace(*temps, every_min=5) + trace(9.0, 9.0, 9.0, start_min=quiet_day_later)


def test_arrival_order_does_not_change_the_excursions():
    history = day_of_readings()
    shuffled = history + history[::7]  # redelivered duplicates too
    random.Random(4).shuffle(shuffled)
    rules = rules_for("fridge", *FRIDGE)

    assert evaluate(shuffled, rules, *FRIDGE) == evaluate(history, rules, *FRIDGE)
    assert len(evaluate(history, rules, *FRIDGE)) > 3


def test_a_backlog_fed_at_once_gives_the_live_events_in_reading_order():
    history = day_of_readings()
    rules = rules_for("fridge", *FRIDGE)
    live = feed_live(Evaluator(rules, *FRIDGE), history)
    backlog = list(reversed(history))

    batched = Evaluator(rules, *FRIDGE).feed_batch(backlog)

    assert batched == live
    assert [e.at for e in batched] == sorted(e.at for e in batched)


def test_a_reading_not_after_the_last_one_is_refused():
    evaluator = Evaluator([], *FRIDGE)
    evaluator.feed(Reading(at(10), 5.0))

    with pytest.raises(ValueError):
        evaluator.feed(Reading(at(10), 5.0))
    with pytest.raises(ValueError):
        evaluator.feed_batch([Reading(at(20), 5.0), Reading(at(5), 5.0)])
    assert evaluator.last_ts == at(10)


def test_restoring_a_snapshot_mid_trace_continues_exactly_as_uninterrupted():
    history = day_of_readings()
    rules = rules_for("fridge", *FRIDGE)
    uninterrupted = Evaluator(rules, *FRIDGE)
    expected = feed_live(uninterrupted, history)

    for split in (21, 23, 60, 125, len(history) - 2):
        first = Evaluator(rules, *FRIDGE)
        before = feed_live(first, history[:split])
        stored = json.loads(json.dumps(first.snapshot()))
        resumed = Evaluator.restore(rules, *FRIDGE, stored)

        assert resumed.snapshot() == first.snapshot()
        assert before + feed_live(resumed, history[split:]) == expected
        assert resumed.open_excursions == uninterrupted.open_excursions


def test_a_snapshot_taken_under_other_rules_is_refused():
    evaluator = Evaluator(rules_for("fridge", *FRIDGE), *FRIDGE)
    feed_live(evaluator, trace(5.0, 9.0))

    with pytest.raises(ValueError):
        Evaluator.restore(rules_for("fridge", 2.0, 6.0), 2.0, 6.0, evaluator.snapshot())


def test_rules_and_excursions_survive_a_round_trip_through_json():
    rules = rules_for("fridge", *FRIDGE)
    [excursion] = evaluate(trace(5.0, 9.0, 26.0, 5.0), rules, *FRIDGE)

    assert [Rule.from_dict(json.loads(json.dumps(r.to_dict()))) for r in rules] == rules
    assert Excursion.from_dict(json.loads(json.dumps(excursion.to_dict()))) == excursion


# --- properties ---

temperatures = st.integers(min_value=-30, max_value=300).map(lambda tenths: tenths / 10)
traces = st.lists(st.builds(Reading, st.integers(0, 24 * 60).map(at), temperatures), max_size=60)
PROPERTY_RULES = [
    *rules_for("fridge", *FRIDGE),
    cumulative("brief heat", Direction.HOT, 10.0, minutes=20, window_h=1),
]


@given(history=traces, data=st.data())
def test_any_arrival_order_gives_the_same_excursions(history, data):
    permuted = data.draw(st.permutations(history))

    assert evaluate(permuted, PROPERTY_RULES, *FRIDGE, max_gap_s=30 * MIN) == evaluate(
        history, PROPERTY_RULES, *FRIDGE, max_gap_s=30 * MIN
    )


@settings(max_examples=50)
@given(history=traces, data=st.data())
def test_a_snapshot_at_any_point_resumes_to_the_same_events(history, data):
    ordered = sorted({r.ts: r for r in history}.values(), key=lambda r: r.ts)
    split = data.draw(st.integers(0, len(ordered)))
    expected = feed_live(Evaluator(PROPERTY_RULES, *FRIDGE), ordered)

    first = Evaluator(PROPERTY_RULES, *FRIDGE)
    before = feed_live(first, ordered[:split])
    stored = json.loads(json.dumps(first.snapshot()))
    resumed = Evaluator.restore(PROPERTY_RULES, *FRIDGE, stored)

    assert before + feed_live(resumed, ordered[split:]) == expected


# --- default rules ---


def test_rules_for_watches_the_strictest_range_of_the_unit_and_its_products():
    rules = rules_for("fridge", 2.0, 8.0, product_ranges=[(2.0, 8.0), (3.0, 25.0), (1.0, 7.0)])

    thresholds = {rule.name: rule.threshold_c for rule in rules}

    assert thresholds["cold alarm"] == 3.0
    assert thresholds["heat alarm"] == 7.0
    assert thresholds["cumulative heat"] == 7.0
    assert thresholds["instant heat"] == 24.0
    assert thresholds["freeze alarm"] == -0.5


def test_rules_for_keeps_the_units_range_when_products_share_none():
    rules = rules_for("freezer", -25.0, -15.0, product_ranges=[(-25.0, -20.0), (-18.0, -15.0)])

    thresholds = {rule.name: rule.threshold_c for rule in rules}

    assert thresholds == {"instant heat": -5.0, "heat alarm": -15.0, "cold alarm": -25.0}


def test_rules_for_an_ultra_low_freezer_alarm_at_once_above_minus_40():
    rules = {rule.name: rule for rule in rules_for("ultra_low_freezer", -90.0, -60.0)}

    assert rules["instant heat"].threshold_c == -40.0
    assert rules["heat alarm"].duration_s == 30 * MIN
    assert rules["cold alarm"].threshold_c == -90.0


def test_rules_for_an_unknown_unit_kind_is_refused():
    with pytest.raises(ValueError):
        rules_for("larder", 2.0, 8.0)


def test_rules_that_would_make_a_reading_both_hot_and_cold_are_refused():
    with pytest.raises(ValueError):
        Evaluator([instant("hot", Direction.HOT, 5.0), instant("cold", Direction.COLD, 6.0)], 2, 8)


def test_readings_need_an_aware_time():
    with pytest.raises(ValueError):
        Reading(datetime(2024, 1, 15, 8, 0), 5.0)
