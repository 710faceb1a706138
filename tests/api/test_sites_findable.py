"""What citizens need to find a site: admins set it on the site endpoints, with a reason per
field when it is wrong; every change is audited."""

from __future__ import annotations

from tests.api.helpers import API, CENTRE, get, ok, post
from tests.api.test_catalogue import audit_entries

HOURS = {"mon": [["08:00", "16:00"]], "tue": [["08:00", "16:00"]]}


def patch(client, path, headers, json):
    return client.patch(API + path, headers=headers, json=json)


def test_the_seeded_centre_has_an_address_hours_and_the_national_booking_link(client, manager):
    bella = ok(get(client, f"/sites/{CENTRE}", manager))
    assert (bella["address"], bella["postcode"], bella["municipality"]) == (
        "Center Boulevard 5",
        "2300",
        "0101",
    )
    assert bella["municipality_name"] == "København"
    assert 55.6 < bella["lat"] < 55.7 and 12.5 < bella["lon"] < 12.6
    assert bella["opening_hours"]["sat"] == [["09:00", "16:00"]]
    assert bella["slots_per_hour"] > 0 and bella["drop_in"] is True
    assert bella["booking_url"] is None
    assert ok(get(client, "/settings/booking-url", manager)) == {"url": "https://vacciner.dk"}


def test_an_admin_creates_a_findable_site(client, admin):
    body = {
        "code": "RN-VC-SKAG",
        "name": "Vaccinationscenter Skagen",
        "kind": "vaccination_centre",
        "region": "Nordjylland",
        "supplied_by": "RN-APO",
        "address": "Sct. Laurentii Vej 20",
        "postcode": "9990",
        "town": "Skagen",
        "municipality": "0813",
        "lat": 57.72,
        "lon": 10.58,
        "opening_hours": HOURS,
        "slots_per_hour": 20,
        "drop_in": False,
        "booking_url": "https://example.org/book",
        "accessibility": "Rampe ved indgangen.",
    }
    site = ok(post(client, "/sites", admin, body), 201)
    assert site["municipality_name"] == "Frederikshavn" and site["slots_per_hour"] == 20
    assert site["opening_hours"]["wed"] == [] and site["booking_url"] == "https://example.org/book"


def test_an_admin_changes_hours_and_clears_the_booking_link(client, admin, db):
    ok(patch(client, f"/sites/{CENTRE}", admin, {"booking_url": "https://example.org/bella"}))
    site = ok(
        patch(
            client,
            f"/sites/{CENTRE}",
            admin,
            {"opening_hours": HOURS, "slots_per_hour": 30, "booking_url": None},
        )
    )
    assert (
        site["opening_hours"]["mon"] == [["08:00", "16:00"]] and site["opening_hours"]["sat"] == []
    )
    assert site["slots_per_hour"] == 30 and site["booking_url"] is None
    assert site["address"] == "Center Boulevard 5"
    [first, second] = audit_entries(db, "site.update")
    assert second.before["slots_per_hour"] == 240 and second.after["slots_per_hour"] == 30


def test_wrong_fields_are_refused_each_with_its_reason(client, admin):
    response = patch(
        client,
        f"/sites/{CENTRE}",
        admin,
        {
            "postcode": "23OO",
            "municipality": "9999",
            "lat": 59.3,
            "lon": 18.1,
            "opening_hours": {"mon": [["16:00", "08:00"]], "funday": []},
            "slots_per_hour": -1,
            "booking_url": "javascript:alert(1)",
        },
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {
        "postcode",
        "municipality",
        "lat",
        "lon",
        "opening_hours",
        "slots_per_hour",
        "booking_url",
    }
    assert fields["lat"] == ["not in Denmark"]
    assert "mon: 16:00-08:00 closes before it opens" in fields["opening_hours"]


def test_coordinates_come_in_pairs(client, admin):
    response = patch(client, f"/sites/{CENTRE}", admin, {"lat": 55.7})
    assert response.status_code == 422 and "lon" in response.get_json()["error"]["fields"]


def test_only_an_admin_changes_a_site_or_the_national_link(client, manager):
    assert patch(client, f"/sites/{CENTRE}", manager, {"slots_per_hour": 1}).status_code == 403
    response = client.put(
        API + "/settings/booking-url", headers=manager, json={"url": "https://example.org"}
    )
    assert response.status_code == 403


def test_an_admin_sets_the_national_booking_link(client, admin, db):
    response = client.put(
        API + "/settings/booking-url", headers=admin, json={"url": "https://example.org/vaccine"}
    )
    assert ok(response) == {"url": "https://example.org/vaccine"}
    assert audit_entries(db, "settings.booking_url")[-1].before == {"url": "https://vacciner.dk"}
