"""The centre manager's pages through their forms: Today, receiving a shipment carton by
carton, doses given and wasted, stock requests; and who is refused them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from inventory.db.models import Carton, CustodyEvent, Shipment, StockRequest
from inventory.db.uptake import Administration
from inventory.services import stock
from inventory.services.access import SYSTEM
from tests.api.helpers import (
    CENTRE,
    FLU,
    OTHER_CENTRE,
    PHARMACY,
    administer,
    cartons_at_centre,
    dispatched_shipment,
    ok,
    post,
    repacked_cartons,
    thawed_tray,
)
from tests.web.conftest import csrf_token, signed_in_client


@pytest.fixture
def pharmacy(seeded, token) -> dict:
    return token("pharmacist", site=PHARMACY)


@pytest.fixture
def manager_token(seeded, token) -> dict:
    return token("centre_manager", site=CENTRE)


@pytest.fixture
def manager(app, person):
    """The test client of Bella Center's manager, signed in."""
    name, _ = person("centre_manager", site=CENTRE)
    return signed_in_client(app.test_client(), name)


def _form(client, path: str, prefix: str = "") -> dict:
    """The CSRF token and the form key of a page's form (the first, or the one whose key
    field has `prefix`)."""
    page = client.get(path).get_data(as_text=True)
    data = {"csrf_token": csrf_token(page)}
    key = re.search(rf'name="{prefix}key"[^>]*value="([^"]+)"', page) or re.search(
        rf'value="([^"]+)"[^>]*name="{prefix}key"', page
    )
    if key:
        data[f"{prefix}key"] = key.group(1)
    return data


def _on_the_way(client, pharmacy, sizes=(2, 3)) -> tuple[int, list[int]]:
    tray = thawed_tray(client, pharmacy, vials=sum(sizes))
    ids = [c["id"] for c in repacked_cartons(client, pharmacy, tray["id"], list(sizes))]
    return dispatched_shipment(client, pharmacy, ids)["id"], ids


# ---------------------------------------------------------------- today


def test_open_vials_come_first_wherever_they_stand_in_expiry_order(
    client, db, manager, pharmacy, manager_token
):
    """The doses form offers the open vial first, and Today names it, however many cartons
    expire before it (pages take the first so many: the open ones must be among them)."""
    cartons_at_centre(client, pharmacy, manager_token, [1, 1, 1], lot="EARLY")
    late = cartons_at_centre(client, pharmacy, manager_token, [1], lot="LATE")[0]
    ok(administer(client, manager_token, late["id"], 1))
    with db() as session:
        fefo = stock.at_hand(session, SYSTEM, CENTRE, limit=1)
        opened_first = stock.at_hand(session, SYSTEM, CENTRE, open_first=True, limit=1)
        opened = stock.at_hand(session, SYSTEM, CENTRE, opened_only=True)
    assert fefo[0].lot.number == "EARLY"
    assert [c.id for c in opened_first] == [c.id for c in opened] == [late["id"]]
    doses = manager.get("/doses?lang=en").get_data(as_text=True)
    first_option = re.search(
        r'<select[^>]*name="given-carton"[^>]*>\s*<option[^>]*value="(\d+)"', doses
    )
    assert first_option and int(first_option.group(1)) == late["id"]
    today = manager.get("/today?lang=en").get_data(as_text=True)
    assert f'href="/cartons/{late["id"]}"' in today


def test_today_shows_the_incoming_shipment_stock_and_countdown(
    client, manager, pharmacy, manager_token
):
    cartons_at_centre(client, pharmacy, manager_token, [2], lot="HERE1")
    shipment, _ = _on_the_way(client, pharmacy, sizes=(1,))
    page = manager.get("/today?lang=en").get_data(as_text=True)
    assert "Today at" in page
    assert f"/deliveries/{shipment}" in page  # receive it from here
    assert f"/shipments/{shipment}" in page  # the shipment behind the figure
    assert f"/stock?site={CENTRE}" in page  # the doses on hand link to the stock list
    assert "HERE1" in page  # the BUD countdown
    assert "Stock against bookings" in page


