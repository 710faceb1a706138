"""Waste against WHO's indicative planning rates.

When no local data exist, WHO plans with these wastage rates by vial size: single-dose 5 %,
2-6 doses 10 %, 10-20 doses 25 % (DOMAIN.md, section 4). A rate is doses wasted (open-vial
waste, expiry, BUD passed, breakage, excursion discards, recalls) over doses used or lost
(administered plus wasted).
"""

from __future__ import annotations

from collections.abc import Iterable

# (fewest doses per vial, most doses per vial, indicative wastage rate)
INDICATIVE_RATES = ((1, 1, 0.05), (2, 6, 0.10), (10, 20, 0.25))


def indicative_rate(doses_per_vial: int) -> float | None:
    """WHO's planning rate for a vial size; None for sizes the table does not name (7-9)."""
    return next((r for lo, hi, r in INDICATIVE_RATES if lo <= doses_per_vial <= hi), None)


def waste_rate(wasted: int, administered: int) -> float | None:
    used = wasted + administered
    return wasted / used if used else None


def expected_rate(mix: Iterable[tuple[int, int]]) -> float | None:
    """The indicative rate of a mix of products: each (doses per vial, doses used or lost)
    weighs its vial size's rate by its share of the doses."""
    total = weighted = 0.0
    for doses_per_vial, doses in mix:
        rate = indicative_rate(doses_per_vial)
        if rate is None or doses <= 0:
            continue
        total += doses
        weighted += rate * doses
    return weighted / total if total else None
