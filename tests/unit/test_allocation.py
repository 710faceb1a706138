"""Allocation: doses meet appointments with the least waste, and never break the cold chain.

Every case is small enough to work out by hand; the expected figures are in the comments.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.domain.allocation import (
    STANDBY_GROUP,
    Demand,
    FillTheVial,
    OpenRequest,
    PlanRequest,
    Shipment,
    Site,
    StockUnit,
    Thaw,
    Unmet,
    bud_after_thaw,
    evaluate_plan,
    plan_fefo,
    plan_optimal,
    priority_weight,
)
from inventory.domain.allocation.optimal import never_worse_than_fefo, plan_cost
from inventory.domain.allocation.replay import plan_from_actions

MONDAY = date(2024, 9, 30)
PLANNERS = [plan_optimal, plan_fefo]


def day(n: int) -> date:
    return MONDAY + timedelta(days=n)


def make_thawed(id="T1", product="flu", vials=10, dpv=1, bud=None, expiry=None, **kw):
    return StockUnit(
        id=id,
        product=product,
        lot=f"lot-{id}",
        state="thawed",
        vials=vials,
        doses_per_vial=dpv,
        expiry=expiry or day(365),
        bud=bud,
        **kw,
    )


def make_frozen(id="F1", product="covid", vials=10, dpv=6, window=31, expiry=None, **kw):
    return StockUnit(
        id=id,
        product=product,
        lot=f"lot-{id}",
        state="frozen",
        vials=vials,
        doses_per_vial=dpv,
        expiry=expiry or day(365),
        bud=None,
        thawed_window_days=window,
        **kw,
    )


def make_site(code="S1", capacity=1000, **kw):
    return Site(code=code, capacity_vials=capacity, **kw)


def booking(site="S1", on=0, product="flu", group="65+", booked=1):
    return Demand(site=site, day=day(on), product=product, group=group, booked=booked)


def make_request(stock, sites, demand, days=7, **kw):
    return PlanRequest(
        start=MONDAY,
        days=days,
        pharmacy_stock=tuple(stock),
        sites=tuple(sites),
        demand=tuple(demand),
        **kw,
    )


def shipped(plan, stock_id=None, site=None):
    return sum(
        s.vials
        for s in plan.shipments
        if (stock_id is None or s.stock_id == stock_id) and (site is None or s.site == site)
    )


# --- open vials ---------------------------------------------------------------------------


@pytest.mark.parametrize("planner", PLANNERS)
def test_twenty_bookings_of_a_six_dose_product_open_four_vials_and_waste_four_doses(planner):
    req = make_request(
        [make_thawed(product="covid", dpv=6, vials=10, bud=day(20))],
        [make_site()],
        [booking(product="covid", booked=20)],
    )
    plan = planner(req)
    assert shipped(plan) == 4
    assert plan.waste_doses == {"expiry_or_bud": 0.0, "open_vial": 4.0}
    assert plan.doses_used == 20
    assert plan.fill_the_vial == (FillTheVial("S1", day(0), "covid", 4, 4, 4),)


@pytest.mark.parametrize("planner", PLANNERS)
def test_the_standby_offer_is_the_leftover_in_at_least_half_of_the_likely_turnouts(planner):
    # 20 booked, each comes with 90%: 18 expected, 3 six-dose vials, nothing left. But how
    # many come is uncertain (binomial): 20 -> 4 left (p .12), 19 -> 5 (.27), 18 -> 0 (.29),
    # 17 -> 1 (.19), 16 -> 2 (.09), 15 -> 3 (.03), 14 -> 4, 13 -> 5 (.01). At least 2 are left
    # with p .52, at least 3 with p .43: 2 standby slots.
    at_site = make_thawed(product="covid", dpv=6, vials=10, bud=day(20))
    site = make_site(no_show_rate=0.1, stock=(at_site,))
    plan = planner(make_request([], [site], [booking(product="covid", booked=20)], days=1))
    assert plan.fill_the_vial == (FillTheVial("S1", day(0), "covid", 3, 0, 2),)


@pytest.mark.parametrize("planner", PLANNERS)
def test_bookings_without_a_target_group_are_bookings_not_walk_ins(planner):
    # 8 booked with no group, all come: 2 vials, 4 left, for certain (not a Poisson guess)
    at_site = make_thawed(product="covid", dpv=6, vials=10, bud=day(20))
    site = make_site(stock=(at_site,))
    plan = planner(make_request([], [site], [booking(product="covid", group="", booked=8)], days=1))
    assert plan.fill_the_vial == (FillTheVial("S1", day(0), "covid", 2, 4, 4),)


@pytest.mark.parametrize("planner", PLANNERS)
def test_no_standby_slot_is_offered_from_vials_that_most_turnouts_empty(planner):
    # the same 20 bookings, but the site holds only 3 vials (18 doses): 18 or more come with
    # p .68 and use every dose; a dose is left only if 17 or fewer come (p .32)
    at_site = make_thawed(product="covid", dpv=6, vials=3, bud=day(20))
    site = make_site(no_show_rate=0.1, stock=(at_site,))
    plan = planner(make_request([], [site], [booking(product="covid", booked=20)], days=1))
    assert plan.fill_the_vial == (FillTheVial("S1", day(0), "covid", 3, 0, 0),)


@pytest.mark.parametrize("planner", PLANNERS)
def test_a_vial_opened_for_a_walk_in_who_probably_will_not_come_is_not_offered(planner):
    # 0.3 covid walk-ins expected on a day the site is open for influenza: a vial is opened
    # for one person in the expected need, but nobody comes with p .74, so nothing is offered
    at_site = make_thawed(product="covid", dpv=6, vials=10, bud=day(20))
    site = make_site(
        walk_ins_per_day={"covid": 0.3}, stock=(at_site, make_thawed(id="T2", vials=10))
    )
    plan = planner(make_request([], [site], [booking(product="flu", booked=3)], days=1))
    assert FillTheVial("S1", day(0), "covid", 1, 5, 0) in plan.fill_the_vial


def test_no_shows_and_walk_ins_shape_the_doses_needed():
    # 20 booked, 10% stay away, 1.5 walk in: ceil(18 + 1.5) = 20 doses
    site = make_site(no_show_rate=0.1, walk_ins_per_day={"flu": 1.5})
    req = make_request([make_thawed(vials=30)], [site], [booking(booked=20)], days=1)
    assert shipped(plan_optimal(req)) == 20


# --- beyond-use dates and thawing ----------------------------------------------------------


def test_bud_after_a_thaw_is_the_window_or_the_printed_expiry_whichever_comes_first():
    assert bud_after_thaw(make_frozen(window=31), day(0)) == day(30)
    assert bud_after_thaw(make_frozen(window=31, expiry=day(10)), day(0)) == day(10)


@pytest.mark.parametrize("planner", PLANNERS)
def test_thawed_carton_near_its_bud_goes_to_the_site_that_uses_it_in_time(planner):
    # NEAR is usable until day 1; EARLY books on day 1, LATE on day 4.
    req = make_request(
        [make_thawed("NEAR", vials=5, bud=day(1)), make_thawed("FAR", vials=5, bud=day(60))],
        [make_site("LATE"), make_site("EARLY")],
        [booking("LATE", on=4, booked=5), booking("EARLY", on=1, booked=5)],
    )
    plan = planner(req)
    assert shipped(plan, "NEAR", "EARLY") == 5
    assert shipped(plan, "NEAR", "LATE") == 0
    assert plan.unmet == ()
    assert plan.waste_doses["expiry_or_bud"] == 0


@pytest.mark.parametrize("planner", PLANNERS)
def test_thawed_carton_is_never_sent_to_a_site_that_cannot_use_it_before_its_bud(planner):
    req = make_request(
        [make_thawed("NEAR", vials=5, bud=day(2))],
        [make_site()],
        [booking(on=3, booked=5)],
    )
    plan = planner(req)
    assert plan.shipments == ()
    assert plan.unmet == (Unmet("S1", day(3), "flu", "65+", 5),)


def test_frozen_stock_is_thawed_only_when_needed_so_its_bud_is_not_wasted():
    # a 3-day fridge window; doses wanted on day 5 only: thaw 2 vials on day 5, not before
    req = make_request(
        [make_frozen("F", product="covid", dpv=1, vials=10, window=3)],
        [make_site()],
        [booking(on=5, product="covid", booked=2)],
        days=8,
    )
    plan = plan_optimal(req)
    assert plan.thaws == (Thaw("F", day(5), 2),)
    assert plan.shipments == (Shipment("S1", day(5), "F", 2),)
    assert plan.waste_doses["expiry_or_bud"] == 0


def test_a_thaw_starts_early_enough_for_its_lead_time():
    req = make_request(
        [make_frozen("F", dpv=1, vials=10, thaw_lead_days=2)],
        [make_site()],
        [booking(on=4, product="covid", booked=3)],
    )
    plan = plan_optimal(req)
    assert plan.thaws == (Thaw("F", day(2), 3),)
    assert plan.shipments == (Shipment("S1", day(4), "F", 3),)


@pytest.mark.parametrize("planner", PLANNERS)
def test_thawed_stock_is_never_refrozen(planner):
    req = make_request(
        [make_thawed("T", product="covid", vials=3, bud=day(20)), make_frozen("F", vials=5)],
        [make_site()],
        [booking(on=d, product="covid", booked=6) for d in range(5)],
    )
    plan = planner(req)
    assert {t.stock_id for t in plan.thaws} <= {"F"}
    assert evaluate_plan(req, plan).violations == ()


def test_replay_reports_a_thaw_of_thawed_stock_as_a_violation():
    req = make_request([make_thawed("T")], [make_site()], [booking()])
    plan = plan_fefo(req)
    bad = type(plan)(**{**vars(plan), "thaws": (Thaw("T", day(0), 1),)})
    assert any("not frozen" in v for v in evaluate_plan(req, bad).violations)


# --- stock that is never planned -----------------------------------------------------------


@pytest.mark.parametrize("planner", PLANNERS)
def test_held_expired_and_bud_passed_stock_is_never_planned(planner):
    req = make_request(
        [
            make_thawed("HELD", vials=10, held=True),
            make_thawed("EXPIRED", vials=10, expiry=day(-1)),
            make_thawed("BUD_PASSED", vials=10, bud=day(-1)),
            make_frozen("FROZEN_HELD", product="flu", dpv=1, held=True),
            make_thawed("GOOD", vials=2),
        ],
        [make_site(stock=(make_thawed("SITE_HELD", vials=10, held=True),))],
        [booking(booked=5)],
    )
    plan = planner(req)
    assert {s.stock_id for s in plan.shipments} == {"GOOD"}
    assert plan.thaws == ()
    assert plan.unmet == (Unmet("S1", day(0), "flu", "65+", 3),)


@pytest.mark.parametrize("planner", PLANNERS)
def test_stock_a_site_already_holds_is_used_before_anything_is_sent(planner):
    site = make_site(stock=(make_thawed("HERE", vials=4, bud=day(3)),))
    req = make_request([make_thawed("PHARMACY", vials=10)], [site], [booking(booked=6)])
    plan = planner(req)
    assert shipped(plan) == 2
    assert plan.doses_used == 6


# --- capacity and delivery days ------------------------------------------------------------


@pytest.mark.parametrize("planner", PLANNERS)
def test_a_site_never_holds_more_vials_than_its_fridge_takes(planner):
    # the fridge takes 5; 8 come on day 0 and 3 on day 1: 5 and 3 are sent, 3 go without
    req = make_request(
        [make_thawed(vials=50)],
        [make_site(capacity=5)],
        [booking(on=0, booked=8), booking(on=1, booked=3)],
        days=2,
    )
    plan = planner(req)
    assert [(s.day, s.vials) for s in plan.shipments] == [(day(0), 5), (day(1), 3)]
    assert sum(u.appointments for u in plan.unmet) == 3
    assert evaluate_plan(req, plan).violations == ()


@pytest.mark.parametrize("planner", PLANNERS)
def test_deliveries_happen_only_on_a_sites_delivery_days(planner):
    # delivered on Mondays and Thursdays only: Monday covers Mon-Wed, Thursday the rest
    site = make_site(delivery_days=frozenset({0, 3}))
    req = make_request(
        [make_thawed(vials=100)], [site], [booking(on=d, booked=2) for d in range(7)]
    )
    plan = planner(req)
    assert {s.day.weekday() for s in plan.shipments} <= {0, 3}
    assert shipped(plan) == 14
    assert plan.unmet == ()


# --- scarcity ------------------------------------------------------------------------------


@pytest.mark.parametrize("planner", [plan_optimal])
def test_when_doses_are_short_the_higher_priority_group_is_served_first(planner):
    # 10 doses, 8 booked 85+ and 8 booked 50+: all 85+ served, 2 of the 50+, 6 unmet
    req = make_request(
        [make_thawed(vials=10)],
        [make_site()],
        [booking(group="50+", booked=8), booking(group="85+", booked=8)],
        days=1,
        priority=("nursing_home", "85+", "65+", "50+"),
    )
    plan = planner(req)
    assert plan.unmet == (Unmet("S1", day(0), "flu", "50+", 6),)
    assert plan.doses_used == 10


def test_scarce_doses_go_to_the_site_with_the_higher_priority_group():
    req = make_request(
        [make_thawed(vials=5)],
        [make_site("A"), make_site("B")],
        [booking("A", group="50+", booked=5), booking("B", group="nursing_home", booked=5)],
        days=1,
        priority=("nursing_home", "85+", "65+", "50+"),
    )
    plan = plan_optimal(req)
    assert plan.shipments == (Shipment("B", day(0), "T1", 5),)
    assert plan.unmet == (Unmet("A", day(0), "flu", "50+", 5),)


# --- the baseline and the optimum ----------------------------------------------------------


def test_the_fefo_baseline_wastes_more_than_the_optimal_plan_when_whole_cartons_are_thawed():
    # 10-vial frozen cartons, 3-day fridge window, one vial wanted on day 0 and one on day 5.
    # By hand: a carton is thawed on day 0, one vial sent, nine pass their BUD on day 2
    # (54 doses); the optimum thaws one vial on day 0 and one on day 5 and wastes nothing.
    req = make_request(
        [make_frozen("F1", vials=10, window=3), make_frozen("F2", vials=10, window=3)],
        [make_site()],
        [booking(on=0, product="covid", booked=6), booking(on=5, product="covid", booked=6)],
    )
    optimal, baseline = plan_optimal(req), plan_fefo(req)
    assert evaluate_plan(req, baseline).waste_doses == {"expiry_or_bud": 54, "open_vial": 0}
    assert evaluate_plan(req, optimal).waste_doses == {"expiry_or_bud": 0, "open_vial": 0}
    assert evaluate_plan(req, optimal).doses_used == evaluate_plan(req, baseline).doses_used == 12


def test_the_optimal_plan_falls_back_to_fefo_when_the_solver_runs_out_of_time():
    sites = [make_site(f"S{n:02d}", capacity=40) for n in range(40)]
    stock = [make_frozen(f"F{n}", vials=30, window=4 + n % 5) for n in range(40)]
    demand = [
        booking(s.code, on=d, product="covid", booked=(n * 7 + d * 3) % 11 + 1)
        for n, s in enumerate(sites)
        for d in range(14)
    ]
    req = make_request(stock, sites, demand, days=14, time_limit_s=1e-9)
    plan = plan_optimal(req)
    assert plan.status == "fallback_fefo"
    assert plan.shipments == plan_fefo(req).shipments


def test_evaluation_against_realised_demand_counts_no_shows_as_leftover_and_extras_as_unmet():
    req = make_request([make_thawed(vials=10)], [make_site()], [booking(booked=5)], days=1)
    plan = plan_optimal(req)
    fewer = evaluate_plan(req, plan, realised=[booking(booked=3)])
    more = evaluate_plan(req, plan, realised=[booking(booked=7)])
    assert (fewer.doses_used, fewer.unmet_appointments) == (3, 0)
    assert (more.doses_used, more.unmet_appointments) == (5, 2)


# --- properties over random small cases ----------------------------------------------------

case = st.fixed_dictionaries(
    {
        "cartons": st.lists(
            st.tuples(
                st.sampled_from(["thawed", "frozen"]),
                st.integers(1, 12),
                st.integers(0, 8),
                st.sampled_from([1, 6]),
                st.booleans(),
            ),
            min_size=1,
            max_size=4,
        ),
        "sites": st.lists(
            st.tuples(
                st.integers(3, 30), st.sampled_from([None, frozenset({0, 3}), frozenset({2})])
            ),
            min_size=1,
            max_size=3,
        ),
        "bookings": st.lists(
            st.tuples(
                st.integers(0, 2),
                st.integers(0, 7),
                st.sampled_from(["85+", "50+", ""]),
                st.integers(1, 9),
            ),
            max_size=8,
        ),
    }
)


def _request_from(c) -> PlanRequest:
    stock = []
    for n, (state, vials, life, dpv, held) in enumerate(c["cartons"]):
        if state == "thawed":
            stock.append(
                make_thawed(
                    f"U{n}", product=f"p{dpv}", vials=vials, dpv=dpv, bud=day(life), held=held
                )
            )
        else:
            stock.append(
                make_frozen(
                    f"U{n}", product=f"p{dpv}", vials=vials, dpv=dpv, window=life + 1, held=held
                )
            )
    sites = [
        make_site(f"S{n}", capacity=cap, delivery_days=dd) for n, (cap, dd) in enumerate(c["sites"])
    ]
    demand = [
        booking(f"S{s % len(sites)}", on=d, product="p6" if s % 2 else "p1", group=g, booked=b)
        for s, d, g, b in c["bookings"]
    ]
    return make_request(stock, sites, demand, days=8, priority=("85+", "50+"))


def _cost(req, plan) -> float:
    outcome = evaluate_plan(req, plan)
    unmet = sum(priority_weight(req.priority, u.group) * u.appointments for u in plan.unmet)
    return outcome.total_waste + req.unmet_penalty * unmet


def _small_costs(plan) -> float:
    """Bound on the objective's per-vial tie-breakers (shipping, thawing, FEFO, holding)."""
    return 0.05 * sum(s.vials for s in plan.shipments) + 0.001


