"""Allocation: which doses go where, when, with the least waste.

``plan_optimal`` solves a mixed-integer programme (see ``optimal``); ``plan_fefo`` is the
first-expiry-first-out baseline a pharmacist follows by hand; ``evaluate_plan`` replays any
plan against (realised) demand so that both are scored the same way.
"""

from .fefo import plan_fefo
from .model import (
    STANDBY_GROUP,
    WASTE_EXPIRY_OR_BUD,
    WASTE_OPEN_VIAL,
    Demand,
    FillTheVial,
    OpenRequest,
    Plan,
    PlanOutcome,
    PlanRequest,
    Shipment,
    Site,
    StockUnit,
    Thaw,
    Unmet,
)
from .needs import bud_after_thaw, expected_need, priority_weight
from .optimal import plan_optimal
from .replay import evaluate_plan, execute_days

__all__ = [
    "Demand",
    "FillTheVial",
    "OpenRequest",
    "Plan",
    "PlanOutcome",
    "PlanRequest",
    "Shipment",
    "STANDBY_GROUP",
    "Site",
    "StockUnit",
    "Thaw",
    "Unmet",
    "WASTE_EXPIRY_OR_BUD",
    "WASTE_OPEN_VIAL",
    "bud_after_thaw",
    "evaluate_plan",
    "execute_days",
    "expected_need",
    "plan_fefo",
    "plan_optimal",
    "priority_weight",
]
