"""Shipments: pick, dispatch (stock leaves the sender and is in transit), receive with
proof of delivery (rejected stock is held at the receiver, never dropped)."""

from __future__ import annotations

from tests.api.helpers import (
    CENTRE,
    GREY,
    OTHER_CENTRE,
    OTHER_REGION_PHARMACY,
    PHARMACY,
    administer,
    carton,
    create_shipment,
    dispatch,
    dispatched_shipment,
    doses_on_hand,
    get,
    hold,
    ok,
    receive_shipment,
    repacked_cartons,
    stock_line,
    thawed_tray,
)


def two_cartons(client, staff) -> list[int]:
    tray = thawed_tray(client, staff, vials=30)
    return [c["id"] for c in repacked_cartons(client, staff, tray["id"], [10, 10])]


def test_created_shipment_is_a_draft_and_stock_stays_at_the_sender(client, staff):
    ids = two_cartons(client, staff)

    shipment = ok(create_shipment(client, staff, ids), 201)

    assert shipment["status"] == "draft"
    assert shipment["from_site"] == PHARMACY and shipment["to_site"] == CENTRE
    assert sorted(shipment["cartons"]) == sorted(ids)
    assert shipment["doses"] == 120
    assert doses_on_hand(client, staff, PHARMACY, GREY) == 180


def test_dispatch_moves_stock_out_of_the_senders_count_into_transit(client, staff, manager):
    ids = two_cartons(client, staff)
    shipment = ok(create_shipment(client, staff, ids), 201)

    dispatched = ok(dispatch(client, staff, shipment["id"]))

    assert dispatched["status"] == "dispatched"
    assert dispatched["dispatched_at"] == "2026-11-21T10:00:00Z"
    sender = stock_line(client, staff, PHARMACY, GREY, "thawed")
    assert sender["on_hand"] == 60
    assert sender["in_transit_outgoing"] == 120
    receiver = stock_line(client, manager, CENTRE, GREY, "thawed")
    assert receiver["in_transit_incoming"] == 120
    assert receiver["on_hand"] == 0
    assert [c["status"] for c in (carton(client, staff, i) for i in ids)] == [
        "in_transit",
        "in_transit",
    ]


def test_stock_in_transit_cannot_be_used(client, staff):
    ids = two_cartons(client, staff)
    dispatched_shipment(client, staff, ids)

    response = administer(client, staff, ids[0], 1)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "in_transit"


def test_dispatching_twice_is_a_conflict(client, staff):
    ids = two_cartons(client, staff)
    shipment = dispatched_shipment(client, staff, ids)

    response = dispatch(client, staff, shipment["id"])

    assert response.status_code == 409
    assert stock_line(client, staff, PHARMACY, GREY, "thawed")["in_transit_outgoing"] == 120


def test_a_carton_already_on_another_shipment_cannot_be_picked(client, staff):
    ids = two_cartons(client, staff)
    ok(create_shipment(client, staff, [ids[0]]), 201)

    response = create_shipment(client, staff, [ids[0], ids[1]], to_site=OTHER_CENTRE)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "picked"
    assert carton(client, staff, ids[1])["shipment"] is None


def test_a_picked_carton_cannot_be_used_before_dispatch(client, staff):
    ids = two_cartons(client, staff)
    ok(create_shipment(client, staff, [ids[0]]), 201)

    response = administer(client, staff, ids[0], 1)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "picked"


def test_a_carton_listed_twice_is_refused(client, staff):
    ids = two_cartons(client, staff)

    response = create_shipment(client, staff, [ids[0], ids[0]])

    assert response.status_code == 422
    assert "cartons" in response.json["error"]["fields"]


def test_a_shipment_to_the_sending_site_is_refused(client, staff):
    ids = two_cartons(client, staff)

    response = create_shipment(client, staff, ids, to_site=PHARMACY)

    assert response.status_code == 422


def test_a_shipment_from_a_pharmacy_needs_cartons(client, staff):
    response = create_shipment(client, staff, [])

    assert response.status_code == 422
    assert "cartons" in response.json["error"]["fields"]


def test_a_held_carton_cannot_be_picked(client, staff):
    ids = two_cartons(client, staff)
    ok(hold(client, staff, ids[0]))

    response = create_shipment(client, staff, ids)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "held"


def test_a_carton_held_after_picking_stops_the_dispatch(client, staff):
    ids = two_cartons(client, staff)
    shipment = ok(create_shipment(client, staff, ids), 201)
    ok(hold(client, staff, ids[1]))

    response = dispatch(client, staff, shipment["id"])

    assert response.status_code == 409
    assert response.json["error"]["code"] == "held"
    assert ok(get(client, f"/shipments/{shipment['id']}", staff))["status"] == "draft"
    assert carton(client, staff, ids[0])["in_transit"] is False