# One thawed carton of 6 single doses (BUD Friday), delivered Mondays and Thursdays, fridge of
# 6; 85+ x5 and 50+ x1 on Monday, one of the unknown group on Thursday, 85+ x1 on Friday.
# A dose meant for Friday reaches the site on Monday or Thursday at the latest, and a site
# gives doses to whoever comes while it has any: Monday's 50+ or Thursday's walk-in takes it.
# 6 on Monday leaves Thursday (1) and Friday (3) unmet: 4000. 5 on Monday and 1 on Thursday
# leaves Monday's 50+ (2) and Friday (3) unmet: 5000 (the plan once chosen, its model
# believing the Thursday dose would wait in the fridge for Friday: 3000).
A_DOSE_CANNOT_WAIT_AT_A_SITE = {
    "cartons": [("thawed", 6, 4, 1, False)],
    "sites": [(6, frozenset({0, 3}))],
    "bookings": [
        (0, 0, "85+", 1),
        (0, 0, "85+", 1),
        (0, 0, "85+", 3),
        (0, 0, "50+", 1),
        (0, 3, "", 1),
        (0, 4, "85+", 1),
    ],
}


def test_a_site_serves_whoever_comes_while_it_has_doses_so_no_dose_is_planned_to_wait_there():
    req = _request_from(A_DOSE_CANNOT_WAIT_AT_A_SITE)
    plan = plan_optimal(req)
    assert plan.shipments == (Shipment("S0", day(0), "U0", 6),)
    assert set(plan.unmet) == {
        Unmet("S0", day(3), "p1", "", 1),
        Unmet("S0", day(4), "p1", "85+", 1),
    }
    assert _cost(req, plan) == 4000 <= _cost(req, plan_fefo(req))
    assert _cost(req, plan) <= plan.objective <= _cost(req, plan) + _small_costs(plan)


