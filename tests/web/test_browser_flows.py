"""The flows the issue asks for in a real browser, by keyboard where the person would use it: a
shipment received at the centre with one carton rejected, doses wasted with a reason, another
site's pages refused without showing its stock; and the centre manager's and the pharmacist's
days by keyboard alone (Tab, Enter, typing), each control reached showing its focus ring."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.db.models import Carton, CustodyEvent, Shipment
from tests.api.helpers import (
    CENTRE,
    GREY,
    OTHER_CENTRE,
    PHARMACY,
    cartons_at_centre,
    deliver,
    dispatched_shipment,
    gtin_of,
    repacked_cartons,
    thawed_tray,
)
from tests.web.conftest import PASSWORD, settled, sign_in

pytestmark = pytest.mark.browser


def _tab_to(page, element_id: str, most: int = 40) -> None:
    """Press Tab until the element with `element_id` has the focus, as a person would."""
    settled(page)
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def _tab_to_text(page, text: str, key: str = "Tab", most: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the link or button reading `text` has the focus, then
    check that the focus can be seen."""
    settled(page)
    for _ in range(most):
        page.keyboard.press(key)
        focused = page.evaluate("document.activeElement && document.activeElement.textContent")
        if focused and " ".join(focused.split()) == text:
            assert _focus_ring(page).startswith("solid"), f"{text!r} shows no focus"
            return
    raise AssertionError(f"{key} never reached {text!r}")


def _tab_to_element(page, locator, most: int = 40) -> None:
    """Press Tab until the element `locator` finds has the focus, and it shows."""
    settled(page)
    for _ in range(most):
        page.keyboard.press("Tab")
        if locator.evaluate("e => e === document.activeElement"):
            assert _focus_ring(page).startswith("solid"), "no focus ring"
            return
    raise AssertionError(f"Tab never reached {locator}")


def _focus_ring(page) -> str:
    """The outline the focused element is drawn with (the :focus-visible style)."""
    return page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle + ' ' + s.outlineWidth; })()"
    )


def test_receive_at_the_centre_with_one_carton_rejected(
    live_server, page, person, client, token, db
):
    pharmacy = token("pharmacist", site=PHARMACY)
    tray = thawed_tray(client, pharmacy, vials=5, lot="REJ1")
    good, broken = (c["id"] for c in repacked_cartons(client, pharmacy, tray["id"], [2, 3]))
    shipment = dispatched_shipment(client, pharmacy, [good, broken])["id"]
    name, password = person("centre_manager", site=CENTRE)
    sign_in(page, live_server, name, password)
    page.get_by_role("link", name=f"Receive shipment {shipment}").click()

    scan = page.get_by_label("Scan a carton label")
    expect(scan).to_be_focused()
    page.keyboard.type(f"{live_server}/cartons/{good}", delay=5)
    page.keyboard.press("Enter")
    expect(page.locator("#tally")).to_contain_text("Ticked off: 1 of 2")
    # the form answered puts the focus back in its scan field once settled: from there on
    expect(scan).to_be_focused()
    # confirming now is refused beside the carton neither ticked off nor rejected
    _tab_to(page, "storage_unit")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(f"#reason-{broken}-error")).to_contain_text("give a reason")
    expect(page.get_by_label(f"Carton {good}", exact=True)).to_be_checked()
    page.get_by_label("Scan a carton label").focus()
    _tab_to(page, f"reason-{broken}")
    assert _focus_ring(page).startswith("solid")
    page.keyboard.type("vial cracked in the box")
    _tab_to(page, "storage_unit")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Confirm receipt"
    page.keyboard.press("Enter")

    received = page.locator("#received")
    expect(received).to_contain_text("Received")
    rows = page.locator("table tbody tr")
    expect(rows.filter(has_text=f"#{good}")).to_contain_text("Accepted")
    expect(rows.filter(has_text=f"#{broken}")).to_contain_text("Rejected")
    expect(rows.filter(has_text=f"#{broken}")).to_contain_text("vial cracked in the box")
    with db() as session:
        assert session.get(Shipment, shipment).status == "received"
        assert session.get(Carton, good).status == "available"
        rejected = session.get(Carton, broken)
        assert rejected.status == "held" and rejected.holds[-1].reason.endswith(
            "vial cracked in the box"
        )


