"""The staff pages in a real browser (Debian's Chromium): sign-in, lock-out, receive by scan."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.api.helpers import GREY, gtin_of
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser


def test_sign_in_and_out(live_server, page, person):
    name, password = person("pharmacist", site="RH-APO")
    page.goto(live_server + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    sign_in(page, live_server, name, password)
    expect(page).to_have_url(re.compile(r"/stock"))
    expect(page.locator("header")).to_contain_text("Pharmacist")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto(live_server + "/stock")
    expect(page).to_have_url(re.compile(r"/login"))


def test_wrong_password_then_lock_out(live_server, page, person):
    name, password = person("pharmacist", site="RH-APO")
    for _ in range(5):
        sign_in(page, live_server, name, "not the password")
        expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
        expect(page.get_by_label("Username")).to_be_visible()
    sign_in(page, live_server, name, password)  # the right one, but locked now
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")


def test_language_switch_in_the_header(live_server, page, person):
    name, password = person("pharmacist", site="RH-APO")
    sign_in(page, live_server, name, password)
    page.get_by_role("link", name="Dansk").click()
    expect(page.get_by_role("button", name="Log ud")).to_be_visible()
    page.goto(live_server + "/receive")
    expect(page.get_by_label("Lagerenhed")).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_label("Storage unit")).to_be_visible()


def test_receive_trays_by_scan_with_ctrl_bracket_as_gs(live_server, page, person):
    """A keyboard-wedge scanner types the code fast, GS as Ctrl+], then Enter; the preview
    shows the lot, the person types the vials and Enter; focus is back on Scan."""
    name, password = person("pharmacist", site="RH-APO")
    sign_in(page, live_server, name, password)
    page.goto(live_server + "/receive")
    scan = page.get_by_label("Scan")
    expect(scan).to_be_focused()
    page.get_by_label("Storage unit").select_option("RH-APO-ULT1")
    scan.focus()
    for lot in ("GK2026A", "GK2026B"):
        page.keyboard.type(f"]d201{gtin_of(GREY)}17271231", delay=5)
        page.keyboard.type(f"10{lot}", delay=5)
        page.keyboard.press("Control+BracketRight")
        page.keyboard.type("21SER1", delay=5)
        page.keyboard.press("Enter")
        preview = page.locator("#scan-preview")
        expect(preview).to_contain_text(lot)
        expect(preview).to_contain_text("2027-12-31")
        expect(page.get_by_label("Vials")).to_be_focused()
        page.keyboard.type("195")
        page.keyboard.press("Enter")
        done = page.locator("#received")
        expect(done).to_contain_text(lot)
        expect(done).to_contain_text("2027-12-31")
        link = done.get_by_role("link", name=re.compile(r"Carton \d+"))
        expect(link).to_have_attribute("href", re.compile(r"^/cartons/\d+$"))
        expect(page.get_by_label("Scan")).to_be_focused()
        expect(page.get_by_label("Scan")).to_have_value("")
    page.locator("#received").get_by_role("link", name=re.compile(r"Carton \d+")).click()
    expect(page.locator("h1")).to_contain_text("Carton")
    expect(page.locator("main")).to_contain_text("GK2026B")
    expect(page.locator("main")).to_contain_text("SER1")


def test_bad_scan_says_what_is_wrong(live_server, page, person):
    name, password = person("pharmacist", site="RH-APO")
    sign_in(page, live_server, name, password)
    page.goto(live_server + "/receive")
    page.get_by_label("Scan").fill("(01)12345678901234(17)271231(10)X")
    expect(page.locator("#scan-preview")).to_contain_text("Cannot read the scan")
