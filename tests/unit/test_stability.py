from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.domain.errors import Conflict, InvalidInput
from inventory.domain.stability import (
    State,
    StateWindow,
    StorageProfile,
    UnitClock,
    add_room_temp_exposure,
    beyond_use_date,
    expiry_end,
    freeze,
    is_usable,
    puncture,
    room_temp_hours_left,
    thaw,
)

# Label figures as the product catalogue holds them.
COMIRNATY_PURPLE = StorageProfile.from_dict(
    {
        "states": {
            "ultra_frozen": {"min_c": -90, "max_c": -60},
            "frozen": {"min_c": -25, "max_c": -15, "max_hours": 14 * 24},
            "thawed": {"min_c": 2, "max_c": 8, "max_hours": 31 * 24},
            "punctured": {"min_c": 2, "max_c": 30},
        },
        "in_use_hours": 6,
        "room_temp_budget_hours": 2,
        "room_temp_max_c": 30,
        "refreeze_allowed": True,
    }
)
COMIRNATY_GREY = StorageProfile.from_dict(
    {
        "states": {
            "ultra_frozen": {"min_c": -90, "max_c": -60},
            "thawed": {"min_c": 2, "max_c": 8, "max_hours": 10 * 7 * 24},
            "punctured": {"min_c": 2, "max_c": 30},
        },
        "in_use_hours": 12,
        "room_temp_budget_hours": 12,
        "room_temp_max_c": 30,
    }
)
SPIKEVAX = StorageProfile.from_dict(
    {
        "states": {
            "frozen": {"min_c": -50, "max_c": -15},
            "thawed": {
                "min_c": 2,
                "max_c": 8,
                "max_hours": 30 * 24,
                "reduced_max_hours": 14 * 24,
                "reduced_if_frozen_over_days": 270,
            },
            "punctured": {"min_c": 2, "max_c": 25},
        },
        "in_use_hours": 6,
        "room_temp_budget_hours": 24,
        "room_temp_max_c": 25,
    }
)
PREVENAR = StorageProfile.from_dict(
    {
        "states": {"thawed": {"min_c": 2, "max_c": 8}},
        "room_temp_budget_hours": 96,
        "room_temp_max_c": 25,
    }
)
PNEUMOVAX = StorageProfile.from_dict({"states": {"thawed": {"min_c": 2, "max_c": 8}}})

NOON = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
FAR_EXPIRY = date(2030, 12, 31)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def ultra_frozen(expiry: date = FAR_EXPIRY, **history) -> UnitClock:
    return UnitClock(state=State.ULTRA_FROZEN, expiry=expiry, **history)


def in_fridge(expiry: date = FAR_EXPIRY) -> UnitClock:
    """A never-frozen product as received: THAWED with no thaw time."""
    return UnitClock(state=State.THAWED, expiry=expiry)


# --- the printed expiry -----------------------------------------------------------------------


def test_expiry_ends_at_danish_midnight_after_the_printed_day():
    # Copenhagen is UTC+1 in winter and UTC+2 in summer.
    assert expiry_end(date(2024, 1, 31)) == datetime(2024, 1, 31, 23, 0, tzinfo=UTC)
    assert expiry_end(date(2024, 7, 31)) == datetime(2024, 7, 31, 22, 0, tzinfo=UTC)


def test_unit_is_usable_through_its_whole_expiry_day_and_not_after():
    clock = in_fridge(expiry=date(2024, 3, 1))

    assert is_usable(PNEUMOVAX, clock, datetime(2024, 3, 1, 22, 59, tzinfo=UTC))
    assert not is_usable(PNEUMOVAX, clock, datetime(2024, 3, 1, 23, 0, tzinfo=UTC))


def test_never_frozen_product_in_the_fridge_is_good_until_printed_expiry():
    assert beyond_use_date(PNEUMOVAX, in_fridge(date(2025, 6, 30))) == expiry_end(date(2025, 6, 30))


def test_printed_expiry_caps_the_fridge_window():
    clock = thaw(COMIRNATY_PURPLE, ultra_frozen(expiry=date(2024, 3, 10)), at=NOON)

    assert beyond_use_date(COMIRNATY_PURPLE, clock) == expiry_end(date(2024, 3, 10))


# --- thawing --------------------------------------------------------------------------------


