"""Honest capacity: free appointments per site, day and product that the stock can really
serve, never promising a dose twice, nor one that is held or past its date."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inventory.db import unit_of_work
from inventory.services import custody
from inventory.services.access import SYSTEM
from tests.api.helpers import (
    CENTRE,
    FLU,
    GREY,
    OTHER_CENTRE,
    PHARMACY,
    create_shipment,
    dispatch,
    get,
    hold,
    ok,
    receive_flu,
)
from tests.conftest import T0

TODAY = T0.date()


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def stock_at(
    db,
    site: str = CENTRE,
    *,
    product: str = FLU,
    vials: int = 20,
    lot: str = "VT1",
    expires_in: int = 200,
    state: str = "thawed",
    thawed_days_ago: float | None = None,
) -> int:
    """Stock received straight into a site's fridge (as the national supplier delivers it)."""
    with unit_of_work(db) as session:
        carton = custody.receive(
            session,
            SYSTEM,
            T0,
            custody.ReceiptInput(
                storage_unit=f"{site}-F1",
                vials=vials,
                state=state,
                product=product,
                lot=lot,
                expiry=TODAY + timedelta(days=expires_in),
                thawed_at=T0 - timedelta(days=thawed_days_ago)
                if thawed_days_ago is not None
                else None,
            ),
        )
        return carton.id


def book(
    client,
    headers,
    on: int,
    count: int,
    *,
    site: str = CENTRE,
    product: str = FLU,
    prefix: str = "R",
):
    rows = [
        {
            "ref": f"{prefix}{site}{on}-{i}",
            "site": site,
            "day": day(on),
            "slot": "10:00",
            "product": product,
        }
        for i in range(count)
    ]
    ok(client.put("/api/v1/appointments", headers=headers, json=rows))


def capacity(client, headers, query: str = f"site={CENTRE}") -> dict:
    return ok(get(client, f"/capacity?{query}", headers))


def lines(result: dict, product: str = FLU, site: str = CENTRE) -> dict[str, dict]:
    return {
        line["day"]: line
        for line in result["days"]
        if line["product"] == product and line["site"] == site
    }


def test_free_capacity_is_the_usable_stock_less_every_booking(client, admin, db):
    stock_at(db, vials=20)
    book(client, admin, 0, 5)
    book(client, admin, 1, 3)
    by_day = lines(capacity(client, admin, f"site={CENTRE}&from={day(0)}&to={day(2)}"))
    assert by_day[day(0)] == {
        "site": CENTRE,
        "day": day(0),
        "product": FLU,
        "usable_doses": 20,
        "booked": 5,
        "free": 12,
        "overbooked": 0,
        "standby_slots": 0,
    }
    # the 3 of tomorrow keep their doses: today cannot promise them again
    assert by_day[day(1)]["usable_doses"] == 15 and by_day[day(1)]["free"] == 12
    assert by_day[day(2)]["free"] == 12


def test_held_stock_is_not_promised_and_its_bookings_show_as_overbooked(client, admin, db):
    carton = stock_at(db, vials=20)
    stock_at(db, vials=4, lot="VT2")
    book(client, admin, 1, 10)
    ok(hold(client, admin, carton))
    by_day = lines(capacity(client, admin))
    assert by_day[day(1)]["usable_doses"] == 4 and by_day[day(1)]["free"] == 0
    assert by_day[day(1)]["overbooked"] == 6
    assert by_day[day(0)]["free"] == 0


def test_stock_in_transit_to_the_site_counts_for_it(client, admin, staff, db):
    carton = receive_flu(client, staff, vials=30)
    shipment = ok(create_shipment(client, staff, [carton["id"]]), 201)
    assert lines(capacity(client, admin)) == {}
    ok(dispatch(client, staff, shipment["id"]))
    assert lines(capacity(client, admin))[day(0)]["free"] == 30


def test_stock_expiring_mid_horizon_is_promised_only_until_its_expiry(client, admin, db):
    stock_at(db, vials=10, expires_in=3)
    stock_at(db, vials=5, lot="VT2", expires_in=300)
    book(client, admin, 5, 8)
    by_day = lines(capacity(client, admin, f"site={CENTRE}&from={day(0)}&to={day(6)}"))
    # the 10 expiring after day 3 cannot serve day 5: only 5 doses can, 3 of the 8 go unserved
    assert [by_day[day(n)]["free"] for n in range(7)] == [10, 10, 10, 10, 0, 0, 0]
    assert by_day[day(5)]["usable_doses"] == 5 and by_day[day(5)]["overbooked"] == 3


