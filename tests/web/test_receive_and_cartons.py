"""Receiving by scan through the form, the carton page and its label, as different people."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from inventory.db.models import Carton
from tests.api.helpers import CENTRE, GREY, OTHER_CENTRE, PHARMACY, gtin_of
from tests.web.conftest import csrf_token, signed_in_client

GS = "\x1d"


def scan(lot: str = "GK2026A", separator: str = GS) -> str:
    return f"]d201{gtin_of(GREY)}17271231" + f"10{lot}{separator}21S1"


def _receive_form(client, **fields):
    page = client.get("/receive?lang=en").get_data(as_text=True)
    key = re.search(r'name="key"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="key"', page
    )
    data = {
        "csrf_token": csrf_token(page),
        "key": key.group(1),
        "storage_unit": f"{PHARMACY}-ULT1",
        "vials": "195",
        "state": "",
        "separator": "",
    }
    data.update(fields)
    return data


def _cartons(db) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(Carton))


def test_receive_shows_lot_expiry_and_carton_link(client, person, db):
    name, _ = person("pharmacist", site=PHARMACY)
    signed_in_client(client, name)
    response = client.post("/receive", data=_receive_form(client, scan=scan()))
    assert response.status_code == 303
    page = client.get(response.headers["Location"] + "&lang=en").get_data(as_text=True)
    assert "GK2026A" in page and "2027-12-31" in page
    carton_id = re.search(r'href="/cartons/(\d+)"', page).group(1)
    carton = client.get(f"/cartons/{carton_id}").get_data(as_text=True)
    assert "GK2026A" in carton and "S1" in carton
    label = client.get(f"/cartons/{carton_id}/label")
    assert label.status_code == 200 and "<svg" in label.get_data(as_text=True)
    with db() as session:
        received = session.get(Carton, int(carton_id))
        assert received.state == "ultra_frozen"  # from the ultra-low freezer it went into


def test_the_same_rendered_form_receives_once(client, person, db):
    name, _ = person("pharmacist", site=PHARMACY)
    signed_in_client(client, name)
    data = _receive_form(client, scan=scan())
    first = client.post("/receive", data=data)
    second = client.post("/receive", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _cartons(db) == 1


def test_substitute_character_and_human_readable_form(client, person, db):
    name, _ = person("pharmacist", site=PHARMACY)
    signed_in_client(client, name)
    piped = client.post(
        "/receive", data=_receive_form(client, scan=scan("LOTP", "|"), separator="|")
    )
    assert piped.status_code == 303
    human = f"(01){gtin_of(GREY)}(17)271231(10)LOTH"
    assert client.post("/receive", data=_receive_form(client, scan=human)).status_code == 303
    assert _cartons(db) == 2


def test_bad_code_is_explained_beside_the_field(client, person, db):
    name, _ = person("pharmacist", site=PHARMACY)
    signed_in_client(client, name)
    response = client.post("/receive", data=_receive_form(client, scan="(01)12345678901234"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="scan-error"' in page
    assert _cartons(db) == 0


def test_preview_names_product_lot_and_expiry(client, person):
    name, _ = person("pharmacist", site=PHARMACY)
    signed_in_client(client, name)
    data = _receive_form(client, scan=scan("GKPREV"))
    fragment = client.post("/receive/preview", data=data, headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "GKPREV" in fragment and "2027-12-31" in fragment and "<html" not in fragment


def test_centre_manager_gets_404_for_another_sites_carton(client, person, db):
    pharmacist, _ = person("pharmacist", site=PHARMACY)
    signed_in_client(client, pharmacist)
    client.post("/receive", data=_receive_form(client, scan=scan()))
    with db() as session:
        carton_id = session.scalar(select(Carton.id))
    manager_client = type(client)(client.application, client.response_wrapper)
    manager, _ = person("centre_manager", site=OTHER_CENTRE)
    signed_in_client(manager_client, manager)
    assert manager_client.get(f"/cartons/{carton_id}").status_code == 404
    assert manager_client.get(f"/cartons/{carton_id}/label").status_code == 404
    assert f"/cartons/{carton_id}" not in manager_client.get("/stock").get_data(as_text=True)
    assert manager_client.get(f"/cartons/{carton_id}?lang=en").status_code == 404


def test_label_needs_a_signed_in_person(client, seeded):
    response = client.get("/cartons/1/label")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_coordinator_may_not_receive(client, person):
    name, _ = person("coordinator", region="Hovedstaden")
    signed_in_client(client, name)
    assert client.get("/receive").status_code == 403


def test_stock_page_lists_by_unit_fefo(client, person):
    name, _ = person("pharmacist", site=PHARMACY)
    signed_in_client(client, name)
    client.post("/receive", data=_receive_form(client, scan=scan("LOTA")))
    page = client.get("/stock?lang=en").get_data(as_text=True)
    assert f"{PHARMACY}-ULT1" in page and "LOTA" in page
    fragment = client.get(
        f"/stock?storage_unit={PHARMACY}-ULT1", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "LOTA" in fragment and "<html" not in fragment
    assert CENTRE not in fragment


def test_carton_page_names_the_units_it_sat_in(client, person, db, clock):
    name, _ = person("pharmacist", site=PHARMACY)
    signed_in_client(client, name)
    client.post("/receive", data=_receive_form(client, scan=scan()))
    with db() as session:
        carton_id = session.scalar(select(Carton.id))
    clock.advance(minutes=20)  # (more than 30 idle minutes would end the session)
    from inventory.db import unit_of_work
    from inventory.services import custody
    from inventory.services.access import SYSTEM

    with unit_of_work(db) as session:
        custody.thaw(session, SYSTEM, clock.now(), carton_id, storage_unit=f"{PHARMACY}-F1")
        custody.repack(session, SYSTEM, clock.now(), carton_id, [(5, f"{PHARMACY}-F2")])
    assert client.get("/stock").status_code == 200  # still at work
    clock.advance(minutes=20)
    page = client.get(f"/cartons/{carton_id}?lang=en").get_data(as_text=True)
    section = page[page.index("Temperatures where it sat") : page.index(">History<")]
    assert f"{PHARMACY}-ULT1" in section and f"{PHARMACY}-F1" in section
    assert f"{PHARMACY}-F2" not in section  # the new carton went there, not this one
    assert "21/11/2026, 11:00 – 21/11/2026, 11:20" in section  # in Copenhagen time
    assert "21/11/2026, 11:20 – 21/11/2026, 11:40" in section


def test_a_carton_put_on_hold_from_its_page(client, person, db):
    name, _ = person("pharmacist", site=PHARMACY)
    signed_in_client(client, name)
    client.post("/receive", data=_receive_form(client, scan=scan()))
    with db() as session:
        carton_id = session.scalar(select(Carton.id))
    page = client.get(f"/cartons/{carton_id}?lang=en").get_data(as_text=True)
    token = csrf_token(page)
    no_reason = client.post(f"/cartons/{carton_id}/hold", data={"csrf_token": token})
    assert no_reason.status_code == 303
    assert "Give a reason" in client.get(no_reason.headers["Location"]).get_data(as_text=True)
    held = client.post(
        f"/cartons/{carton_id}/hold", data={"csrf_token": token, "reason": "label torn"}
    )
    assert held.status_code == 303
    with db() as session:
        carton = session.get(Carton, carton_id)
        assert carton.status == "held" and carton.holds[-1].reason == "label torn"


def test_stock_page_counts_everything_and_pages_through_the_rest(client, person):
    """Beyond one page the count and the unit's doses are the whole answer's, and the next
    page continues where this one stopped, so no carton is shown twice or never."""
    name, _ = person("pharmacist", site=PHARMACY)
    signed_in_client(client, name)
    for lot in ("LOTA", "LOTB", "LOTC"):
        client.post("/receive", data=_receive_form(client, scan=scan(lot)))
    first = client.get("/stock?lang=en&limit=2").get_data(as_text=True)
    assert "Cartons: 3, first expiry first; 2 on this page." in first
    assert "3,510 doses in 3 cartons" in first  # all three trays, though two are shown
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert 'rel="next"' not in second and "First page" in second
    shown = re.findall(r'href="/cartons/(\d+)"', first) + re.findall(
        r'href="/cartons/(\d+)"', second
    )
    assert len(shown) == len(set(shown)) == 3
