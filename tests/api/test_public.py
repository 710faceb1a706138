"""The public availability page and JSON: no login, free capacity per site and day, no
booking references, cached for a minute."""

from __future__ import annotations

from datetime import timedelta

from inventory.db import unit_of_work
from inventory.services import custody
from inventory.services.access import SYSTEM
from tests.api.helpers import CENTRE, FLU, ok
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
    assert set(site) == {"site", "name", "region", "kind", "days"}


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