def test_proof_of_delivery_accepts_one_and_holds_the_rejected_one(client, staff, manager, clock):
    accepted, rejected = two_cartons(client, staff)
    shipment = dispatched_shipment(client, staff, [accepted, rejected])
    clock.advance(hours=2)

    received = ok(
        receive_shipment(
            client,
            manager,
            shipment["id"],
            [
                {"carton": accepted, "accepted": True},
                {"carton": rejected, "accepted": False, "reason": "cool box logger shows 14 C"},
            ],
        )
    )

    assert received["status"] == "received"
    proof = received["proof_of_delivery"]
    assert proof["received_at"] == "2026-11-21T12:00:00Z"
    assert proof["received_by"]
    assert {i["carton"]: (i["accepted"], i["reason"]) for i in proof["items"]} == {
        accepted: (True, None),
        rejected: (False, "cool box logger shows 14 C"),
    }
    good = carton(client, manager, accepted)
    assert (good["site"], good["storage_unit"], good["status"], good["in_transit"]) == (
        CENTRE,
        f"{CENTRE}-F1",
        "available",
        False,
    )
    bad = carton(client, manager, rejected)
    assert (bad["site"], bad["status"], bad["doses"]) == (CENTRE, "held", 60)
    assert bad["hold"]["kind"] == "delivery"
    assert "14 C" in bad["hold"]["reason"]
    line = stock_line(client, manager, CENTRE, GREY, "thawed")
    assert (line["available"], line["held"], line["in_transit_incoming"]) == (60, 60, 0)
    assert stock_line(client, staff, PHARMACY, GREY, "thawed")["in_transit_outgoing"] == 0


def test_received_stock_can_be_used_at_the_destination(client, staff, manager):
    ids = two_cartons(client, staff)
    shipment = dispatched_shipment(client, staff, ids)
    ok(
        receive_shipment(
            client, manager, shipment["id"], [{"carton": i, "accepted": True} for i in ids]
        )
    )

    assert ok(administer(client, manager, ids[0], 2))["doses"] == 58
    assert doses_on_hand(client, manager, CENTRE, GREY) == 118


def test_a_rejected_carton_needs_a_reason(client, staff, manager):
    ids = two_cartons(client, staff)
    shipment = dispatched_shipment(client, staff, ids)

    response = receive_shipment(
        client,
        manager,
        shipment["id"],
        [
            {"carton": ids[0], "accepted": True},
            {"carton": ids[1], "accepted": False},
        ],
    )

    assert response.status_code == 422
    assert "items.1.reason" in response.json["error"]["fields"]
    assert ok(get(client, f"/shipments/{shipment['id']}", manager))["status"] == "dispatched"


def test_receiving_without_accounting_for_every_carton_is_refused(client, staff, manager):
    ids = two_cartons(client, staff)
    shipment = dispatched_shipment(client, staff, ids)

    response = receive_shipment(
        client, manager, shipment["id"], [{"carton": ids[0], "accepted": True}]
    )

    assert response.status_code == 422
    assert "items" in response.json["error"]["fields"]
    assert ok(get(client, f"/shipments/{shipment['id']}", manager))["status"] == "dispatched"
    assert carton(client, staff, ids[0])["in_transit"] is True


def test_receiving_a_carton_not_on_the_shipment_is_refused(client, staff, manager):
    ids = two_cartons(client, staff)
    shipment = dispatched_shipment(client, staff, [ids[0]])

    response = receive_shipment(
        client,
        manager,
        shipment["id"],
        [
            {"carton": ids[0], "accepted": True},
            {"carton": ids[1], "accepted": True},
        ],
    )

    assert response.status_code == 422
    assert "items.1.carton" in response.json["error"]["fields"]


def test_receiving_into_a_unit_of_another_site_is_refused(client, staff, manager):
    ids = two_cartons(client, staff)
    shipment = dispatched_shipment(client, staff, ids)

    response = receive_shipment(
        client,
        manager,
        shipment["id"],
        [{"carton": i, "accepted": True} for i in ids],
        storage_unit=f"{PHARMACY}-F1",
    )

    assert response.status_code == 422


def test_a_draft_shipment_cannot_be_received(client, staff, manager):
    ids = two_cartons(client, staff)
    shipment = ok(create_shipment(client, staff, ids), 201)

    response = receive_shipment(
        client, manager, shipment["id"], [{"carton": i, "accepted": True} for i in ids]
    )

    assert response.status_code == 409


def test_a_shipment_is_received_once(client, staff, manager):
    ids = two_cartons(client, staff)
    shipment = dispatched_shipment(client, staff, ids)
    items = [{"carton": i, "accepted": True} for i in ids]
    ok(receive_shipment(client, manager, shipment["id"], items))

    response = receive_shipment(client, manager, shipment["id"], items)

    assert response.status_code == 409


def test_only_the_receiving_site_receives(client, staff, token):
    ids = two_cartons(client, staff)
    shipment = dispatched_shipment(client, staff, ids)
    other_manager = token("centre_manager", site=OTHER_CENTRE)

    response = receive_shipment(
        client,
        other_manager,
        shipment["id"],
        [{"carton": i, "accepted": True} for i in ids],
        storage_unit=f"{OTHER_CENTRE}-F1",
    )

    assert response.status_code in (403, 404)
    assert ok(get(client, f"/shipments/{shipment['id']}", staff))["status"] == "dispatched"


def test_a_pharmacist_ships_only_from_their_own_site(client, staff, token):
    other = token("pharmacist", site=OTHER_REGION_PHARMACY)
    ids = two_cartons(client, staff)

    assert create_shipment(client, other, ids).status_code in (403, 404)
    assert create_shipment(
        client, other, ids, from_site=OTHER_REGION_PHARMACY, to_site="RS-VC-ROSK"
    ).status_code in (404, 409)


def test_shipments_are_listed_for_the_sites_involved(client, staff, manager, token):
    ids = two_cartons(client, staff)
    shipment = dispatched_shipment(client, staff, ids)

    assert [s["id"] for s in ok(get(client, f"/shipments?site={CENTRE}", manager))] == [
        shipment["id"]
    ]
    other = token("centre_manager", site=OTHER_CENTRE)
    assert ok(get(client, "/shipments", other)) == []
    assert get(client, f"/shipments/{shipment['id']}", other).status_code == 404
