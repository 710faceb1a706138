"""The pharmacy's daily flows in a real browser: thaw, repack and labels; a shipment from
draft to dispatch; a hold released with a reason."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.db import unit_of_work
from inventory.db.models import Carton, Shipment
from inventory.services import custody
from inventory.services.access import SYSTEM
from tests.api.helpers import CENTRE, GREY, PHARMACY, gtin_of
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser


def receive(db, clock, lot="GK2026A", unit=f"{PHARMACY}-ULT1", vials=195, state=None) -> int:
    with unit_of_work(db) as session:
        carton = custody.receive(
            session,
            SYSTEM,
            clock.now(),
            custody.ReceiptInput(
                storage_unit=unit,
                vials=vials,
                state=state,
                gtin=gtin_of(GREY),
                lot=lot,
                expiry=date(2027, 12, 31),
            ),
        )
        return carton.id


def test_thaw_repack_and_print_labels(live_server, page, person, db, clock):
    tray = receive(db, clock)
    name, password = person("pharmacist", site=PHARMACY)
    sign_in(page, live_server, name, password)
    page.get_by_role("link", name="Thaw and repack").click()
    page.get_by_role("link", name=f"Thaw #{tray}").click()
    page.get_by_label("Fridge").select_option(f"{PHARMACY}-F1")
    page.get_by_role("button", name="Thaw").click()
    expect(page.locator("h1")).to_contain_text(f"Repack carton {tray}")
    page.get_by_label("Vials in new carton 1").fill("10")
    page.get_by_label("Vials in new carton 2").fill("20")
    page.get_by_role("button", name="Repack and print labels").click()
    expect(page).to_have_url(re.compile(r"/labels\?carton=\d+&carton=\d+"))
    labels = page.locator(".label")
    expect(labels).to_have_count(2)
    expect(labels.first).to_contain_text("GK2026A")
    expect(labels.first).to_contain_text("Thawed")
    expect(labels.first).to_contain_text("60")  # 10 vials of 6 doses
    expect(labels.nth(1)).to_contain_text("120")
    expect(labels.first.locator("svg")).to_be_visible()  # the QR code
    with db() as session:
        children = session.scalars(select(Carton).where(Carton.parent_id == tray)).all()
        assert sorted(c.vials for c in children) == [10, 20]
        assert all(c.state == "thawed" for c in children)


def test_ship_from_draft_to_dispatch_and_cancel_a_draft(live_server, page, person, db, clock):
    first = receive(db, clock, lot="FLU1", unit=f"{PHARMACY}-F1", vials=20)
    second = receive(db, clock, lot="FLU2", unit=f"{PHARMACY}-F1", vials=20)
    name, password = person("pharmacist", site=PHARMACY)
    sign_in(page, live_server, name, password)
    page.goto(live_server + "/shipments")
    page.get_by_role("link", name="New shipment").click()
    page.get_by_label("To").select_option(CENTRE)
    page.get_by_label(f"#{first}").check()
    page.get_by_role("button", name="Create draft").click()
    expect(page.locator("h1")).to_contain_text("Draft")
    page.get_by_role("link", name="Pick list").click()
    expect(page.locator("table")).to_contain_text("FLU1")
    page.go_back()
    page.get_by_role("button", name="Dispatch").click()
    expect(page.locator("h1")).to_contain_text("On the way")
    # a second draft, cancelled: its carton is free again
    page.goto(live_server + "/shipments/new")
    page.get_by_label("To").select_option(CENTRE)
    page.get_by_label(f"#{second}").check()
    page.get_by_role("button", name="Create draft").click()
    page.get_by_role("button", name="Cancel draft").click()
    expect(page).to_have_url(re.compile(r"/shipments$"))
    with db() as session:
        shipments = session.scalars(select(Shipment)).all()
        assert [(s.status, [i.carton_id for i in s.items]) for s in shipments] == [
            ("dispatched", [first])
        ]
        assert session.get(Carton, second).shipment_id is None
        assert session.get(Carton, first).in_transit


def test_a_hold_released_with_a_reason(live_server, page, person, db, clock):
    carton = receive(db, clock, lot="HOLD1", unit=f"{PHARMACY}-F1", vials=10)
    with unit_of_work(db) as session:
        custody.hold(session, SYSTEM, clock.now(), carton, "dropped on the floor")
    name, password = person("pharmacist", site=PHARMACY)
    sign_in(page, live_server, name, password)
    page.get_by_role("link", name="Holds").click()
    card = page.locator("section.hold-card", has_text="HOLD1")
    expect(card).to_contain_text("dropped on the floor")
    card.get_by_role("button", name="Release").click()  # no reason yet
    expect(page.locator(".error")).to_contain_text("reason")
    card = page.locator("section.hold-card", has_text="HOLD1")
    card.get_by_label("Reason").fill("vials intact, checked")
    card.get_by_role("button", name="Release").click()
    expect(page.locator("main")).to_contain_text("Nothing is on hold")
    with db() as session:
        released = session.get(Carton, carton)
        assert released.status == "available"
        assert released.holds[-1].decision == "released"
        assert "[" in released.holds[-1].decided_by  # under the person's name


def test_scanning_a_label_opens_its_carton(live_server, page, person, db, clock):
    carton = receive(db, clock, lot="QR1", unit=f"{PHARMACY}-F1", vials=10)
    name, password = person("pharmacist", site=PHARMACY)
    sign_in(page, live_server, name, password)
    page.goto(f"{live_server}/cartons/{carton}/label")
    svg = page.locator(".code svg")
    expect(svg).to_be_visible()
    page.goto(live_server + "/stock")
    page.get_by_label("Scan a carton label").focus()
    page.keyboard.type(f"{live_server}/cartons/{carton}", delay=5)  # what the QR code holds
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/cartons/{carton}$"))
    expect(page.locator("main")).to_contain_text("QR1")
