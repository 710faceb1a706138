"""Dates and times at any extreme the description admits are a 422 naming the field, never a
500; settings with a fixed vocabulary take only its words."""

from __future__ import annotations

import pytest

from tests.api.helpers import API, CENTRE, GREY, PHARMACY, receipt_body


def fields_of(response) -> dict:
    assert response.status_code == 422, (response.status_code, response.get_json())
    return response.get_json()["error"]["fields"]


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2100-01-01", "1999-12-31"])
@pytest.mark.parametrize("name", ["from", "to"])
def test_capacity_and_appointment_days_out_of_range_name_the_field(client, admin, name, value):
    for path in ("/capacity", "/appointments"):
        response = client.get(f"{API}{path}", headers=admin, query_string={name: value})

        assert name in fields_of(response), path


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-23:59"]
)
@pytest.mark.parametrize("path", ["readings", "time-in-range"])
def test_reading_periods_at_the_extremes_name_the_field(client, admin, path, value):
    response = client.get(
        f"{API}/storage-units/{PHARMACY}-F1/{path}", headers=admin, query_string={"from": value}
    )

    assert "from" in fields_of(response)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"])
def test_times_in_bodies_at_the_extremes_name_the_field(client, staff, value):
    body = receipt_body(state="thawed", thawed_at=value)
    assert "thawed_at" in fields_of(client.post(f"{API}/receipts", headers=staff, json=body))
    thaw = client.post(f"{API}/cartons/1/thaw", headers=staff, json={"at": value})
    assert "at" in fields_of(thaw)


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
def test_days_in_bodies_at_the_extremes_name_the_field(client, staff, admin, value):
    plan = {"pharmacy": PHARMACY, "start": value, "days": 3}
    assert "start" in fields_of(client.post(f"{API}/plans", headers=staff, json=plan))
    request = {"site": CENTRE, "product": GREY, "doses": 6, "needed_on": value}
    assert "needed_on" in fields_of(
        client.post(f"{API}/stock-requests", headers=staff, json=request)
    )
    booking = [{"ref": "B-1", "site": CENTRE, "day": value, "slot": "09:00", "product": GREY}]
    stored = client.put(f"{API}/appointments", headers=admin, json=booking)
    assert "0.day" in fields_of(stored) or "day" in str(fields_of(stored))


def test_the_priority_order_takes_only_known_target_groups(client, admin):
    response = client.put(
        f"{API}/planning/priority", headers=admin, json={"priority": ["85+", "astronauts"]}
    )

    assert "priority.1" in fields_of(response)
    assert client.get(f"{API}/planning/priority", headers=admin).json["priority"][0] != "85+"


def test_a_site_lies_in_one_of_the_five_regions(client, admin):
    site = {"code": "X-1", "name": "x", "kind": "vaccination_centre", "region": "Atlantis"}

    assert "region" in fields_of(client.post(f"{API}/sites", headers=admin, json=site))


def test_list_filters_take_only_known_values(client, admin):
    for path, name in (
        ("/cartons", "status"),
        ("/cartons", "state"),
        ("/shipments", "status"),
        ("/stock-requests", "status"),
        ("/plans", "status"),
        ("/thaw-tasks", "status"),
        ("/alerts", "state"),
        ("/sites", "kind"),
    ):
        response = client.get(f"{API}{path}", headers=admin, query_string={name: "nonsense"})
        assert name in fields_of(response), path