def test_comirnaty_purple_may_be_used_31_days_after_thaw():
    clock = thaw(COMIRNATY_PURPLE, ultra_frozen(), at=NOON)

    assert clock.state is State.THAWED
    assert beyond_use_date(COMIRNATY_PURPLE, clock) == NOON + days(31)
    assert is_usable(COMIRNATY_PURPLE, clock, NOON + days(31) - hours(1))
    assert not is_usable(COMIRNATY_PURPLE, clock, NOON + days(31))


def test_comirnaty_grey_cap_may_be_used_10_weeks_after_thaw():
    clock = thaw(COMIRNATY_GREY, ultra_frozen(), at=NOON)

    assert beyond_use_date(COMIRNATY_GREY, clock) == NOON + timedelta(weeks=10)


def test_spikevax_keeps_30_days_when_frozen_less_than_the_extension():
    frozen = UnitClock(State.FROZEN, FAR_EXPIRY, manufactured_on=date(2023, 9, 1))

    clock = thaw(SPIKEVAX, frozen, at=NOON)  # about 6 months after manufacture

    assert beyond_use_date(SPIKEVAX, clock) == NOON + days(30)


def test_spikevax_gets_14_days_when_frozen_into_the_extension():
    frozen = UnitClock(State.FROZEN, FAR_EXPIRY, manufactured_on=date(2023, 3, 1))

    clock = thaw(SPIKEVAX, frozen, at=NOON)  # a year after manufacture

    assert beyond_use_date(SPIKEVAX, clock) == NOON + days(14)


def test_spikevax_without_manufacture_date_gets_the_shorter_window():
    clock = thaw(SPIKEVAX, UnitClock(State.FROZEN, FAR_EXPIRY), at=NOON)

    assert beyond_use_date(SPIKEVAX, clock) == NOON + days(14)


def test_thawed_unit_cannot_be_thawed_again():
    clock = thaw(COMIRNATY_PURPLE, ultra_frozen(), at=NOON)

    with pytest.raises(Conflict) as refused:
        thaw(COMIRNATY_PURPLE, clock, at=NOON + hours(1))
    assert refused.value.code == "already_thawed"


def test_frozen_unit_is_not_usable():
    assert not is_usable(COMIRNATY_PURPLE, ultra_frozen(), NOON)


def test_thaw_time_is_required_once_a_fridge_window_applies():
    clock = UnitClock(State.THAWED, FAR_EXPIRY)  # thawed_at never recorded

    with pytest.raises(Conflict) as refused:
        beyond_use_date(COMIRNATY_PURPLE, clock)
    assert refused.value.code == "clock_incomplete"


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        thaw(COMIRNATY_PURPLE, ultra_frozen(), at=datetime(2024, 3, 1, 12, 0))


# --- freezer moves --------------------------------------------------------------------------


def test_comirnaty_purple_may_spend_two_weeks_in_an_ordinary_freezer():
    clock = freeze(COMIRNATY_PURPLE, ultra_frozen(), State.FROZEN, at=NOON)

    assert clock.state is State.FROZEN
    assert beyond_use_date(COMIRNATY_PURPLE, clock) == NOON + days(14)


def test_comirnaty_purple_may_return_to_ultra_frozen_once():
    frozen = freeze(COMIRNATY_PURPLE, ultra_frozen(), State.FROZEN, at=NOON)

    back = freeze(COMIRNATY_PURPLE, frozen, State.ULTRA_FROZEN, at=NOON + days(3))

    assert back.state is State.ULTRA_FROZEN
    assert beyond_use_date(COMIRNATY_PURPLE, back) == expiry_end(FAR_EXPIRY)
    with pytest.raises(Conflict) as refused:
        freeze(COMIRNATY_PURPLE, back, State.FROZEN, at=NOON + days(5))
    assert refused.value.code == "frozen_period_used"


def test_unit_past_its_frozen_window_cannot_be_thawed_into_a_fresh_window():
    frozen = freeze(COMIRNATY_PURPLE, ultra_frozen(), State.FROZEN, at=NOON)

    with pytest.raises(Conflict) as refused:
        thaw(COMIRNATY_PURPLE, frozen, at=NOON + days(15))
    assert refused.value.code == "beyond_use_date_passed"


def test_frozen_unit_of_a_product_without_refreeze_stays_out_of_ultra_low():
    spikevax = UnitClock(State.FROZEN, FAR_EXPIRY)

    with pytest.raises(Conflict) as refused:
        freeze(SPIKEVAX, spikevax, State.ULTRA_FROZEN, at=NOON)
    assert refused.value.code == "state_not_allowed"


