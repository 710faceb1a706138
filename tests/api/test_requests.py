"""Stock requests: a centre manager asks for doses at their own site; the pharmacy approves
(possibly fewer), rejects with a reason, or fulfils with a shipment."""

from __future__ import annotations

from tests.api.helpers import (
    CENTRE,
    GREY,
    OTHER_CENTRE,
    OTHER_REGION_PHARMACY,
    create_request,
    create_shipment,
    dispatch,
    get,
    ok,
    post,
    repacked_cartons,
    thawed_tray,
)


def approve(client, headers, request_id: int, doses: int | None = None):
    return post(
        client,
        f"/stock-requests/{request_id}/approve",
        headers,
        {} if doses is None else {"doses": doses},
    )


def reject(client, headers, request_id: int, reason: str = "no stock this week"):
    return post(client, f"/stock-requests/{request_id}/reject", headers, {"reason": reason})


def test_centre_manager_requests_doses_for_their_own_site(client, manager):
    request = ok(create_request(client, manager, doses=120, needed_on="2026-11-24"), 201)

    assert (
        request["site"],
        request["product"],
        request["doses"],
        request["needed_on"],
        request["status"],
    ) == (CENTRE, GREY, 120, "2026-11-24", "open")
    assert request["created_by"]
    assert [r["id"] for r in ok(get(client, "/stock-requests", manager))] == [request["id"]]


def test_date_is_accepted_as_another_name_for_needed_on(client, manager):
    response = post(
        client,
        "/stock-requests",
        manager,
        {"site": CENTRE, "product": GREY, "doses": 6, "date": "2026-11-30"},
    )

    assert ok(response, 201)["needed_on"] == "2026-11-30"


def test_centre_manager_cannot_request_for_another_site(client, manager):
    response = create_request(client, manager, site=OTHER_CENTRE)

    assert response.status_code in (403, 404)
    assert ok(get(client, "/stock-requests", manager)) == []


def test_a_request_for_a_past_date_is_refused(client, manager):
    response = create_request(client, manager, needed_on="2026-11-20")

    assert response.status_code == 422
    assert "needed_on" in response.json["error"]["fields"]


def test_a_request_for_an_unknown_product_is_not_found(client, manager):
    assert create_request(client, manager, product="snake-oil").status_code == 404


def test_pharmacist_approves_fewer_doses(client, manager, staff):
    request = ok(create_request(client, manager, doses=120), 201)

    approved = ok(approve(client, staff, request["id"], 60))

    assert (approved["status"], approved["doses"], approved["approved_doses"]) == (
        "approved",
        120,
        60,
    )
    assert approved["decided_by"]
    assert ok(get(client, f"/stock-requests/{request['id']}", manager))["approved_doses"] == 60


def test_approving_without_a_number_approves_everything_asked(client, manager, staff):
    request = ok(create_request(client, manager, doses=36), 201)

    assert ok(approve(client, staff, request["id"]))["approved_doses"] == 36


def test_approving_more_than_requested_is_refused(client, manager, staff):
    request = ok(create_request(client, manager, doses=60), 201)

    response = approve(client, staff, request["id"], 61)

    assert response.status_code == 422
    assert "doses" in response.json["error"]["fields"]


def test_centre_manager_cannot_approve_their_own_request(client, manager):
    request = ok(create_request(client, manager), 201)

    assert approve(client, manager, request["id"]).status_code == 403
    assert ok(get(client, f"/stock-requests/{request['id']}", manager))["status"] == "open"


def test_pharmacist_of_another_region_does_not_see_the_request(client, manager, token):
    request = ok(create_request(client, manager), 201)
    other = token("pharmacist", site=OTHER_REGION_PHARMACY)

    assert approve(client, other, request["id"]).status_code == 404
    assert get(client, f"/stock-requests/{request['id']}", other).status_code == 404


def test_pharmacist_rejects_with_a_reason(client, manager, staff):
    request = ok(create_request(client, manager), 201)

    rejected = ok(reject(client, staff, request["id"], "the centre has 3 days of stock"))

    assert (rejected["status"], rejected["reason"]) == (
        "rejected",
        "the centre has 3 days of stock",
    )
    assert approve(client, staff, request["id"]).status_code == 409


def test_a_rejection_needs_a_reason(client, manager, staff):
    request = ok(create_request(client, manager), 201)

    response = post(client, f"/stock-requests/{request['id']}/reject", staff, {})

    assert response.status_code == 422
    assert "reason" in response.json["error"]["fields"]


def test_a_request_is_decided_once(client, manager, staff):
    request = ok(create_request(client, manager), 201)
    ok(approve(client, staff, request["id"], 30))

    assert approve(client, staff, request["id"], 20).status_code == 409


def test_a_shipment_fulfils_the_request(client, manager, staff):
    request = ok(create_request(client, manager, doses=60), 201)
    ok(approve(client, staff, request["id"], 60))
    tray = thawed_tray(client, staff, vials=20)
    (picked,) = repacked_cartons(client, staff, tray["id"], [10])

    shipment = ok(create_shipment(client, staff, [picked["id"]], request=request["id"]), 201)
    assert shipment["request"] == request["id"]
    ok(dispatch(client, staff, shipment["id"]))

    assert ok(get(client, f"/stock-requests/{request['id']}", manager))["status"] == "fulfilled"


def test_a_shipment_cannot_fulfil_a_request_of_another_site(client, manager, staff):
    request = ok(create_request(client, manager), 201)
    tray = thawed_tray(client, staff, vials=20)
    (picked,) = repacked_cartons(client, staff, tray["id"], [10])

    response = create_shipment(
        client, staff, [picked["id"]], to_site=OTHER_CENTRE, request=request["id"]
    )

    assert response.status_code == 422
    assert "request" in response.json["error"]["fields"]


def test_a_rejected_request_cannot_be_fulfilled(client, manager, staff):
    request = ok(create_request(client, manager), 201)
    ok(reject(client, staff, request["id"]))
    tray = thawed_tray(client, staff, vials=20)
    (picked,) = repacked_cartons(client, staff, tray["id"], [10])

    response = create_shipment(client, staff, [picked["id"]], request=request["id"])

    assert response.status_code == 409