def test_a_centre_manager_starts_at_today_and_a_pharmacist_does_not_see_it(app, person):
    manager_name, _ = person("centre_manager", site=CENTRE)
    browser = app.test_client()
    token = csrf_token(browser.get("/login").get_data(as_text=True))
    signed = browser.post(
        "/login",
        data={"username": manager_name, "password": "correct horse battery", "csrf_token": token},
    )
    assert signed.headers["Location"].endswith("/today")
    pharmacist, _ = person("pharmacist", site=PHARMACY)
    other = signed_in_client(app.test_client(), pharmacist)
    nav = other.get("/stock?lang=en").get_data(as_text=True)
    assert 'href="/today"' not in nav
    assert 'href="/today"' in browser.get("/stock?lang=en").get_data(as_text=True)


def test_another_sites_manager_is_refused(client, app, person, pharmacy):
    shipment, _ = _on_the_way(client, pharmacy)
    name, _ = person("centre_manager", site=OTHER_CENTRE)
    other = signed_in_client(app.test_client(), name)
    assert other.get(f"/deliveries/{shipment}").status_code == 404
    assert other.get(f"/today?site={CENTRE}").status_code == 404
    assert other.get(f"/doses?site={CENTRE}").status_code == 404
    coordinator, _ = person("coordinator", region="Hovedstaden")
    reader = signed_in_client(app.test_client(), coordinator)
    assert reader.get(f"/today?site={CENTRE}").status_code == 403


def test_an_admin_chooses_the_site(app, person):
    name, _ = person("admin")
    admin = signed_in_client(app.test_client(), name)
    chooser = admin.get("/today?lang=en").get_data(as_text=True)
    assert "Choose a site" in chooser and f"/today?site={CENTRE}" in chooser
    assert "Today at" in admin.get(f"/today?site={CENTRE}&lang=en").get_data(as_text=True)


# ---------------------------------------------------------------- receiving a shipment