def test_grey_cap_may_not_go_into_an_ordinary_freezer():
    with pytest.raises(Conflict) as refused:
        freeze(COMIRNATY_GREY, ultra_frozen(), State.FROZEN, at=NOON)
    assert refused.value.code == "state_not_allowed"


def test_moving_between_freezers_of_the_same_kind_changes_nothing():
    clock = ultra_frozen()

    assert freeze(COMIRNATY_PURPLE, clock, State.ULTRA_FROZEN, at=NOON) == clock


@pytest.mark.parametrize("to", [State.ULTRA_FROZEN, State.FROZEN])
def test_thawed_unit_cannot_be_refrozen(to):
    clock = thaw(COMIRNATY_PURPLE, ultra_frozen(), at=NOON)

    with pytest.raises(Conflict) as refused:
        freeze(COMIRNATY_PURPLE, clock, to, at=NOON + hours(1))
    assert refused.value.code == "thawed_never_refrozen"


def test_punctured_unit_cannot_be_refrozen():
    clock = puncture(COMIRNATY_PURPLE, thaw(COMIRNATY_PURPLE, ultra_frozen(), at=NOON), at=NOON)

    with pytest.raises(Conflict) as refused:
        freeze(COMIRNATY_PURPLE, clock, State.ULTRA_FROZEN, at=NOON + hours(1))
    assert refused.value.code == "thawed_never_refrozen"


# --- first puncture -------------------------------------------------------------------------


def test_first_puncture_leaves_six_hours_for_comirnaty_purple():
    thawed = thaw(COMIRNATY_PURPLE, ultra_frozen(), at=NOON)

    opened = puncture(COMIRNATY_PURPLE, thawed, at=NOON + days(2))

    assert opened.state is State.PUNCTURED
    assert beyond_use_date(COMIRNATY_PURPLE, opened) == NOON + days(2) + hours(6)
    assert is_usable(COMIRNATY_PURPLE, opened, NOON + days(2) + hours(5))


def test_in_use_window_cannot_outlast_the_fridge_window():
    thawed = thaw(COMIRNATY_PURPLE, ultra_frozen(), at=NOON)

    opened = puncture(COMIRNATY_PURPLE, thawed, at=NOON + days(31) - hours(1))

    assert beyond_use_date(COMIRNATY_PURPLE, opened) == NOON + days(31)


def test_single_dose_syringe_is_used_at_the_moment_it_is_opened():
    opened = puncture(PNEUMOVAX, in_fridge(), at=NOON)

    assert beyond_use_date(PNEUMOVAX, opened) == NOON
    assert not is_usable(PNEUMOVAX, opened, NOON + hours(1))


def test_frozen_unit_cannot_be_punctured():
    with pytest.raises(Conflict) as refused:
        puncture(COMIRNATY_PURPLE, ultra_frozen(), at=NOON)
    assert refused.value.code == "not_thawed"


def test_expired_unit_cannot_be_opened():
    with pytest.raises(Conflict) as refused:
        puncture(PNEUMOVAX, in_fridge(expiry=date(2024, 2, 1)), at=NOON)
    assert refused.value.code == "beyond_use_date_passed"


# --- room temperature -----------------------------------------------------------------------


def test_room_temperature_within_the_budget_leaves_the_bud_alone():
    thawed = thaw(COMIRNATY_GREY, ultra_frozen(), at=NOON)

    exposed = add_room_temp_exposure(COMIRNATY_GREY, thawed, 5, at=NOON + hours(8))

    assert exposed.room_temp_hours == 5
    assert room_temp_hours_left(COMIRNATY_GREY, exposed) == 7
    assert beyond_use_date(COMIRNATY_GREY, exposed) == NOON + timedelta(weeks=10)


def test_room_temperature_budget_ends_the_unit_when_used_up():
    thawed = thaw(COMIRNATY_PURPLE, ultra_frozen(), at=NOON)
    exposed = add_room_temp_exposure(COMIRNATY_PURPLE, thawed, 1.5, at=NOON + hours(4))

    # Another hour ending at 18:00: the 2 h budget ran out half an hour into it, at 17:30.
    exhausted = add_room_temp_exposure(COMIRNATY_PURPLE, exposed, 1, at=NOON + hours(6))

    assert exhausted.room_temp_exhausted_at == NOON + hours(5.5)
    assert beyond_use_date(COMIRNATY_PURPLE, exhausted) == NOON + hours(5.5)
    assert room_temp_hours_left(COMIRNATY_PURPLE, exhausted) == 0
    assert not is_usable(COMIRNATY_PURPLE, exhausted, NOON + hours(6))