def test_a_scarce_dose_goes_where_no_less_important_appointment_takes_it_first():
    # one dose. A (delivered Mondays only) books 50+ on Monday and 85+ on Wednesday; B (any
    # day) books 65+ on Tuesday; weights 85+ 4, 65+ 3, 50+ 2. Sent to A on Monday, Monday's
    # 50+ takes it (85+ and 65+ unmet: 7000, what FEFO does); it cannot reach A's 85+ at all,
    # so it goes to B on Tuesday (A's 50+ and 85+ unmet: 6000).
    req = make_request(
        [make_thawed("ONE", vials=1)],
        [make_site("A", delivery_days=frozenset({0})), make_site("B")],
        [
            booking("A", on=0, group="50+"),
            booking("A", on=2, group="85+"),
            booking("B", on=1, group="65+"),
        ],
        priority=("85+", "65+", "50+"),
    )
    plan = plan_optimal(req)
    assert plan.shipments == (Shipment("B", day(1), "ONE", 1),)
    assert set(plan.unmet) == {
        Unmet("A", day(0), "flu", "50+", 1),
        Unmet("A", day(2), "flu", "85+", 1),
    }
    assert plan_fefo(req).shipments == (Shipment("A", day(0), "ONE", 1),)


def test_no_product_keeps_a_dose_waiting_at_a_site_even_once_another_may_not():
    # a fridge of 3 vials holding one of a and one of b, delivered Mondays and Thursdays; one
    # more of each at the pharmacy; a and b each booked by a 65+ on Monday and an 85+ on
    # Tuesday (weights 85+ 4, 65+ 3). One vial more fits on Monday: its product serves both;
    # the other's Monday 65+ takes its one vial, so its Tuesday 85+ goes unmet: 4000. Keeping
    # that vial for the 85+ (3000) is what a site cannot do; a first solution does it with a,
    # and once a may not, the next does it with b, the product that had nobody unmet before.
    req = make_request(
        [make_thawed("A", product="a", vials=1), make_thawed("B", product="b", vials=1)],
        [
            make_site(
                capacity=3,
                delivery_days=frozenset({0, 3}),
                stock=(
                    make_thawed("HA", product="a", vials=1),
                    make_thawed("HB", product="b", vials=1),
                ),
            )
        ],
        [
            booking(on=0, product="a"),
            booking(on=1, product="a", group="85+"),
            booking(on=0, product="b"),
            booking(on=1, product="b", group="85+"),
        ],
        priority=("85+", "65+", "50+"),
    )
    plan = plan_optimal(req)
    assert plan.status == "optimal"
    [sent] = plan.shipments
    assert (sent.site, sent.day, sent.vials) == ("S1", day(0), 1)
    other = "b" if sent.stock_id == "A" else "a"
    assert plan.unmet == (Unmet("S1", day(1), other, "85+", 1),)
    assert _cost(req, plan) == 4000 <= plan.objective <= 4000 + _small_costs(plan)


