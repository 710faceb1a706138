"""Coordinators' pages: uptake against the goals with a choropleth of municipalities on the
map, and waste and stock figures that link to the lists behind them. Signed in only; a
coordinator sees their own region."""

from __future__ import annotations

import re

import pytest

from inventory.db import unit_of_work
from inventory.services import custody
from inventory.services.access import SYSTEM
from tests.api.test_capacity import stock_at
from tests.conftest import T0
from tests.web.conftest import sign_in, signed_in_client
from tests.web.test_public_map import SHOTS


def give(db, carton: int, doses: int, group: str, wasted: int = 0) -> None:
    with unit_of_work(db) as session:
        custody.administer(session, SYSTEM, T0, carton, doses, group=group)
        if wasted:
            custody.waste(session, SYSTEM, T0, carton, wasted, "broken")


def test_the_pages_need_a_sign_in(client, seeded):
    for path in ("/region/uptake", "/region/waste", "/region/uptake.csv"):
        response = client.get(path)
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_a_coordinator_sees_uptake_of_their_region_with_a_choropleth(client, person, db):
    give(db, stock_at(db, vials=100), 40, "65+")
    name, password = person("coordinator", region="Hovedstaden")
    signed_in_client(client, name, password)
    html = client.get("/region/uptake?lang=en").get_data(as_text=True)
    assert "Uptake against the goals · Hovedstaden" in html
    assert re.search(r'<path class="mun band-[0-3n][a-z]*"', html)  # municipalities in bands
    assert "København" in html and "Danish Agency for Data Supply and Infrastructure" in html
    assert "Roskilde" not in re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    csv = client.get("/region/uptake.csv").get_data(as_text=True)
    assert csv.startswith("area,name,region,week,group,doses,cumulative") and "0101" in csv


def test_waste_and_stock_figures_link_to_their_lists(client, person, db):
    give(db, stock_at(db, vials=100, expires_in=3), 50, "65+", wasted=10)
    name, password = person("coordinator", region="Hovedstaden")
    signed_in_client(client, name, password)
    html = client.get("/region/waste?lang=en&by=site").get_data(as_text=True)
    assert "16.7 %" in html and "5.0 %" in html  # 10 of 60 wasted; WHO: 5 % for one dose
    assert "/region/waste/events?" in html and "/stock?" in html
    events = client.get(
        "/region/waste/events?by=site&value=RH-VC-BELLA&since=2026-11-16&lang=en"
    ).get_data(as_text=True)
    assert "broken" in events and ">10<" in events


@pytest.mark.browser
@pytest.mark.skipif(SHOTS is None, reason="INVENTORY_SHOTS=/dir takes the screenshots")
@pytest.mark.parametrize("language", ["da", "en"])
def test_screenshots(live_server, browser, person, db, language):
    give(db, stock_at(db, vials=100), 40, "65+", wasted=5)
    name, password = person("coordinator", region="Hovedstaden")
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    sign_in(page, live_server, name, password)
    for shot, path in (("uptake", "/region/uptake"), ("waste", "/region/waste")):
        page.goto(f"{live_server}{path}?lang={language}")
        page.screenshot(path=str(SHOTS / f"staff-{shot}-{language}-1280.png"))
    context.close()
