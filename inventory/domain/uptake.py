"""Uptake against the programme's goals, and what may be shown of it in public.

Every administration is counted under the person's target group and the municipality of the
site that gave it; nothing about the person is kept. The groups are the appointments' groups.
The age groups are disjoint bands (``65+`` in an administration means 65-84, ``85+`` is its
own group), so a goal names the groups it counts and the population bands it is measured
against: the programme's "95 % of everyone 65+" counts nursing-home residents, 85+ and 65-84
against the population 65 and over.

Public figures suppress small counts: a count below ``SUPPRESS_BELOW`` is shown as None (and
so is any rate computed from one), as Statistics Denmark and SSI do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# the appointments' groups, in the priority order the planner serves them by default
TARGET_GROUPS = (
    "nursing_home",
    "85+",
    "65+",
    "50-64",
    "risk",
    "staff",
    "pregnant",
    "child_2_6",
    "other",
)
# names the booking system has used for the same groups
GROUP_ALIASES = {"50+": "50-64", "": "other"}
# population bands Statistics Denmark's tables give per municipality
POPULATION_GROUPS = ("85+", "65-84", "50-64", "2-6")
SUPPRESS_BELOW = 5


def canonical_group(group: str | None) -> str | None:
    """The group in the programme's words, or None when it is not one of them."""
    group = (group or "").strip()
    group = GROUP_ALIASES.get(group, group)
    return group if group in TARGET_GROUPS else None


@dataclass(frozen=True)
class Goal:
    name: str
    groups: tuple[str, ...]  # administrations counted
    population: tuple[str, ...]  # population bands measured against
    target: float  # share, 0..1


def week_of(day: date) -> date:
    """The Monday of the ISO week a day falls in (the week an uptake figure belongs to)."""
    return day - timedelta(days=day.weekday())


def rate(count: int | None, population: int | None) -> float | None:
    if count is None or not population:
        return None
    return count / population


def suppressed(count: int) -> int | None:
    """A count as it may be shown in public."""
    return count if count >= SUPPRESS_BELOW else None


@dataclass(frozen=True)
class GoalStanding:
    goal: Goal
    vaccinated: int
    population: int

    @property
    def uptake(self) -> float | None:
        return rate(self.vaccinated, self.population)

    @property
    def met(self) -> bool:
        return self.uptake is not None and self.uptake >= self.goal.target

    @property
    def missing(self) -> int:
        """People still to vaccinate to reach the goal."""
        return max(0, math.ceil(round(self.goal.target * self.population, 6)) - self.vaccinated)


def standing(goal: Goal, counts: dict[str, int], population: dict[str, int]) -> GoalStanding:
    """How an area stands against a goal, from its counts per group and population per band."""
    return GoalStanding(
        goal,
        sum(counts.get(g, 0) for g in goal.groups),
        sum(population.get(b, 0) for b in goal.population),
    )


def cumulative(weekly: Iterable[tuple[date, int]]) -> list[tuple[date, int, int]]:
    """(week, count that week, count up to and including that week), oldest first."""
    total, out = 0, []
    for week, n in sorted(weekly):
        total += n
        out.append((week, n, total))
    return out