def test_waste_recorded_with_its_reason_by_keyboard(live_server, page, person, client, token, db):
    pharmacy = token("pharmacist", site=PHARMACY)
    manager = token("centre_manager", site=CENTRE)
    (carton,) = cartons_at_centre(client, pharmacy, manager, [2], lot="WASTE1")
    name, password = person("centre_manager", site=CENTRE)
    sign_in(page, live_server, name, password)
    page.goto(f"{live_server}/doses")
    expect(page.get_by_label("Doses given")).to_be_focused()

    _tab_to(page, "waste-doses")
    assert _focus_ring(page).startswith("solid")
    page.keyboard.type("2")
    page.keyboard.press("Enter")  # no reason chosen yet: refused beside the field
    expect(page.locator("#waste-reason-error")).to_contain_text("Choose a reason.")
    expect(page.get_by_label("Doses wasted")).to_be_focused()
    expect(page.get_by_label("Doses wasted")).to_have_value("2")
    _tab_to(page, "waste-reason")
    page.keyboard.type("Broken")  # a closed select takes the first letters typed
    expect(page.locator("#waste-reason")).to_have_value("broken")
    page.keyboard.press("Tab")
    page.keyboard.type("dropped on the floor")
    page.keyboard.press("Enter")

    expect(page.locator("#recorded")).to_contain_text(
        f"2 doses wasted from carton {carton['id']} (Broken or dropped)."
    )
    with db() as session:
        wasted = session.scalars(
            select(CustodyEvent).where(
                CustodyEvent.kind == "waste", CustodyEvent.carton_id == carton["id"]
            )
        ).all()
        assert [(e.doses, e.reason) for e in wasted] == [(2, "broken")]


def test_a_centre_manager_is_refused_another_sites_pages(
    live_server, page, person, client, token, db
):
    pharmacy = token("pharmacist", site=PHARMACY)
    other = token("centre_manager", site=OTHER_CENTRE)
    tray = thawed_tray(client, pharmacy, vials=4, lot="OKSNE77")
    there, on_the_way = (c["id"] for c in repacked_cartons(client, pharmacy, tray["id"], [2, 2]))
    deliver(client, pharmacy, other, [there], to_site=OTHER_CENTRE)
    shipment = dispatched_shipment(client, pharmacy, [on_the_way], to_site=OTHER_CENTRE)["id"]
    name, password = person("centre_manager", site=CENTRE)
    sign_in(page, live_server, name, password)

    for path in (
        f"/cartons/{there}",
        f"/cartons/{on_the_way}",
        f"/cartons/{there}/label",
        f"/units/{OTHER_CENTRE}-F1",
        f"/deliveries/{shipment}",
        f"/shipments/{shipment}",
        f"/stock?site={OTHER_CENTRE}",
        f"/today?site={OTHER_CENTRE}",
        f"/doses?site={OTHER_CENTRE}",
    ):
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status in (403, 404), (path, response)
        expect(page.locator("h1")).to_have_text(
            "Not found" if response.status == 404 else "Not allowed"
        )
        expect(page.get_by_role("link", name="Back to the start page")).to_be_visible()
        body = page.locator("main").inner_text()
        assert "OKSNE77" not in body and OTHER_CENTRE not in body, (path, body)
    # the own site's pages still answer
    page.goto(f"{live_server}/today")
    expect(page.locator("h1")).to_contain_text("Today at")
    assert "OKSNE77" not in page.locator("main").inner_text()