def test_a_multi_dose_vial_is_opened_by_the_first_who_come_not_kept_for_a_fuller_session():
    # one 6-dose vial, delivered on Mondays only: 1 booked on Monday, 6 on Tuesday. Whoever
    # comes on Monday opens it (5 doses wasted, Tuesday's 6 unmet); keeping it at the
    # pharmacy serves nobody at all. The plan's projected figures are what happens.
    req = make_request(
        [make_thawed(product="covid", dpv=6, vials=1, bud=day(20))],
        [make_site(delivery_days=frozenset({0}))],
        [booking(on=0, product="covid"), booking(on=1, product="covid", booked=6)],
    )
    plan = plan_optimal(req)
    assert plan.shipments == (Shipment("S1", day(0), "T1", 1),)
    assert plan.waste_doses["open_vial"] == 5
    assert plan.unmet == (Unmet("S1", day(1), "covid", "65+", 6),)
    assert _cost(req, plan) == 6005 <= plan.objective <= 6005 + _small_costs(plan)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case)
def test_no_plan_ever_breaks_a_rule_and_the_optimum_never_does_worse_than_fefo(c):
    req = _request_from(c)
    optimal, baseline = plan_optimal(req), plan_fefo(req)
    assert evaluate_plan(req, optimal).violations == ()
    assert evaluate_plan(req, baseline).violations == ()
    assert optimal.status == "optimal"
    assert _cost(req, optimal) <= _cost(req, baseline)
    # what the model counts on is what happens when the plan is carried out
    assert _cost(req, optimal) - 1e-6 <= optimal.objective
    assert optimal.objective <= _cost(req, optimal) + _small_costs(optimal)