def test_thawed_doses_count_until_their_beyond_use_date(client, admin, db):
    # grey cap thawed 66 days ago: its 10-week fridge window ends on day 4, mid-morning
    stock_at(db, product=GREY, vials=2, lot="GK1", thawed_days_ago=66)
    result = capacity(client, admin, f"site={CENTRE}&product={GREY}&from={day(0)}&to={day(5)}")
    by_day = lines(result, GREY)
    assert [by_day[day(n)]["free"] for n in range(6)] == [12, 12, 12, 12, 0, 0]


def test_bookings_take_the_stock_that_runs_out_first(client, admin, db):
    stock_at(db, vials=6, expires_in=2)
    stock_at(db, vials=6, lot="VT2", expires_in=300)
    book(client, admin, 1, 6)
    by_day = lines(capacity(client, admin, f"site={CENTRE}&from={day(0)}&to={day(4)}"))
    assert [by_day[day(n)]["free"] for n in range(5)] == [6, 6, 6, 6, 6]


def test_a_pharmacy_freezer_is_not_vaccination_capacity(client, admin, db):
    with unit_of_work(db) as session:
        custody.receive(
            session,
            SYSTEM,
            T0,
            custody.ReceiptInput(
                storage_unit=f"{PHARMACY}-ULT1",
                vials=3,
                state="ultra_frozen",
                product=GREY,
                lot="GK9",
                expiry=TODAY + timedelta(days=5),
            ),
        )
    assert capacity(client, admin, f"product={GREY}&region=Hovedstaden")["days"] == []


def test_a_region_and_range_tell_how_many_more_invitations_the_supply_backs(client, admin, db):
    stock_at(db, vials=20)
    stock_at(db, OTHER_CENTRE, vials=7, lot="VT2", expires_in=2)
    stock_at(db, OTHER_CENTRE, product=GREY, vials=1, lot="GK1")
    book(client, admin, 1, 5)
    result = capacity(client, admin, f"region=Hovedstaden&from={day(3)}&to={day(9)}")
    totals = result["totals"]
    # Bella: 20 - 5 booked; Øksnehallen's flu expires before the range, its grey cap does not
    assert totals["by_product"][FLU]["invitations"] == 15
    assert totals["by_product"][GREY]["invitations"] == 6
    assert totals["invitations"] == 21 and totals["booked"] == 0
    sites = {s["site"]: s for s in result["sites"]}
    assert sites[CENTRE]["invitations"] == 15 and sites[OTHER_CENTRE]["invitations"] == 6


def test_capacity_never_promises_more_than_the_stock_can_serve(client, admin, db):
    """Book every free slot the answer offers, day after day: no booking ever goes unserved."""
    stock_at(db, vials=7, expires_in=2)
    stock_at(db, vials=5, lot="VT2", expires_in=5)
    stock_at(db, vials=4, lot="VT3", expires_in=300)
    book(client, admin, 3, 2, prefix="A")
    for n in range(7):
        free = lines(capacity(client, admin, f"site={CENTRE}&from={day(0)}&to={day(6)}"))[day(n)][
            "free"
        ]
        if free:
            book(client, admin, n, free, prefix=f"fill{n}-")
    final = lines(capacity(client, admin, f"site={CENTRE}&from={day(0)}&to={day(6)}"))
    assert sum(line["overbooked"] for line in final.values()) == 0
    assert sum(line["booked"] for line in final.values()) == 16
    assert all(line["free"] == 0 for line in final.values())


def test_anyone_sees_only_the_capacity_of_sites_they_see(client, admin, manager, token, db):
    stock_at(db, vials=5)
    stock_at(db, OTHER_CENTRE, vials=5, lot="VT2")
    mine = capacity(client, manager, "region=Hovedstaden")
    assert {line["site"] for line in mine["days"]} == {CENTRE}
    response = get(client, f"/capacity?site={OTHER_CENTRE}", manager)
    assert response.status_code == 422 and response.json["error"]["fields"] == {
        "site": ["unknown site"]
    }
    assert get(client, "/capacity", {}).status_code == 401


@pytest.mark.parametrize(
    "query, field",
    [
        (f"site={CENTRE}&from={day(3)}&to={day(1)}", "to"),
        (f"site={CENTRE}&from={day(-1)}", "from"),
        (f"site={CENTRE}&from=tomorrow", "from"),
        (f"site={CENTRE}&to={day(200)}", "to"),
        ("site=NOWHERE", "site"),
        (f"site={PHARMACY}", "site"),
        ("region=Atlantis", "region"),
        (f"site={CENTRE}&product=aspirin", "product"),
    ],
)
def test_bad_capacity_questions_name_the_field(client, admin, query, field):
    response = get(client, f"/capacity?{query}", admin)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
