"""Admins keep sites findable from the pages: address, opening hours, slots, drop-in, booking
link; the form's answers are checked by the API's rules and shown back beside the field."""

from __future__ import annotations

import re

from sqlalchemy import select

from inventory.db.models import AuditEntry
from tests.api.helpers import CENTRE
from tests.web.conftest import csrf_token, signed_in_client


def _form(client, code: str = CENTRE) -> dict:
    page = client.get(f"/sites/{code}/edit?lang=en").get_data(as_text=True)
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    fields.update(
        {
            "csrf_token": csrf_token(page),
            "municipality": "0101",
            "default_target_group": "",
            "accessibility": "",
        }
    )
    return fields


def test_an_admin_sets_a_sites_details_and_the_api_shows_them(client, person, token, db):
    name, _ = person("admin")
    signed_in_client(client, name)
    data = _form(client) | {
        "address": "Bella Center, Center Blvd. 5",
        "postcode": "2300",
        "town": "København S",
        "lat": "55,6375",
        "lon": "12.5778",
        "mon": "08:00-12:00, 13:00-16:00",
        "tue": "8:00-16:00",
        "sat": "",
        "slots_per_hour": "120",
        "drop_in": "y",
    }
    saved = client.post(f"/sites/{CENTRE}/edit", data=data)
    assert saved.status_code == 303
    site = client.get(f"/api/v1/sites/{CENTRE}", headers=token("admin")).get_json()
    assert site["address"] == "Bella Center, Center Blvd. 5" and site["postcode"] == "2300"
    assert (site["lat"], site["lon"], site["slots_per_hour"]) == (55.6375, 12.5778, 120)
    assert site["opening_hours"]["mon"] == [["08:00", "12:00"], ["13:00", "16:00"]]
    assert site["opening_hours"]["tue"] == [["08:00", "16:00"]]
    assert site["opening_hours"]["sat"] == [] and site["drop_in"] is True
    assert site["municipality"] == "0101"
    with db() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "site.update")).one()
    assert name in entry.actor


def test_wrong_answers_are_shown_beside_their_fields_and_nothing_is_saved(client, person, token):
    name, _ = person("admin")
    signed_in_client(client, name)
    before = client.get(f"/api/v1/sites/{CENTRE}", headers=token("admin")).get_json()
    data = _form(client) | {"postcode": "23", "mon": "16:00-08:00", "tue": "morning", "lat": "1"}
    refused = client.post(f"/sites/{CENTRE}/edit?lang=en", data=data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Write opening hours as 08:00-16:00" in page  # tue, before the schema is asked
    data["tue"] = ""
    refused = client.post(f"/sites/{CENTRE}/edit?lang=en", data=data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'id="postcode-error">Four digits', page)
    assert re.search(r'id="mon-error">16:00-08:00: closes before it opens', page)
    assert re.search(r'id="lat-error">Not in Denmark', page)
    assert 'value="morning"' not in page and 'value="23"' in page  # the answers are kept
    after = client.get(f"/api/v1/sites/{CENTRE}", headers=token("admin")).get_json()
    assert after == before


def test_the_national_booking_link(client, person, token):
    name, _ = person("admin")
    signed_in_client(client, name)
    page = client.get("/sites?lang=en").get_data(as_text=True)
    bad = client.post("/sites/booking-url", data={"csrf_token": csrf_token(page), "url": "vacc"})
    assert bad.status_code == 422 and "http://" in bad.get_data(as_text=True)
    good = client.post(
        "/sites/booking-url",
        data={"csrf_token": csrf_token(page), "url": "https://vaccination.example.dk"},
    )
    assert good.status_code == 303
    got = client.get("/api/v1/settings/booking-url", headers=token("admin")).get_json()
    assert got == {"url": "https://vaccination.example.dk"}


def test_others_read_the_list_but_only_admins_edit(client, person):
    name, _ = person("coordinator", region="Hovedstaden")
    signed_in_client(client, name)
    listing = client.get("/sites?lang=en").get_data(as_text=True)
    assert CENTRE in listing and "RS-APO" not in listing  # their own region only
    assert f"/sites/{CENTRE}/edit" not in listing
    assert client.get(f"/sites/{CENTRE}/edit").status_code == 403
    manager, _ = person("centre_manager", site=CENTRE)
    client.post("/logout", data={"csrf_token": csrf_token(listing)})
    signed_in_client(client, manager)
    assert client.get(f"/sites/{CENTRE}/edit").status_code == 403
