"""A carton's custody rules, on plain objects: status, what may be done, doses and vials."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.domain import custody
from inventory.domain.custody import CartonStatus
from inventory.domain.errors import Conflict
from inventory.domain.stability import StorageProfile

NOON = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
EXPIRY = date(2024, 12, 31)


@dataclass
class HoldStub:
    decision: str | None = None


@dataclass
class CartonStub:
    """The custody facts of a carton, as the stored carton carries them."""

    id: int = 1
    status: str = CartonStatus.AVAILABLE
    state: str = "thawed"
    vials: int = 10
    doses: int = 60
    open_vial_doses: int = 0
    open_vial_opened_at: datetime | None = None
    in_transit: bool = False
    shipment_id: int | None = None
    bud: datetime = NOON + timedelta(days=10)
    holds: list[HoldStub] = field(default_factory=list)


def test_status_is_stored_as_the_same_strings():
    assert CartonStatus.AVAILABLE == "available"
    assert CartonStatus("in_transit") is CartonStatus.IN_TRANSIT
    assert f"{CartonStatus.HELD}" == "held"


# ---------------------------------------------------------------- status


def test_an_empty_carton_is_consumed_whatever_else_holds_it():
    carton = CartonStub(doses=0, holds=[HoldStub()], in_transit=True)
    assert custody.status_after_change(carton, NOON) is CartonStatus.CONSUMED


def test_an_undecided_hold_keeps_a_carton_held_even_in_transit():
    carton = CartonStub(holds=[HoldStub("released"), HoldStub()], in_transit=True)
    assert custody.status_after_change(carton, NOON) is CartonStatus.HELD


def test_decided_holds_no_longer_hold():
    carton = CartonStub(holds=[HoldStub("released")])
    assert custody.status_after_change(carton, NOON) is CartonStatus.AVAILABLE


def test_a_travelling_carton_is_in_transit_even_past_its_bud():
    carton = CartonStub(in_transit=True, bud=NOON)
    assert custody.status_after_change(carton, NOON) is CartonStatus.IN_TRANSIT


def test_a_carton_expires_at_its_bud_not_before():
    carton = CartonStub(bud=NOON)
    assert custody.status_after_change(carton, NOON - timedelta(seconds=1)) == "available"
    assert custody.status_after_change(carton, NOON) is CartonStatus.EXPIRED


def test_the_sweep_expires_only_available_cartons_past_their_bud():
    due = CartonStub(bud=NOON)
    assert custody.expire_if_due(due, NOON) and due.status == "expired"
    held = CartonStub(bud=NOON, status=CartonStatus.HELD)
    assert not custody.expire_if_due(held, NOON) and held.status == "held"
    fresh = CartonStub(bud=NOON + timedelta(hours=1))
    assert not custody.expire_if_due(fresh, NOON) and fresh.status == "available"


def test_days_left_round_down_to_a_tenth():
    carton = CartonStub(bud=NOON + timedelta(days=2, hours=23))
    assert custody.days_left(carton, NOON) == 2.9


# ---------------------------------------------------------------- what may be done


@pytest.mark.parametrize("status", ["consumed", "discarded"])
def test_history_is_never_touched_again(status):
    carton = CartonStub(status=status)
    for check in (custody.require_present, custody.require_movable, custody.require_wastable):
        with pytest.raises(Conflict) as e:
            check(carton)
        assert e.value.code == status


def test_held_stock_does_not_move_and_is_not_wasted_by_a_centre():
    carton = CartonStub(status=CartonStatus.HELD)
    with pytest.raises(Conflict, match="release it first"):
        custody.require_movable(carton)
    with pytest.raises(Conflict, match="a pharmacist releases or discards it"):
        custody.require_wastable(carton)
    custody.require_held(carton)
    custody.require_discardable(carton)


def test_stock_in_transit_or_picked_does_not_move():
    with pytest.raises(Conflict) as e:
        custody.require_movable(CartonStub(in_transit=True))
    assert e.value.code == "in_transit"
    with pytest.raises(Conflict) as e:
        custody.require_movable(CartonStub(shipment_id=7))
    assert e.value.code == "picked"


def test_a_carton_in_transit_is_received_before_it_is_discarded():
    with pytest.raises(Conflict, match="receive it first"):
        custody.require_discardable(CartonStub(in_transit=True))
    with pytest.raises(Conflict) as e:
        custody.require_discardable(CartonStub(shipment_id=3))
    assert e.value.code == "picked"


def test_a_carton_that_is_not_held_cannot_be_released():
    with pytest.raises(Conflict) as e:
        custody.require_held(CartonStub())
    assert e.value.code == "not_held"


def test_stock_is_usable_through_its_expiry_day_and_before_its_bud():
    carton = CartonStub(bud=NOON)
    custody.require_usable(carton, EXPIRY, NOON - timedelta(seconds=1))
    with pytest.raises(Conflict) as e:
        custody.require_usable(carton, EXPIRY, NOON)
    assert e.value.code == "bud_passed"
    with pytest.raises(Conflict) as e:
        custody.require_usable(CartonStub(), date(2024, 2, 29), NOON)
    assert e.value.code == "expired"


def test_frozen_stock_is_thawed_before_it_is_given():
    with pytest.raises(Conflict) as e:
        custody.require_administrable(CartonStub(state="frozen"), EXPIRY, NOON)
    assert e.value.code == "not_thawed"
    custody.require_administrable(CartonStub(state="punctured"), EXPIRY, NOON)


# ---------------------------------------------------------------- doses and vials


def take(carton, doses, at=NOON, *, dpv=6, in_use_hours=6.0, administering=True):
    return custody.take_doses(
        carton,
        doses,
        at,
        doses_per_vial=dpv,
        in_use_hours=in_use_hours,
        for_administering=administering,
    )


def test_a_first_dose_opens_a_vial_and_starts_its_in_use_clock():
    carton = CartonStub()
    assert take(carton, 1) == {"vials_opened": 1}
    assert (carton.doses, carton.vials, carton.open_vial_doses) == (59, 10, 5)
    assert carton.open_vial_opened_at == NOON and carton.state == "punctured"
    assert custody.unopened_vials(carton) == 9
    assert custody.open_vial_bud(carton, 6.0) == NOON + timedelta(hours=6)


def test_doses_come_from_the_open_vial_first():
    carton = CartonStub()
    take(carton, 4)
    assert take(carton, 3, NOON + timedelta(hours=1)) == {"vials_opened": 1}
    # 2 from the open vial (which is then empty), 1 from a new one
    assert (carton.doses, carton.vials, carton.open_vial_doses) == (53, 9, 5)
    assert carton.open_vial_opened_at == NOON + timedelta(hours=1)


def test_whole_vials_taken_leave_no_open_vial():
    carton = CartonStub(state="punctured", open_vial_doses=2, open_vial_opened_at=NOON)
    assert take(carton, 8) == {"vials_opened": 1}
    assert (carton.doses, carton.vials, carton.open_vial_doses) == (52, 8, 0)
    assert carton.open_vial_opened_at is None and carton.state == "thawed"


def test_an_open_vial_past_its_in_use_window_is_wasted_not_given():
    carton = CartonStub()
    take(carton, 1)
    later = NOON + timedelta(hours=6)
    with pytest.raises(Conflict) as e:
        take(carton, 1, later)
    assert e.value.code == "open_vial_expired"
    take(carton, 5, later, administering=False)
    assert carton.open_vial_doses == 0 and carton.doses == 54


def test_the_open_vial_keeps_the_cartons_bud_without_an_in_use_window():
    carton = CartonStub(open_vial_doses=3, open_vial_opened_at=NOON)
    assert custody.open_vial_bud(carton, None) == carton.bud
    assert custody.open_vial_bud(CartonStub(), 6.0) is None


def test_no_more_doses_are_taken_than_the_carton_holds():
    carton = CartonStub(doses=5, vials=1)
    with pytest.raises(Conflict) as e:
        take(carton, 6)
    assert e.value.code == "insufficient_doses"
    assert carton.doses == 5


@given(
    takes=st.lists(st.integers(min_value=1, max_value=13), max_size=12),
    dpv=st.sampled_from([1, 2, 6, 10]),
)
def test_doses_and_vials_stay_consistent(takes, dpv):
    vials = 12
    carton = CartonStub(vials=vials, doses=vials * dpv)
    for n in takes:
        if n <= carton.doses:
            take(carton, n, dpv=dpv, administering=False)
        # a vial holds its doses: the full ones and the open one
        full = carton.vials - (1 if carton.open_vial_doses else 0)
        assert carton.doses == full * dpv + carton.open_vial_doses
        assert 0 <= carton.open_vial_doses < dpv


def test_emptying_a_carton_discards_it():
    carton = CartonStub(open_vial_doses=2)
    assert custody.empty(carton) == 60
    assert (carton.doses, carton.vials, carton.open_vial_doses) == (0, 0, 0)
    assert carton.status is CartonStatus.DISCARDED


# ---------------------------------------------------------------- days of use

DAY = date(2024, 10, 1)


def test_the_last_usable_day_is_the_last_whole_local_day_before_the_bud():
    # 22:00 UTC on 1 October is the midnight that starts 2 October in Copenhagen (summer time)
    assert custody.last_usable_day(datetime(2024, 10, 1, 21, 30, tzinfo=UTC)) == date(2024, 9, 30)
    assert custody.last_usable_day(datetime(2024, 10, 1, 22, 0, tzinfo=UTC)) == date(2024, 10, 1)


def test_the_fridge_window_in_days_is_the_shorter_whole_days():
    spikevax = StorageProfile.from_dict(
        {
            "states": {
                "frozen": {"min_c": -50, "max_c": -15},
                "thawed": {
                    "min_c": 2,
                    "max_c": 8,
                    "max_hours": 30 * 24,
                    "reduced_max_hours": 14 * 24 + 20,
                    "reduced_if_frozen_over_days": 270,
                },
            }
        }
    )
    assert custody.thawed_window_days(spikevax) == 14
    fridge_only = StorageProfile.from_dict({"states": {"thawed": {"min_c": 2, "max_c": 8}}})
    assert custody.thawed_window_days(fridge_only) is None


def test_thaw_lead_time_rounds_up_to_whole_days():
    assert custody.thaw_lead_days(None) == 0
    assert custody.thaw_lead_days(3) == 1
    assert custody.thaw_lead_days(24) == 1
    assert custody.thaw_lead_days(25) == 2


def test_thawed_on_day_d_stock_lasts_its_window_or_its_expiry():
    assert custody.last_day_if_thawed_on(EXPIRY, 31, DAY) == DAY + timedelta(days=30)
    assert custody.last_day_if_thawed_on(DAY + timedelta(days=10), 31, DAY) == DAY + timedelta(
        days=10
    )
    assert custody.last_day_if_thawed_on(EXPIRY, None, DAY) == EXPIRY


def test_frozen_stock_for_a_delivery_thaws_on_the_latest_planned_day_in_time():
    planned = [DAY, DAY + timedelta(days=2), DAY + timedelta(days=5)]
    ship = DAY + timedelta(days=4)
    assert custody.thaw_day_for_delivery(planned, ship, 1, DAY) == DAY + timedelta(days=2)
    # no planned thaw leaves the lead time: just in time
    assert custody.thaw_day_for_delivery([DAY + timedelta(days=4)], ship, 1, DAY) == ship - (
        timedelta(days=1)
    )
    # never in the past
    assert custody.thaw_day_for_delivery([], DAY, 2, DAY) == DAY


BUD_FAR = datetime(2025, 6, 1, 12, tzinfo=UTC)


def test_thawed_stock_is_usable_from_arrival_to_its_bud_or_expiry():
    days = custody.usable_days(
        state="thawed",
        expiry=DAY + timedelta(days=20),
        bud=BUD_FAR,
        arrives=DAY + timedelta(days=2),
        today=DAY,
        window_days=31,
        lead_days=1,
    )
    assert days == custody.UsableDays(DAY + timedelta(days=2), DAY + timedelta(days=20))


def test_frozen_stock_counts_as_if_thawed_as_soon_as_it_can_be():
    days = custody.usable_days(
        state="ultra_frozen",
        expiry=EXPIRY,
        bud=BUD_FAR,
        arrives=DAY,
        today=DAY,
        window_days=10,
        lead_days=1,
    )
    assert days == custody.UsableDays(DAY + timedelta(days=1), DAY + timedelta(days=9))
    planned = custody.usable_days(
        state="frozen",
        expiry=EXPIRY,
        bud=BUD_FAR,
        arrives=DAY + timedelta(days=4),
        today=DAY,
        window_days=10,
        lead_days=1,
        thaw_day=DAY + timedelta(days=3),
    )
    assert planned == custody.UsableDays(DAY + timedelta(days=4), DAY + timedelta(days=12))


def test_stock_with_no_day_left_is_not_counted():
    assert (
        custody.usable_days(
            state="thawed",
            expiry=DAY,
            bud=BUD_FAR,
            arrives=DAY + timedelta(days=1),
            today=DAY,
            window_days=None,
            lead_days=0,
        )
        is None
    )