# Cases random search found where the solver stopped within its relative gap (1e-4 of an
# objective of tens of thousands, mostly unmet-appointment penalties) but whole doses of waste
# above the optimum, and above FEFO's plan: (case, the optimum's cost, which is FEFO's here).
PROVEN_TO_WITHIN_A_DOSE = [
    (
        {
            "cartons": [
                ("frozen", 9, 2, 6, False),
                ("frozen", 2, 1, 6, False),
                ("thawed", 12, 4, 6, False),
                ("frozen", 8, 2, 6, False),
            ],
            "sites": [(11, frozenset({0, 3}))],
            "bookings": [
                (0, 1, "50+", 8),
                (0, 5, "85+", 5),
                (2, 5, "50+", 9),
                (1, 3, "50+", 8),
                (2, 2, "", 5),
                (0, 3, "50+", 6),
                (0, 2, "50+", 1),
            ],
        },
        68064,
    ),
    (
        {
            "cartons": [
                ("frozen", 7, 6, 1, False),
                ("thawed", 12, 7, 1, False),
                ("thawed", 8, 4, 1, False),
                ("thawed", 5, 1, 1, True),
            ],
            "sites": [(6, frozenset({0, 3}))],
            "bookings": [
                (0, 2, "50+", 7),
                (2, 0, "", 2),
                (0, 1, "85+", 2),
                (0, 2, "", 8),
                (2, 6, "50+", 2),
                (1, 0, "85+", 1),
                (0, 4, "85+", 8),
            ],
        },
        31008,
    ),
    (
        {
            "cartons": [("frozen", 8, 6, 6, False)],
            "sites": [(11, frozenset({2})), (4, None), (13, None)],
            "bookings": [
                (0, 7, "85+", 8),
                (1, 6, "50+", 5),
                (0, 4, "", 8),
                (0, 5, "50+", 3),
                (2, 2, "50+", 6),
                (0, 7, "", 2),
                (2, 1, "85+", 1),
                (0, 3, "50+", 3),
                (2, 5, "50+", 8),
                (0, 7, "50+", 4),
                (2, 6, "85+", 8),
                (1, 6, "", 9),
            ],
        },
        109004,
    ),
]


