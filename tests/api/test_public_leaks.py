"""What the public side shows, without a login: aggregated figures only. No booking
reference, no stock detail below site and product (no lot, carton, storage unit, expiry or
BUD), and no uptake count below five."""

from __future__ import annotations

import re

from inventory.db import unit_of_work
from inventory.services import custody
from inventory.services.access import SYSTEM
from tests.api.helpers import CENTRE, FLU, ok
from tests.api.test_capacity import stock_at
from tests.api.test_public import book
from tests.conftest import T0

PUBLIC = (
    "/public/availability.json",
    "/public/availability",
    "/public/availability?q=2300&lang=en",
    "/public/map",
    "/public/map?lang=en&vaccine=" + FLU,
    "/public/uptake.json",
)
JSON_SITE_KEYS = {
    "site",
    "name",
    "region",
    "kind",
    "days",
    "address",
    "postcode",
    "town",
    "municipality",
    "municipality_code",
    "lat",
    "lon",
    "opening_hours",
    "drop_in",
    "booking_url",
    "accessibility",
    "free_total",
    "first_free_day",
}


def test_the_public_side_needs_no_login_and_leaks_nothing_below_site_and_product(client, admin, db):
    carton = stock_at(db, vials=40, lot="LOT-SECRET-7")
    with unit_of_work(db) as session:
        for group, doses in (("pregnant", 3), ("staff", 7)):
            custody.administer(session, SYSTEM, T0, carton, doses, group=group)
    book(client, admin, ["BOOKING-REF-SECRET-1", "BOOKING-REF-SECRET-2"], on=1)
    for path in PUBLIC:
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert "BOOKING-REF" not in text, path
        assert "LOT-SECRET" not in text, path
        assert f"{CENTRE}-F1" not in text and "storage_unit" not in text, path
        assert not re.search(r'"(carton|lot|bud|expiry|cartons|lots)"', text), path
        assert "Authorization" not in response.headers
    sites = client.get("/public/availability.json").json["sites"]
    assert all(set(s) == JSON_SITE_KEYS for s in sites)
    assert all(set(d) == {"day", "free", "total"} for s in sites for d in s["days"])
    uptake = client.get("/public/uptake.json").json
    shown = [n for r in uptake["regions"] for n in r["by_group"].values() if n is not None]
    shown += [g["vaccinated"] for r in uptake["regions"] for g in r["goals"] if g["vaccinated"]]
    assert shown and min(shown) >= 5
    hovedstaden = next(r for r in uptake["regions"] if r["region"] == "Hovedstaden")
    assert hovedstaden["by_group"]["pregnant"] is None and hovedstaden["by_group"]["staff"] == 7
    assert ok(client.get("/api/v1/health"))