def _follow(page) -> None:
    """Enter on the focused link, and wait for the page it opens."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _sign_in_by_keyboard(page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/login?lang=en")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_load_state()


def test_a_centre_managers_day_by_keyboard_alone(live_server, page, person, client, token, db):
    pharmacy = token("pharmacist", site=PHARMACY)
    tray = thawed_tray(client, pharmacy, vials=4, lot="KEYS1")
    cartons = [c["id"] for c in repacked_cartons(client, pharmacy, tray["id"], [2, 2])]
    shipment = dispatched_shipment(client, pharmacy, cartons)["id"]
    name, _ = person("centre_manager", site=CENTRE)
    _sign_in_by_keyboard(page, live_server, name)
    expect(page.locator("h1")).to_contain_text("Today at")

    _tab_to_text(page, f"Receive shipment {shipment}")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Scan a carton label")).to_be_focused()
    for carton in cartons:
        page.keyboard.type(str(carton), delay=5)
        page.keyboard.press("Enter")
        expect(page.locator("#tally")).to_contain_text(f"Carton {carton} ticked off")
    _tab_to_text(page, "Confirm receipt")
    page.keyboard.press("Enter")
    expect(page.locator("#received")).to_contain_text("Received")

    _tab_to_text(page, "Record doses")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Doses given")).to_be_focused()
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.locator("#recorded")).to_contain_text("3 doses given")
    _tab_to(page, "waste-doses")
    page.keyboard.type("1")
    _tab_to(page, "waste-reason")
    page.keyboard.type("Left")  # "Left in an open vial"
    _tab_to_text(page, "Record doses wasted")
    page.keyboard.press("Enter")
    expect(page.locator("#recorded")).to_contain_text("1 dose wasted")
    expect(page.locator("#recorded")).to_contain_text("Left in an open vial")
    with db() as session:
        kinds = session.scalars(
            select(CustodyEvent.kind).where(CustodyEvent.kind.in_(("administer", "waste")))
        ).all()
        assert sorted(kinds) == ["administer", "waste"]


def test_a_pharmacists_day_by_keyboard_alone(live_server, page, person, db):
    name, _ = person("pharmacist", site=PHARMACY)
    _sign_in_by_keyboard(page, live_server, name)
    expect(page.locator("h1")).to_contain_text("Stock")

    _tab_to_text(page, "Receive")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Scan")).to_be_focused()
    page.keyboard.type(f"01{gtin_of(GREY)}1727123110KEYS2", delay=5)
    page.keyboard.press("Control+BracketRight")
    page.keyboard.press("Enter")
    expect(page.locator("#scan-preview")).to_contain_text("KEYS2")
    expect(page.get_by_label("Vials")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_label("Storage unit")).to_be_focused()
    page.keyboard.type("RH-APO-ULT")
    expect(page.get_by_label("Storage unit")).to_have_value(f"{PHARMACY}-ULT1")
    page.keyboard.press("Tab")
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    expect(page.locator("#received")).to_contain_text("KEYS2")

    _tab_to_text(page, "Thaw and repack", key="Shift+Tab")
    _follow(page)
    with db() as session:
        tray = session.scalar(select(Carton.id).where(Carton.vials == 10))
    _tab_to_text(page, f"Thaw #{tray}")
    _follow(page)
    expect(page.get_by_label("Fridge")).to_be_focused()
    page.keyboard.type(f"{PHARMACY}-F1")
    _tab_to_text(page, "Thaw")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text(f"Repack carton {tray}")
    expect(page.get_by_label("Vials in new carton 1")).to_be_focused()
    page.keyboard.type("4")
    _tab_to_element(page, page.get_by_label("Vials in new carton 2"))
    page.keyboard.type("6")
    page.keyboard.press("Enter")
    expect(page.locator(".label")).to_have_count(2)

    _tab_to_text(page, "Back to the start page")
    _follow(page)
    _tab_to_text(page, "Shipments")
    _follow(page)
    _tab_to_text(page, "New shipment")
    _follow(page)
    expect(page.get_by_label("To")).to_be_focused()
    page.keyboard.type("Vaccinationscenter Bella")
    expect(page.get_by_label("To")).to_have_value(CENTRE)
    with db() as session:
        children = session.scalars(select(Carton.id).where(Carton.parent_id == tray)).all()
    box = page.get_by_label(f"#{children[0]}")
    _tab_to_element(page, box)
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    _tab_to_text(page, "Create draft")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Draft")
    _tab_to_text(page, "Dispatch")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("On the way")
    with db() as session:
        assert session.get(Carton, children[0]).in_transit