@pytest.mark.parametrize(("c", "optimum"), PROVEN_TO_WITHIN_A_DOSE)
def test_the_optimum_is_proven_to_within_a_dose_however_large_its_penalties(c, optimum):
    req = _request_from(c)
    plan = plan_optimal(req)
    assert plan.status == "optimal"
    assert _cost(req, plan) == optimum <= _cost(req, plan_fefo(req))
    assert _cost(req, plan) <= plan.objective <= _cost(req, plan) + _small_costs(plan)


def test_a_solution_that_costs_more_than_fefos_is_never_returned():
    # a solution cut short (here: one that ships nothing) loses to FEFO's plan, which is
    # returned instead; one that costs no more is kept
    req = make_request([make_thawed(vials=10)], [make_site()], [booking(booked=5)], days=2)
    started = time.perf_counter()
    fefo = replace(plan_fefo(req), status="fallback_fefo")
    nothing = plan_from_actions(req, "optimal", "time_limit", (), (), 0.0, None)
    plan = never_worse_than_fefo(req, nothing, fefo, started)
    assert plan.status == "fallback_fefo"
    assert plan.shipments == plan_fefo(req).shipments
    assert plan_cost(req, plan) == 0 < plan_cost(req, nothing) == 5000
    best = plan_optimal(req)
    assert never_worse_than_fefo(req, best, fefo, started) is best
    assert never_worse_than_fefo(req, None, fefo, started).status == "fallback_fefo"


