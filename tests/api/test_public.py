"""The public availability page and JSON: no login, free capacity per site and day, no
booking references, cached for a minute."""

from __future__ import annotations

from datetime import timedelta

from inventory.db import unit_of_work
from inventory.services import custody
from inventory.services.access import SYSTEM
from tests.api.helpers import CENTRE, FLU, GREY, ok
from tests.api.test_capacity import stock_at
from tests.conftest import T0

TODAY = T0.date()


def stock(db, vials: int) -> None:
    with unit_of_work(db) as session:
        custody.receive(
            session,
            SYSTEM,
            T0,
            custody.ReceiptInput(
                storage_unit=f"{CENTRE}-F1",
                vials=vials,
                state="thawed",
                product=FLU,
                lot="VT1",
                expiry=TODAY + timedelta(days=200),
            ),
        )


def book(client, headers, refs: list[str], on: int = 1) -> None:
    rows = [
        {
            "ref": ref,
            "site": CENTRE,
            "day": (TODAY + timedelta(days=on)).isoformat(),
            "slot": "10:00",
            "product": FLU,
            "group": "65+",
        }
        for ref in refs
    ]
    ok(client.put("/api/v1/appointments", headers=headers, json=rows))


def test_the_page_needs_no_token_and_shows_no_references(client, admin, db):
    stock(db, 25)
    book(client, admin, ["SECRET-REF-0001", "SECRET-REF-0002"])
    page = client.get("/public/availability")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Vaccinationscenter Bella Center" in html and "VaxigripTetra" in html
    assert ">23<" in html
    assert "SECRET-REF" not in html and "Authorization" not in page.headers
    assert page.headers["Cache-Control"] == "public, max-age=60"


def test_the_json_gives_free_appointments_per_site_and_day(client, admin, db):
    stock(db, 25)
    book(client, admin, ["SECRET-REF-0001"], on=0)
    response = client.get("/public/availability.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "public, max-age=60"
    data = response.json
    assert len(data["days"]) == 14 and data["from"] == TODAY.isoformat()
    site = next(s for s in data["sites"] if s["site"] == CENTRE)
    assert site["days"][0] == {"day": TODAY.isoformat(), "free": {FLU: 24}, "total": 24}
    assert "SECRET-REF" not in response.get_data(as_text=True)
    assert set(site) >= {"site", "name", "region", "kind", "days"}
    assert site["address"] == "Center Boulevard 5" and site["municipality"] == "København"
    assert site["booking_url"] == "https://vacciner.dk" and site["drop_in"] is True
    assert site["free_total"] == 24 and site["first_free_day"] == TODAY.isoformat()
    assert (site["lat"], site["lon"], site["kind"]) == (55.638, 12.578, "vaccination_centre")
    assert site["opening_hours"]["sat"] == [["09:00", "16:00"]]


def test_the_answer_is_computed_at_most_once_a_minute(client, admin, db):
    stock(db, 25)
    first = client.get("/public/availability.json").json
    book(client, admin, ["R1", "R2", "R3"])
    second = client.get("/public/availability.json").json
    assert second == first


def test_a_region_narrows_the_list(client, admin, db):
    stock(db, 5)
    assert [
        s["site"] for s in client.get("/public/availability.json?region=Hovedstaden").json["sites"]
    ] == [CENTRE]
    assert client.get("/public/availability.json?region=Sjaelland").json["sites"] == []


# ------------------------------------------------------------------ each dose promised once

# 10 hours a day at 10 people an hour: slots for 100 people a day
EVERY_DAY = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
FRIDAYS = {"fri": [["08:00", "18:00"]]}


def slots(client, admin, hours=EVERY_DAY, per_hour: int = 10) -> None:
    ok(
        client.patch(
            f"/api/v1/sites/{CENTRE}",
            headers=admin,
            json={"opening_hours": hours, "slots_per_hour": per_hour},
        )
    )


def promised(client) -> dict:
    site = next(
        s for s in client.get("/public/availability.json").json["sites"] if s["site"] == CENTRE
    )
    return site


def free_of(site, product) -> dict[str, int]:
    return {d["day"]: d["free"][product] for d in site["days"] if d["free"].get(product)}


def test_36_usable_doses_and_100_slots_a_day_promise_at_most_36_over_all_days(client, admin, db):
    slots(client, admin)
    stock_at(db, vials=36)
    site = promised(client)
    assert sum(d["total"] for d in site["days"]) == site["free_total"] == 36
    assert site["first_free_day"] == TODAY.isoformat()
    assert all(d["total"] <= 100 for d in site["days"])


def test_held_stock_and_stock_whose_bud_passes_first_are_not_promised(client, admin, db):
    # the site opens on Fridays only; the grey cap's BUD passes on the Thursday before
    slots(client, admin, FRIDAYS)
    stock_at(db, vials=36)
    held = stock_at(db, vials=20, lot="VT-HELD")
    with unit_of_work(db) as session:
        custody.hold(session, SYSTEM, T0, held, "logger alarm")
    short_lived = stock_at(db, product=GREY, vials=2, lot="GK-BUD", thawed_days_ago=65)
    site = promised(client)
    assert site["free_total"] == 36 and set(free_of(site, FLU)) == {"2026-11-27"}
    assert free_of(site, GREY) == {}
    assert short_lived != held


def test_stock_is_promised_only_on_days_before_its_bud(client, admin, db):
    slots(client, admin, per_hour=1)  # 10 a day, 7 today after 11:00
    stock_at(db, product=GREY, vials=10, lot="GK-BUD", thawed_days_ago=65)  # 60 doses
    site = promised(client)
    by_day = free_of(site, GREY)
    last_usable = max(by_day)
    assert sum(by_day.values()) < 60 and last_usable < (TODAY + timedelta(days=5)).isoformat()


def test_with_30_of_100_slots_booked_36_doses_leave_at_most_6(client, admin, db):
    slots(client, admin)
    stock_at(db, vials=36)
    book(client, admin, [f"R-{i}" for i in range(30)], on=1)
    site = promised(client)
    assert site["free_total"] == 6


def test_booked_slots_close_the_day_even_with_doses_left(client, admin, db):
    slots(client, admin, per_hour=1)  # 7 slots left today, 10 on later days
    stock_at(db, vials=36)
    book(client, admin, [f"R-{i}" for i in range(10)], on=1)
    site = promised(client)
    assert site["days"][0]["total"] == 7 and site["days"][1]["total"] == 0
    assert site["free_total"] == 26


def test_the_capacity_api_keeps_its_per_day_answer_and_gives_the_promised_view(client, admin, db):
    slots(client, admin)
    stock_at(db, vials=36)
    query = f"/api/v1/capacity?site={CENTRE}&product={FLU}"
    per_day = ok(client.get(query, headers=admin))
    assert per_day["view"] == "per_day" and all(d["free"] == 36 for d in per_day["days"])
    promised_view = ok(client.get(query + "&view=promised", headers=admin))
    assert [d["free"] for d in promised_view["days"]] == [36] + [0] * 13
    assert promised_view["sites"] == per_day["sites"]  # invitations count each dose once
    assert client.get(query + "&view=optimistic", headers=admin).status_code == 422
