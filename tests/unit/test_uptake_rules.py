from datetime import date

from inventory.domain.uptake import (
    Goal,
    canonical_group,
    cumulative,
    standing,
    suppressed,
    week_of,
)

SIXTY_FIVE = Goal("65+", ("nursing_home", "85+", "65+"), ("85+", "65-84"), 0.95)


def test_groups_are_the_programmes_words_and_older_names_map_onto_them():
    assert canonical_group("50+") == "50-64"
    assert canonical_group("") == "other" and canonical_group(None) == "other"
    assert canonical_group(" 85+ ") == "85+"
    assert canonical_group("vip") is None


def test_the_65_plus_goal_counts_nursing_homes_85_plus_and_65_84_against_everyone_65_plus():
    s = standing(
        SIXTY_FIVE,
        {"nursing_home": 10, "85+": 20, "65+": 65, "50-64": 99},
        {"85+": 20, "65-84": 80, "50-64": 500},
    )
    assert (s.vaccinated, s.population, s.uptake, s.met, s.missing) == (95, 100, 0.95, True, 0)


def test_what_is_missing_to_reach_a_goal_rounds_up_to_whole_people():
    s = standing(SIXTY_FIVE, {"65+": 1}, {"65-84": 101})
    assert s.missing == 96 - 1 and not s.met


def test_no_population_no_rate():
    s = standing(SIXTY_FIVE, {"65+": 3}, {})
    assert s.uptake is None and not s.met


def test_counts_below_five_are_not_shown():
    assert [suppressed(n) for n in (0, 1, 4, 5, 120)] == [None, None, None, 5, 120]


def test_weeks_start_on_monday_and_add_up():
    assert week_of(date(2026, 11, 21)) == date(2026, 11, 16)
    assert week_of(date(2026, 11, 23)) == date(2026, 11, 23)
    assert cumulative([(date(2026, 11, 23), 5), (date(2026, 11, 16), 2)]) == [
        (date(2026, 11, 16), 2, 2),
        (date(2026, 11, 23), 5, 7),
    ]