def test_reaching_the_budget_exactly_uses_it_up():
    exposed = add_room_temp_exposure(PREVENAR, in_fridge(), 96, at=NOON)

    assert beyond_use_date(PREVENAR, exposed) == NOON


def test_later_exposure_does_not_move_the_exhaustion_time():
    thawed = thaw(COMIRNATY_PURPLE, ultra_frozen(), at=NOON)
    exhausted = add_room_temp_exposure(COMIRNATY_PURPLE, thawed, 3, at=NOON + hours(3))

    again = add_room_temp_exposure(COMIRNATY_PURPLE, exhausted, 1, at=NOON + hours(10))

    assert again.room_temp_exhausted_at == NOON + hours(2)
    assert again.room_temp_hours == 4


def test_product_without_room_temperature_data_has_no_budget():
    exposed = add_room_temp_exposure(PNEUMOVAX, in_fridge(), 0.25, at=NOON)

    assert room_temp_hours_left(PNEUMOVAX, in_fridge()) is None
    assert beyond_use_date(PNEUMOVAX, exposed) == NOON - hours(0.25)


def test_prevenar_room_temperature_is_cumulative_over_96_hours():
    clock = in_fridge()
    for day in range(4):
        clock = add_room_temp_exposure(PREVENAR, clock, 20, at=NOON + days(day))

    assert room_temp_hours_left(PREVENAR, clock) == 16
    assert is_usable(PREVENAR, clock, NOON + days(5))


def test_opened_vial_is_governed_by_its_in_use_window_not_the_room_budget():
    opened = puncture(COMIRNATY_PURPLE, thaw(COMIRNATY_PURPLE, ultra_frozen(), at=NOON), at=NOON)

    assert add_room_temp_exposure(COMIRNATY_PURPLE, opened, 4, at=NOON + hours(4)) == opened


def test_frozen_unit_does_not_collect_room_temperature_time():
    with pytest.raises(Conflict) as refused:
        add_room_temp_exposure(COMIRNATY_PURPLE, ultra_frozen(), 1, at=NOON)
    assert refused.value.code == "not_thawed"


def test_negative_exposure_is_refused():
    with pytest.raises(InvalidInput):
        add_room_temp_exposure(PREVENAR, in_fridge(), -1, at=NOON)


# --- the profile's JSON form ----------------------------------------------------------------


@pytest.mark.parametrize(
    "profile", [COMIRNATY_PURPLE, COMIRNATY_GREY, SPIKEVAX, PREVENAR, PNEUMOVAX]
)
def test_profile_survives_a_round_trip_through_its_json_form(profile):
    assert StorageProfile.from_dict(profile.to_dict()) == profile


def test_profile_lists_its_states_and_ranges():
    assert COMIRNATY_GREY.allows(State.THAWED)
    assert not COMIRNATY_GREY.allows(State.FROZEN)
    assert COMIRNATY_PURPLE.range_for(State.FROZEN) == (-25, -15)
    assert SPIKEVAX.window(State.ULTRA_FROZEN) is None


def test_range_of_a_state_the_product_may_not_be_in_is_a_conflict():
    with pytest.raises(Conflict) as refused:
        COMIRNATY_GREY.range_for(State.FROZEN)
    assert refused.value.code == "state_not_allowed"


def test_profiles_can_be_used_as_keys():
    assert {COMIRNATY_PURPLE: 1}[StorageProfile.from_dict(COMIRNATY_PURPLE.to_dict())] == 1


def test_profile_built_in_code_matches_its_json_form():
    built = StorageProfile({State.THAWED: StateWindow(2, 8)})

    assert built == PNEUMOVAX


def profile_problems(data) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as refused:
        StorageProfile.from_dict(data)
    return refused.value.fields


def test_profile_needs_at_least_one_state():
    assert profile_problems({"states": {}}) == {
        "storage_profile.states": ["at least one state is required"]
    }


