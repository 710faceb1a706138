"""Recall a lot: one call holds every unit descended from it, at every site and in transit;
the trace lists every unit, where it is, and the doses given where."""

from __future__ import annotations

import pytest

from tests.api.helpers import (
    CENTRE,
    GREY,
    OTHER_CENTRE,
    OTHER_REGION_PHARMACY,
    PHARMACY,
    administer,
    carton,
    deliver,
    dispatched_shipment,
    get,
    lot_id,
    ok,
    post,
    receive_carton,
    receive_shipment,
    release,
    repacked_cartons,
    thawed_tray,
    waste,
)


def recall(client, headers, lot: int, reason: str = "manufacturer recall 2026-11"):
    return post(client, f"/lots/{lot}/recall", headers, {"reason": reason})


@pytest.fixture
def spread_lot(client, staff, manager) -> dict:
    """Lot GK500 everywhere: the tray and a carton at the pharmacy, a carton at the Bella
    Center with 2 doses given, a carton on its way to Øksnehallen. Another lot stays apart."""
    tray = thawed_tray(client, staff, vials=40, lot="GK500")
    at_pharmacy, at_centre, on_road = repacked_cartons(client, staff, tray["id"], [10, 10, 10])
    deliver(client, staff, manager, [at_centre["id"]])
    ok(administer(client, manager, at_centre["id"], 2))
    ok(waste(client, manager, at_centre["id"], 1, "broken"))
    shipment = dispatched_shipment(client, staff, [on_road["id"]], to_site=OTHER_CENTRE)
    other_lot = receive_carton(client, staff, lot="GK501")
    return {
        "lot": lot_id(client, staff, GREY, "GK500"),
        "tray": tray["id"],
        "at_pharmacy": at_pharmacy["id"],
        "at_centre": at_centre["id"],
        "on_road": on_road["id"],
        "shipment": shipment["id"],
        "other_lot": other_lot["id"],
    }


def test_recall_holds_every_carton_of_the_lot_everywhere(client, staff, auditor, spread_lot):
    result = ok(recall(client, staff, spread_lot["lot"]))

    assert result["cartons_held"] == 4
    assert result["recalled_at"] == "2026-11-21T10:00:00Z"
    for key in ("tray", "at_pharmacy", "at_centre", "on_road"):
        recalled = carton(client, auditor, spread_lot[key])
        assert recalled["status"] == "held", key
        assert recalled["hold"]["kind"] == "recall", key
    assert carton(client, auditor, spread_lot["on_road"])["in_transit"] is True
    assert carton(client, auditor, spread_lot["other_lot"])["status"] == "available"


def test_recalled_stock_cannot_be_administered(client, staff, manager, spread_lot):
    ok(recall(client, staff, spread_lot["lot"]))

    response = administer(client, manager, spread_lot["at_centre"], 1)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "held"


def test_recalled_stock_in_transit_arrives_held(client, staff, token, spread_lot):
    ok(recall(client, staff, spread_lot["lot"]))
    receiver = token("centre_manager", site=OTHER_CENTRE)

    ok(
        receive_shipment(
            client,
            receiver,
            spread_lot["shipment"],
            [{"carton": spread_lot["on_road"], "accepted": True}],
            storage_unit=f"{OTHER_CENTRE}-F1",
        )
    )

    arrived = carton(client, receiver, spread_lot["on_road"])
    assert (arrived["site"], arrived["status"], arrived["hold"]["kind"]) == (
        OTHER_CENTRE,
        "held",
        "recall",
    )


def test_a_lot_is_recalled_once(client, staff, spread_lot):
    ok(recall(client, staff, spread_lot["lot"]))

    response = recall(client, staff, spread_lot["lot"])

    assert response.status_code == 409
    assert response.json["error"]["code"] == "already_recalled"


def test_trace_lists_every_carton_where_it_is_and_doses_given_where(
    client, staff, auditor, spread_lot
):
    ok(recall(client, staff, spread_lot["lot"]))

    trace = ok(get(client, f"/lots/{spread_lot['lot']}/trace", auditor))

    assert trace["lot"]["number"] == "GK500"
    by_id = {c["id"]: c for c in trace["cartons"]}
    assert set(by_id) == {spread_lot[k] for k in ("tray", "at_pharmacy", "at_centre", "on_road")}
    assert by_id[spread_lot["at_centre"]]["site"] == CENTRE
    assert by_id[spread_lot["at_pharmacy"]]["site"] == PHARMACY
    assert by_id[spread_lot["on_road"]]["in_transit"] is True
    assert all(c["state"] in ("thawed", "punctured") for c in by_id.values())
    assert trace["administered_by_site"] == {CENTRE: 2}
    assert trace["wasted_by_site"] == {CENTRE: 1}
    assert trace["doses_received"] == 240
    assert trace["doses_in_transit"] == 60
    assert trace["doses_on_hand"] == 240 - 60 - 3


def test_trace_conserves_doses(client, staff, auditor, spread_lot):
    trace = ok(get(client, f"/lots/{spread_lot['lot']}/trace", auditor))

    used = (
        sum(trace["administered_by_site"].values())
        + sum(trace["wasted_by_site"].values())
        + sum(trace["discarded_by_site"].values())
    )
    assert trace["doses_received"] == trace["doses_on_hand"] + trace["doses_in_transit"] + used


def test_released_recalled_carton_is_usable_again(client, admin, staff, spread_lot):
    ok(recall(client, staff, spread_lot["lot"]))

    ok(release(client, staff, spread_lot["at_pharmacy"], "recall withdrawn for this carton"))

    assert carton(client, staff, spread_lot["at_pharmacy"])["status"] == "available"


def test_centre_manager_cannot_recall_or_trace(client, manager, spread_lot):
    assert recall(client, manager, spread_lot["lot"]).status_code == 403
    assert get(client, f"/lots/{spread_lot['lot']}/trace", manager).status_code == 403


def test_recall_or_trace_of_an_unknown_lot_is_not_found(client, staff, auditor):
    assert recall(client, staff, 999999).status_code == 404
    assert get(client, "/lots/999999/trace", auditor).status_code == 404


def test_recall_needs_a_reason(client, staff, spread_lot):
    response = post(client, f"/lots/{spread_lot['lot']}/recall", staff, {})

    assert response.status_code == 422
    assert "reason" in response.json["error"]["fields"]
    assert carton(client, staff, spread_lot["tray"])["status"] == "available"


def test_coordinator_trace_shows_nothing_outside_their_region(client, admin, token):
    tray = receive_carton(client, admin, storage_unit=f"{OTHER_REGION_PHARMACY}-ULT1", lot="GK600")
    coordinator = token("coordinator", region="Hovedstaden")
    assert get(client, f"/cartons/{tray['id']}", coordinator).status_code == 404

    response = get(client, f"/lots/{lot_id(client, admin, GREY, 'GK600')}/trace", coordinator)

    assert response.status_code in (403, 404) or all(
        c["site"] != OTHER_REGION_PHARMACY for c in response.get_json()["cartons"]
    )


def test_stock_of_a_recalled_lot_received_later_is_never_usable(client, staff, spread_lot):
    ok(recall(client, staff, spread_lot["lot"]))

    response = post(
        client,
        "/receipts",
        staff,
        {
            "storage_unit": f"{PHARMACY}-ULT1",
            "vials": 10,
            "state": "ultra_frozen",
            "product": GREY,
            "lot": "GK500",
        },
    )

    assert response.status_code == 409 or response.get_json()["status"] == "held"
