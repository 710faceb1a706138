"""The public map in a real browser (Debian's Chromium): every vaccination site has a marker,
inside Denmark's outline and inside the drawn map; a marker opens its card by keyboard; the
page weighs under 300 KB."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inventory.domain import geo
from inventory.seed_data import network
from tests.api.test_capacity import stock_at

pytestmark = pytest.mark.browser

VACCINATION_SITES = [
    s for s in network() if s["kind"] in ("vaccination_centre", "gp_practice", "mobile_unit")
]
STATIC = Path(__file__).resolve().parents[2] / "inventory" / "web" / "static"
SHOTS = Path(os.environ.get("INVENTORY_SHOTS", "")) if os.environ.get("INVENTORY_SHOTS") else None


def test_every_site_has_a_marker_inside_denmark_and_inside_the_map(
    live_server, page, seeded, db, tmp_path
):
    stock_at(db, vials=60)
    page.goto(f"{live_server}/public/map?lang=da")
    page.screenshot(path=str(tmp_path / "map.png"), full_page=True)
    svg = page.locator("svg.dkmap").bounding_box()
    markers = page.locator("svg.dkmap g.site")
    assert markers.count() == len(VACCINATION_SITES)
    for site in VACCINATION_SITES:
        marker = page.locator(f"#m-{site['code']}")
        lon = float(marker.get_attribute("data-lon"))
        lat = float(marker.get_attribute("data-lat"))
        assert geo.region_at(lon, lat) == site["region"], site["code"]
        box = marker.locator(".shape").bounding_box()
        assert box is not None and box["width"] > 0, site["code"]
        assert svg["x"] <= box["x"] and box["x"] + box["width"] <= svg["x"] + svg["width"]
        assert svg["y"] <= box["y"] and box["y"] + box["height"] <= svg["y"] + svg["height"]
    assert "Danish Agency for Data Supply and Infrastructure" in page.content()


def test_a_marker_opens_its_card_by_keyboard_with_the_booking_link(live_server, page, seeded, db):
    stock_at(db, vials=60)
    page.goto(f"{live_server}/public/map?lang=en")
    marker = page.locator("#m-RH-VC-BELLA")
    marker.focus()
    card = marker.locator(".card")
    assert card.evaluate("e => getComputedStyle(e).visibility") == "visible"
    assert "Center Boulevard 5" in card.text_content()
    assert "60 free in the next 7 days" in card.text_content()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "https://vacciner.dk"
    assert card.evaluate("e => getComputedStyle(e).visibility") == "visible"


def test_the_map_page_weighs_under_300_kb(client, seeded, db):
    stock_at(db, vials=60)
    for path in ("/public/map?lang=da", "/public/map?lang=en"):
        body = client.get(path).get_data()
        styles = sum(
            (STATIC / name).stat().st_size
            for name in ("app.css", "public.css", "map.css", "map.js")
        )
        assert len(body) + styles < 300 * 1024, (path, len(body), styles)


@pytest.mark.skipif(SHOTS is None, reason="INVENTORY_SHOTS=/dir takes the screenshots")
@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("width", [1280, 768])
def test_screenshots(live_server, browser, seeded, db, language, width):
    stock_at(db, vials=60)
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in (
        ("availability", f"/public/availability?lang={language}"),
        ("search", f"/public/availability?lang={language}&q=8000"),
        ("map", f"/public/map?lang={language}"),
    ):
        page.goto(live_server + path)
        page.screenshot(path=str(SHOTS / f"{name}-{language}-{width}.png"))
        page.mouse.wheel(0, 900)
        page.screenshot(path=str(SHOTS / f"{name}-{language}-{width}-below.png"))
    page.goto(f"{live_server}/public/map?lang={language}")
    page.locator("#m-RH-VC-BELLA").focus()
    page.screenshot(path=str(SHOTS / f"map-card-{language}-{width}.png"))
    context.close()