def test_a_safety_margin_keeps_extra_doses_in_the_fridge_when_asked_for():
    # 9 expected, z = 1: a margin of sqrt(9) = 3 doses is held on top of the 9
    req = make_request([make_thawed(vials=50)], [make_site()], [booking(booked=9)], days=1)
    assert shipped(plan_optimal(req)) == 9
    assert shipped(plan_optimal(replace(req, safety_z=1.0))) == 12
    assert plan_optimal(replace(req, safety_z=1.0)).unmet == ()


# --- fill the vial: standby citizens -------------------------------------------------------


def test_standby_citizens_fill_opened_vials_and_never_open_one():
    # 20 come for a 6-dose product: 4 vials, 4 doses left; 6 standby citizens take up the
    # offer: 4 get the doses left, 2 go home (not unmet), no fifth vial is opened
    req = make_request(
        [make_thawed(product="covid", dpv=6, vials=10, bud=day(20))],
        [make_site()],
        [booking(product="covid", booked=20)],
        days=1,
    )
    plan = plan_optimal(req)
    offers = {(f.site, f.day, f.product): f.doses_left for f in plan.fill_the_vial}
    assert offers == {("S1", day(0), "covid"): 4}
    realised = [
        booking(product="covid", booked=20),
        booking(product="covid", group=STANDBY_GROUP, booked=6),
    ]
    outcome = evaluate_plan(req, plan, realised)
    assert outcome.doses_used == 24
    assert outcome.standby_doses == 4
    assert outcome.waste_doses == {"expiry_or_bud": 0, "open_vial": 0}
    assert outcome.unmet_appointments == 0
    assert outcome.waste_by_product == {"covid": {"expiry_or_bud": 0, "open_vial": 0}}


