"""A centre manager's morning in a real browser, by keyboard alone: a shipment received by
scanning its cartons' labels, then doses given."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.db.models import Carton, CustodyEvent, Shipment
from tests.api.helpers import CENTRE, PHARMACY, dispatched_shipment, repacked_cartons, thawed_tray
from tests.web.conftest import settled, sign_in

pytestmark = pytest.mark.browser


def _tab_to(page, name: str, most: int = 30) -> None:
    """Press Tab until the button or link called `name` has the focus."""
    settled(page)
    for _ in range(most):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.textContent")
        if focused and focused.strip() == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_receive_by_scanning_then_record_doses_by_keyboard(
    live_server, page, person, client, token, db
):
    pharmacy = token("pharmacist", site=PHARMACY)
    tray = thawed_tray(client, pharmacy, vials=5)
    first, second = (c["id"] for c in repacked_cartons(client, pharmacy, tray["id"], [2, 3]))
    shipment = dispatched_shipment(client, pharmacy, [first, second])["id"]
    name, password = person("centre_manager", site=CENTRE)
    sign_in(page, live_server, name, password)
    expect(page.locator("h1")).to_contain_text("Today at")
    expect(page.locator("main")).to_contain_text(f"Receive shipment {shipment}")

    page.goto(f"{live_server}/deliveries/{shipment}")
    scan = page.get_by_label("Scan a carton label")
    expect(scan).to_be_focused()
    page.keyboard.type(f"{live_server}/cartons/{first}", delay=5)  # what the label's QR holds
    page.keyboard.press("Enter")
    expect(page.locator("#tally")).to_contain_text("Ticked off: 1 of 2")
    expect(page.get_by_label(f"Carton {first}", exact=True)).to_be_checked()
    expect(scan).to_be_focused()
    expect(scan).to_have_value("")
    page.keyboard.type(str(second), delay=5)  # a carton number typed by hand
    page.keyboard.press("Enter")
    expect(page.locator("#tally")).to_contain_text("Ticked off: 2 of 2")
    expect(page.get_by_label("Scan a carton label")).to_be_focused()
    _tab_to(page, "Confirm receipt")
    page.keyboard.press("Enter")
    expect(page.locator("#received")).to_contain_text("Received")

    page.goto(f"{live_server}/doses")
    doses = page.get_by_label("Doses given")
    expect(doses).to_be_focused()
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.locator("#recorded")).to_contain_text("2 doses given from carton")
    expect(page.get_by_label("Doses given")).to_be_focused()  # ready for the next person
    expect(page.locator(".vial-clocks")).to_contain_text(re.compile(r"use by \d\d:\d\d"))
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(page.locator("#recorded")).to_contain_text("1 dose given from carton")

    with db() as session:
        assert session.get(Shipment, shipment).status == "received"
        assert {session.get(Carton, c).status for c in (first, second)} == {"available"}
        given = session.scalars(select(CustodyEvent).where(CustodyEvent.kind == "administer"))
        assert sorted(e.doses for e in given) == [1, 2]
