"""Coordinators' waste and stock figures: waste rates against WHO's indicative rates, doses
expiring within 7 days, days of cover against bookings; each names the list behind it."""

from __future__ import annotations

from inventory.db import unit_of_work
from inventory.services import custody
from inventory.services.access import SYSTEM
from tests.api.helpers import CENTRE, FLU, GREY, get, ok
from tests.api.test_capacity import stock_at
from tests.api.test_public import book
from tests.conftest import T0


def use(db, carton: int, given: int, wasted: int, reason: str = "broken") -> None:
    with unit_of_work(db) as session:
        custody.administer(session, SYSTEM, T0, carton, given, group="65+")
        custody.waste(session, SYSTEM, T0, carton, wasted, reason)


def test_waste_rate_by_product_stands_against_who_rates_for_the_vial_size(client, admin, db):
    use(db, stock_at(db, vials=100), 90, 10)
    use(db, stock_at(db, product=GREY, vials=10, lot="GK1", thawed_days_ago=1), 40, 2, "open_vial")
    rows = {r["key"]: r for r in ok(get(client, "/dashboards/waste?by=product", admin))["rows"]}
    assert (rows[FLU]["wasted"], rows[FLU]["administered"], rows[FLU]["rate"]) == (10, 90, 0.1)
    assert rows[FLU]["indicative"] == 0.05 and rows[GREY]["indicative"] == 0.1
    assert rows[GREY]["rate"] == round(2 / 42, 4)
    assert rows[FLU]["weeks"][-1]["week"] == "2026-11-16" and rows[FLU]["weeks"][-1]["wasted"] == 10
    assert rows[FLU]["list"]["value"] == FLU


def test_waste_by_reason_and_region(client, admin, db):
    use(db, stock_at(db, vials=100), 80, 15, "broken")
    use(db, stock_at(db, vials=10, lot="VT2"), 0, 5, "expired")
    reasons = {r["key"]: r for r in ok(get(client, "/dashboards/waste?by=reason", admin))["rows"]}
    assert reasons["broken"]["rate"] == 0.15 and reasons["expired"]["rate"] == 0.05
    regions = ok(get(client, "/dashboards/waste?by=region", admin))["rows"]
    assert [(r["key"], r["wasted"], r["administered"]) for r in regions] == [
        ("Hovedstaden", 20, 80)
    ]


def test_doses_expiring_within_7_days_and_days_of_cover(client, admin, db):
    stock_at(db, vials=30, expires_in=3)
    stock_at(db, vials=50, lot="VT-LATE", expires_in=100)
    book(client, admin, [f"R{i}" for i in range(28)], on=2)
    expiring = ok(get(client, "/dashboards/expiring", admin))
    assert expiring["doses"] == 30 and expiring["rows"][0]["site"] == CENTRE
    assert expiring["rows"][0]["list"] == {"site": CENTRE, "product": FLU, "status": "available"}
    cover = {r["site"]: r for r in ok(get(client, "/dashboards/cover", admin))["rows"]}
    assert cover[CENTRE]["doses"] == 80 and cover[CENTRE]["booked_per_day"] == 2.0
    assert cover[CENTRE]["days_of_cover"] == 40.0
    assert cover["RH-VC-OKSNE"]["days_of_cover"] is None


def test_a_coordinator_sees_their_region_and_a_centre_manager_none(client, seeded, token):
    coordinator = token("coordinator", region="Sjaelland")
    assert ok(get(client, "/dashboards/waste", coordinator))["region"] == "Sjaelland"
    assert get(client, "/dashboards/cover?region=Hovedstaden", coordinator).status_code == 422
    assert (
        get(client, "/dashboards/expiring", token("centre_manager", site=CENTRE)).status_code == 403
    )


def test_the_list_behind_a_waste_figure(db, seeded):
    from datetime import date

    from inventory.services import dashboards

    use(db, stock_at(db, vials=100), 80, 15, "broken")
    use(db, stock_at(db, vials=10, lot="VT2"), 0, 5, "expired")
    with unit_of_work(db) as session:
        broken = dashboards.waste_events(
            session, SYSTEM, by="reason", value="broken", since=date(2026, 11, 16)
        )
        at_bella = dashboards.waste_events(
            session, SYSTEM, by="site", value=CENTRE, since=date(2026, 11, 16)
        )
    assert [(e["doses"], e["reason"]) for e in broken] == [(15, "broken")]
    assert sorted(e["doses"] for e in at_bella) == [5, 15]