def test_receive_a_shipment_by_scan_with_one_carton_rejected(client, manager, pharmacy, db):
    shipment, (first, second) = _on_the_way(client, pharmacy)
    path = f"/deliveries/{shipment}"
    data = {**_form(manager, path + "?lang=en"), "storage_unit": f"{CENTRE}-F1"}
    # a scanned label (the carton's address) ticks the carton off; nothing is recorded yet
    ticked = manager.post(
        path, data={**data, "action": "tick", "scan": f"http://localhost/cartons/{first}"}
    )
    assert ticked.status_code == 200
    html = ticked.get_data(as_text=True)
    assert re.search(rf'value="{first}"\s+checked', html)
    # an unknown carton is refused beside the scan field, the ticks kept
    wrong = manager.post(
        path, data={**data, "action": "tick", "scan": "999999", "carton": str(first)}
    )
    assert wrong.status_code == 422 and "not on this shipment" in wrong.get_data(as_text=True)
    # confirming without accounting for the second carton names it
    unaccounted = manager.post(path, data={**data, "action": "confirm", "carton": str(first)})
    assert unaccounted.status_code == 422
    assert "give a reason to reject it" in unaccounted.get_data(as_text=True)
    confirmed = manager.post(
        path,
        data={
            **data,
            "action": "confirm",
            "carton": str(first),
            f"reason-{second}": "carton crushed",
        },
    )
    assert confirmed.status_code == 303
    again = manager.post(
        path,
        data={
            **data,
            "action": "confirm",
            "carton": str(first),
            f"reason-{second}": "carton crushed",
        },
    )
    assert again.status_code == 303  # the same form, submitted twice, receives once
    with db() as session:
        assert session.get(Shipment, shipment).status == "received"
        accepted, rejected = session.get(Carton, first), session.get(Carton, second)
        assert (accepted.status, accepted.storage_unit.code) == ("available", f"{CENTRE}-F1")
        assert rejected.status == "held" and "carton crushed" in rejected.holds[-1].reason
        receipts = session.scalars(
            select(CustodyEvent).where(CustodyEvent.kind == "receive_shipment")
        ).all()
        assert len(receipts) == 2
    done = manager.get(confirmed.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Rejected" in done and "carton crushed" in done


def test_htmx_tick_answers_the_form_alone(client, manager, pharmacy):
    shipment, (first, _) = _on_the_way(client, pharmacy)
    path = f"/deliveries/{shipment}"
    data = {**_form(manager, path), "storage_unit": f"{CENTRE}-F1"}
    answer = manager.post(
        path, data={**data, "action": "tick", "scan": str(first)}, headers={"HX-Request": "true"}
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and html.lstrip().startswith("<form")
    assert "autofocus" in html  # the scan field takes the next scan


# ---------------------------------------------------------------- doses


def _doses(client, db, carton_id: int) -> int:
    with db() as session:
        return session.get(Carton, carton_id).doses


def test_doses_given_change_the_ledger_once(client, manager, pharmacy, manager_token, db):
    (carton,) = cartons_at_centre(client, pharmacy, manager_token, [2])
    page = manager.get("/doses?lang=en").get_data(as_text=True)
    assert "autofocus" in page and "Doses given" in page
    data = {
        **_form(manager, "/doses", "given-"),
        "given-doses": "2",
        "given-carton": str(carton["id"]),
        "given-group": "65+",
    }
    first = manager.post("/doses/given", data=data)
    second = manager.post("/doses/given", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _doses(client, db, carton["id"]) == carton["doses"] - 2
    with db() as session:
        given = session.scalars(select(CustodyEvent).where(CustodyEvent.kind == "administer"))
        assert [e.doses for e in given] == [2]
        assert session.scalar(select(Administration.target_group)) == "65+"
    confirmation = manager.get(first.headers["Location"] + "&lang=en").get_data(as_text=True)
    assert "2 doses given from carton" in confirmation
    assert "Open vials" in confirmation and "use by" in confirmation  # the open vial's clock


def test_a_bad_number_is_shown_beside_the_field_with_nothing_lost(
    client, manager, pharmacy, manager_token, db
):
    (carton,) = cartons_at_centre(client, pharmacy, manager_token, [1])
    data = {
        **_form(manager, "/doses", "given-"),
        "given-carton": str(carton["id"]),
        "given-group": "risk",
    }
    too_many = manager.post("/doses/given?lang=en", data={**data, "given-doses": "500"})
    html = too_many.get_data(as_text=True)
    assert too_many.status_code == 422
    assert re.search(r'id="given-doses-error">Not enough doses in the carton', html)
    assert 'value="500"' in html and re.search(r'<option selected value="risk">', html)
    not_a_number = manager.post("/doses/given?lang=en", data={**data, "given-doses": "zero"})
    assert not_a_number.status_code == 422
    assert 'id="given-doses-error"' in not_a_number.get_data(as_text=True)
    assert _doses(client, db, carton["id"]) == carton["doses"]


def test_waste_needs_a_reason(client, manager, pharmacy, manager_token, db):
    (carton,) = cartons_at_centre(client, pharmacy, manager_token, [1])
    data = {
        **_form(manager, "/doses", "waste-"),
        "waste-carton": str(carton["id"]),
        "waste-doses": "1",
    }
    refused = manager.post("/doses/wasted?lang=en", data=data)
    assert refused.status_code == 422
    assert 'id="waste-reason-error">Choose a reason' in refused.get_data(as_text=True)
    wasted = manager.post(
        "/doses/wasted", data={**data, "waste-reason": "broken", "waste-note": "vial dropped"}
    )
    assert wasted.status_code == 303
    with db() as session:
        event = session.scalar(select(CustodyEvent).where(CustodyEvent.kind == "waste"))
        assert (event.doses, event.reason) == (1, "broken")
    assert _doses(client, db, carton["id"]) == carton["doses"] - 1


# ---------------------------------------------------------------- stock requests


def test_request_stock_and_see_its_state(client, manager, pharmacy, db):
    data = {
        **_form(manager, "/centre/requests?lang=en"),
        "product": FLU,
        "doses": "40",
        "needed_on": "2026-11-25",
        "note": "flu clinic Saturday",
    }
    made = manager.post("/centre/requests", data=data)
    assert made.status_code == 303
    assert manager.post("/centre/requests", data=data).status_code == 303  # once
    with db() as session:
        (request,) = session.scalars(select(StockRequest)).all()
        assert (request.site.code, request.doses, request.note) == (
            CENTRE,
            40,
            "flu clinic Saturday",
        )
    ok(post(client, f"/stock-requests/{request.id}/approve", pharmacy, {"doses": 30}))
    listed = manager.get("/centre/requests?lang=en").get_data(as_text=True)
    assert "Approved" in listed and "30 doses" in listed
    past = manager.post(
        "/centre/requests?lang=en",
        data={
            **_form(manager, "/centre/requests"),
            "product": FLU,
            "doses": "5",
            "needed_on": "2020-01-01",
        },
    )
    assert past.status_code == 422 and 'id="needed_on-error"' in past.get_data(as_text=True)
