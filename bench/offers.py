"""Fill-the-vial offers: how many standby slots to offer, and what each choice costs.

    python bench/offers.py [--seed 1] [--weeks 8] [--region Nordjylland] [--uptake 0.5]

Decision support for the programme, not a test. The rolling optimal plan of ``season.py`` is
run once (safety_z 1); for each vaccination session (site, day, product) it records what the
plan offered, the expected attendance it planned for, and the doses actually left in the vials
opened that day (standby citizens never open a vial, so that number does not depend on the
offers). Each offer rule below is then scored against the same sessions with the same seeded
standby draws as ``season.py``: doses wasted in opened vials, and standby citizens who came
for an offer and found no dose ("sent home"). Offering more always wastes less and sends more
people home; which balance is right is the programme's choice.

Rules (turnout as the plan models it, ``needs.turnout_of``: each booked citizen comes with the
site's show rate, and walk-ins are a Poisson count around the site's expected walk-ins):

- ``doses left (expected)``: the doses left if the expected number of people come (rounded
  up): the plan's ``doses_left``, which the offers were until 2026-11-21;
- ``standby slots (plan)``: the plan's offer, ``standby_slots``: the most doses left in at least
  half of the likely turnouts (the median leftover; a newsvendor rule when a dose wasted and a
  citizen sent home weigh the same);
- ``confident θ``: the same rule at other shares θ of the turnouts, computed here;
- ``doses left, not for walk-ins``: ``doses_left``, none where less than one person is expected;
- ``foresight``: offer exactly what will be left (perfect foresight's offers: the bound).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import season as S  # noqa: E402

from inventory.domain.allocation.needs import expected_attendance, turnout_of  # noqa: E402
from inventory.domain.allocation.replay import likely_left, replay  # noqa: E402


@dataclass(frozen=True, eq=False)
class Session:
    site: str
    day: date
    product: str
    doses_per_vial: int
    people: np.ndarray  # turnouts the plan deems possible ...
    chance: np.ndarray  # ... and the probability of each
    expected_left: int  # the plan's doses left for the expected turnout
    slots: int  # the plan's standby slots
    left: int  # doses actually left in the vials opened

    @property
    def expected(self) -> float:
        return float((self.people * self.chance).sum())


def sessions(season: S.Season, time_limit: float) -> list[Session]:
    dpv = {p.code: p.doses_per_vial for p in S.PRODUCTS}
    found: list[Session] = []

    def observe(req, plan, realised):
        today = req.start
        sites = {s.code: s for s in req.sites}
        expected = {
            (site, product): shares
            for (site, t, product), shares in expected_attendance(req).items()
            if t == 0
        }
        offered = {(f.site, f.product): f for f in plan.fill_the_vial if f.day == today}
        left = {(f.site, f.product): f.doses_left for f in replay(req, plan, realised, 1).fill}
        for site, product in set(expected) | set(offered) | set(left):
            if dpv[product] > 1:
                people, chance = turnout_of(expected.get((site, product), {}), sites[site], product)
                found.append(
                    Session(
                        site,
                        today,
                        product,
                        dpv[product],
                        people,
                        chance,
                        getattr(offered.get((site, product)), "doses_left", 0),
                        getattr(offered.get((site, product)), "standby_slots", 0),
                        left.get((site, product), 0),
                    )
                )

    S.rolling(season, "optimal", time_limit, safety_z=1.0, observe=observe)
    return found


def confident(theta: float):
    """The most doses left in at least ``theta`` of the turnouts, vials being enough for all."""

    def rule(s: Session) -> int:
        left = np.where(s.people > 0, -s.people % s.doses_per_vial, 0)
        return likely_left(left, s.chance, theta)

    return rule


RULES = {
    "doses left (expected)": lambda s: s.expected_left,
    "standby slots (plan)": lambda s: s.slots,
    "confident 0.6": confident(0.6),
    "confident 0.4": confident(0.4),
    "doses left, not walk-ins": lambda s: s.expected_left if s.expected >= 1 else 0,
    "foresight": lambda s: s.left,
}


def score(found: list[Session], seed: int, uptake: float, rule) -> tuple[int, int, int, int]:
    offered = wasted = given = home = 0
    for s in found:
        n = rule(s)
        came = S.standby_arrivals(seed, s.site, s.day, s.product, n, uptake) if n > 0 else 0
        got = min(came, s.left)
        offered += n
        given += got
        wasted += s.left - got
        home += came - got
    return offered, given, wasted, home


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--region", choices=sorted(S.REGIONS), action="append")
    parser.add_argument("--uptake", type=float, default=0.5)
    parser.add_argument("--time-limit", type=float, default=10.0)
    args = parser.parse_args(argv)
    regions = args.region or ["Nordjylland", "Hovedstaden"]
    print(
        f"offers.py seed={args.seed} weeks={args.weeks} uptake={args.uptake:.0%} "
        f"regions={','.join(regions)}"
    )
    found: list[Session] = []
    for region in regions:
        found += sessions(S.generate(region, args.weeks, args.seed), args.time_limit)
    print(
        f"{len(found)} multi-dose sessions, {sum(s.left for s in found)} doses left in opened vials"
    )
    bound = score(found, args.seed, args.uptake, RULES["foresight"])[2]
    print(
        f"  {'rule':<25} {'offered':>8} {'given':>7} {'wasted':>7} {'/foresight':>10} {'sent home':>9}"
    )
    for name, rule in RULES.items():
        offered, given, wasted, home = score(found, args.seed, args.uptake, rule)
        print(
            f"  {name:<25} {offered:>8} {given:>7} {wasted:>7} {wasted / max(bound, 1):>10.3f} {home:>9}"
        )


if __name__ == "__main__":
    main()
