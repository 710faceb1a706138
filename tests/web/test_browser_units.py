"""A fridge's page in a real browser: the chart is drawn without errors, and an alert is
acknowledged by keyboard alone. Screenshots of the fridge and region pages when asked for
(INVENTORY_SHOTS=/dir)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.db.telemetry import Alert
from tests.api.helpers import CENTRE, PHARMACY
from tests.web.conftest import sign_in
from tests.web.test_public_map import SHOTS
from tests.web.test_units_region import FRIDGE, PERIOD, admin, hot_fridge, region_scenario

pytestmark = pytest.mark.browser
__all__ = ["admin", "hot_fridge", "region_scenario"]  # fixtures


def test_the_chart_is_drawn_and_an_alert_acknowledged_by_keyboard(
    live_server, page, person, hot_fridge, db
):
    errors: list[str] = []

    def console(message):
        url = (message.location or {}).get("url", "")
        # the refused acknowledgement answers 422 on purpose; browsers ask for a favicon
        if message.type == "error" and not url.endswith(("/ack", "/favicon.ico")):
            errors.append(f"{message.text} {url}")

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    name, password = person("centre_manager", site=CENTRE)
    sign_in(page, live_server, name, password)
    page.goto(f"{live_server}/units/{FRIDGE}?{PERIOD}&lang=en")
    expect(page.locator("#chart canvas")).to_have_count(1)
    expect(page.locator("#chart")).to_have_attribute("data-drawn", "raw")
    page.goto(f"{live_server}/units/{FRIDGE}?days=7&lang=en")
    expect(page.locator("#chart")).to_have_attribute("data-drawn", "3600s")
    # keyboard only: Tab to the first comment field, type, Enter submits
    field = page.locator("input[name=comment]").first
    field_id = field.get_attribute("id")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == field_id:
            break
    else:
        pytest.fail("the comment field cannot be reached with Tab")
    page.keyboard.press("Enter")  # without a comment: refused beside the field
    expect(page.locator(f"#{field_id}-error")).to_have_text("Say what was done.")
    expect(page.locator(f"#{field_id}")).to_be_focused()
    page.keyboard.type("door was open, closed it")
    page.keyboard.press("Enter")
    alert_id = int(field_id.split("-")[1])
    expect(page.locator(f"#alert-{alert_id}")).to_contain_text("door was open, closed it")
    with db() as session:
        assert session.scalar(select(Alert.state).where(Alert.id == alert_id)) == "acknowledged"
    assert errors == []


@pytest.mark.skipif(SHOTS is None, reason="INVENTORY_SHOTS=/dir takes the screenshots")
@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("width", [1280, 768])
def test_screenshots(live_server, browser, person, region_scenario, language, width):
    shots = SHOTS
    assert shots is not None
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    name, password = person("coordinator", region="Hovedstaden")
    sign_in(page, live_server, name, password)
    lot = region_scenario["lot"]
    for shot, path in (
        ("units", f"/units?site={CENTRE}"),
        ("unit-raw", f"/units/{FRIDGE}?{PERIOD}"),
        ("unit-week", f"/units/{FRIDGE}?days=7"),
        ("region", "/region"),
        ("lots", "/lots"),
        ("trace", f"/lots/{lot}/trace"),
        ("units-pharmacy", f"/units?site={PHARMACY}"),
    ):
        sep = "&" if "?" in path else "?"
        page.goto(f"{live_server}{path}{sep}lang={language}")
        if shot.startswith("unit-"):
            page.wait_for_selector("#chart[data-drawn]")
        page.screenshot(path=str(shots / f"{shot}-{language}-{width}.png"), full_page=True)
    context.close()