def test_standby_citizens_alone_open_no_vial_and_are_no_part_of_the_need():
    req = make_request(
        [make_thawed(product="covid", dpv=6, vials=10, bud=day(20))],
        [make_site()],
        [booking(product="covid", group=STANDBY_GROUP, booked=5)],
        days=1,
    )
    plan = plan_optimal(req)
    assert plan.shipments == ()
    site = make_site(stock=(make_thawed("HERE", product="covid", dpv=6, vials=2, bud=day(5)),))
    outcome = evaluate_plan(
        replace(req, sites=(site,)), plan, [booking(product="covid", group=STANDBY_GROUP, booked=5)]
    )
    assert (outcome.doses_used, outcome.unmet_appointments, outcome.standby_doses) == (0, 0, 0)


# --- the baseline by hand: weekly orders, whole cartons ------------------------------------


def test_the_baseline_sends_a_weekly_order_once_in_whole_cartons_less_what_the_site_holds():
    # delivered Mondays; the site orders 25 doses for Mon-Sun and holds 3 usable vials:
    # 22 short, rounded up to whole cartons of 10: 30 vials on Monday, nothing else
    site = make_site(
        delivery_days=frozenset({0}), stock=(make_thawed("HERE", vials=3, bud=day(30)),)
    )
    req = make_request(
        [make_thawed("P", vials=100)],
        [site],
        [booking(on=d, booked=3) for d in range(6)],
        open_requests=(OpenRequest("S1", "flu", 25, day(0), day(6)),),
        carton_vials={"flu": 10},
    )
    plan = plan_fefo(req)
    assert plan.shipments == (Shipment("S1", day(0), "P", 30),)
    assert evaluate_plan(req, plan).violations == ()


def test_whole_cartons_never_overfill_a_fridge():
    req = make_request(
        [make_thawed("P", vials=100)],
        [make_site(capacity=25)],
        [booking(booked=12)],
        days=1,
        carton_vials={"flu": 10},
    )
    assert plan_fefo(req).shipments == (Shipment("S1", day(0), "P", 20),)
    assert shipped(plan_fefo(replace(req, sites=(make_site(capacity=15),)))) == 15


def test_the_baseline_thaws_a_whole_tray_where_the_optimum_thaws_the_vials_needed():
    # a 195-vial tray, 31 days in the fridge, 12 doses a week on days 0 and 7 (6-dose vials):
    # by hand the tray is thawed whole (on day 0, lead 0) and 193 vials pass their BUD on
    # day 30 outside this 14-day horizon; the optimum thaws 2 vials on day 0 and 2 on day 7
    req = make_request(
        [make_frozen("TRAY", vials=195, window=31)],
        [make_site()],
        [booking(on=0, product="covid", booked=12), booking(on=7, product="covid", booked=12)],
        days=14,
    )
    assert plan_fefo(req).thaws == (Thaw("TRAY", day(0), 195),)
    assert plan_optimal(req).thaws == (Thaw("TRAY", day(0), 2), Thaw("TRAY", day(7), 2))


def test_a_sites_own_order_counts_as_a_need_when_the_plan_is_checked():
    # no bookings yet, but the site ordered for the week: sending is no violation
    req = make_request(
        [make_thawed("P", vials=20, bud=day(10))],
        [make_site()],
        [],
        open_requests=(OpenRequest("S1", "flu", 6, day(0), day(6)),),
    )
    plan = plan_fefo(req)
    assert shipped(plan) == 6
    assert evaluate_plan(req, plan).violations == ()


def test_bookings_still_to_come_are_planned_for_when_the_booking_curve_is_given():
    # 10 known for day 0 (complete), 10 known for day 3 which usually grow by half: 10 + 15
    req = make_request(
        [make_thawed(vials=50)],
        [make_site()],
        [booking(on=0, booked=10), booking(on=3, booked=10)],
        days=4,
    )
    assert shipped(plan_optimal(req)) == 20
    assert shipped(plan_optimal(replace(req, booking_pickup=(1.0, 1.2, 1.4, 1.5)))) == 25