def test_profile_reports_each_malformed_field_by_its_key():
    problems = profile_problems(
        {
            "states": {"thawed": {"min_c": "2", "max_c": 8}, "melted": {"min_c": 0, "max_c": 1}},
            "in_use_hours": "six",
            "refreeze_allowed": "no",
            "colour": "purple",
        }
    )

    assert problems == {
        "storage_profile.states.thawed.min_c": ["must be a number"],
        "storage_profile.states.melted": [
            "unknown state; known states are ultra_frozen, frozen, thawed, punctured"
        ],
        "storage_profile.in_use_hours": ["must be a number"],
        "storage_profile.refreeze_allowed": ["must be true or false"],
        "storage_profile.colour": ["unknown field"],
    }


def test_profile_range_must_run_from_cold_to_warm():
    problems = profile_problems({"states": {"thawed": {"min_c": 8, "max_c": 2}}})

    assert problems == {"storage_profile.states.thawed.max_c": ["must be above min_c (8)"]}


def test_profile_hours_must_be_positive():
    problems = profile_problems({"states": {"thawed": {"min_c": 2, "max_c": 8, "max_hours": 0}}})

    assert problems == {"storage_profile.states.thawed.max_hours": ["must be more than 0"]}


def test_multi_dose_profile_needs_the_range_of_opened_vials():
    problems = profile_problems({"states": {"thawed": {"min_c": 2, "max_c": 8}}, "in_use_hours": 6})

    assert list(problems) == ["storage_profile.states.punctured"]


def test_refreeze_needs_both_frozen_states():
    problems = profile_problems(
        {"states": {"frozen": {"min_c": -25, "max_c": -15}}, "refreeze_allowed": True}
    )

    assert list(problems) == ["storage_profile.refreeze_allowed"]


def test_room_temperature_budget_needs_its_temperature():
    problems = profile_problems(
        {"states": {"thawed": {"min_c": 2, "max_c": 8}}, "room_temp_budget_hours": 2}
    )

    assert list(problems) == ["storage_profile.room_temp_max_c"]


def test_reduced_fridge_window_must_be_shorter():
    problems = profile_problems(
        {
            "states": {
                "thawed": {
                    "min_c": 2,
                    "max_c": 8,
                    "max_hours": 100,
                    "reduced_max_hours": 200,
                    "reduced_if_frozen_over_days": 270,
                }
            }
        }
    )

    assert problems == {
        "storage_profile.states.thawed.reduced_max_hours": ["must be shorter than max_hours"]
    }


# --- properties -----------------------------------------------------------------------------

moments = st.integers(min_value=0, max_value=400 * 24).map(lambda h: NOON + hours(h))
expiries = st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 12, 31))
steps = st.lists(
    st.one_of(
        st.tuples(st.just("thaw"), moments),
        st.tuples(st.just("freeze"), st.sampled_from([State.FROZEN, State.ULTRA_FROZEN]), moments),
        st.tuples(st.just("puncture"), moments),
        st.tuples(st.just("room"), st.floats(min_value=0, max_value=48), moments),
    ),
    max_size=6,
)


def apply(profile: StorageProfile, clock: UnitClock, step) -> UnitClock:
    kind, *args = step
    try:
        if kind == "thaw":
            return thaw(profile, clock, *args)
        if kind == "freeze":
            return freeze(profile, clock, *args)
        if kind == "puncture":
            return puncture(profile, clock, *args)
        return add_room_temp_exposure(profile, clock, *args)
    except Conflict:
        return clock


@given(
    profile=st.sampled_from([COMIRNATY_PURPLE, COMIRNATY_GREY, SPIKEVAX, PREVENAR]),
    expiry=expiries,
    made=st.none() | st.dates(min_value=date(2022, 1, 1), max_value=date(2024, 1, 1)),
    history=steps,
)
def test_beyond_use_date_is_never_later_than_the_printed_expiry(profile, expiry, made, history):
    start = State.FROZEN if profile is SPIKEVAX else next(iter(profile.windows))
    clock = UnitClock(state=start, expiry=expiry, manufactured_on=made)
    for step in history:
        clock = apply(profile, clock, step)

    assert beyond_use_date(profile, clock) <= expiry_end(expiry)


@given(history=steps)
def test_a_thawed_unit_never_returns_to_a_frozen_state(history):
    clock = ultra_frozen()
    seen_thawed = False
    for step in history:
        clock = apply(COMIRNATY_PURPLE, clock, step)
        seen_thawed = seen_thawed or clock.state in (State.THAWED, State.PUNCTURED)
        assert not (seen_thawed and clock.state in (State.ULTRA_FROZEN, State.FROZEN))
