"""Idempotency-Key: a retried POST returns the first answer and moves nothing twice."""

from __future__ import annotations

from tests.api.helpers import (
    CENTRE,
    GREY,
    PHARMACY,
    carton,
    cartons_at_centre,
    create_shipment,
    get,
    ok,
    post,
    receipt_body,
    repacked_cartons,
    thawed_tray,
)


def with_key(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}


def test_a_retried_receipt_returns_the_same_carton_and_creates_one(client, staff, clock):
    headers = with_key(staff, "receipt-0001")
    first = post(client, "/receipts", headers, receipt_body(vials=195))
    clock.advance(minutes=5)

    retry = post(client, "/receipts", headers, receipt_body(vials=195))

    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    listed = ok(get(client, "/cartons", staff))
    assert [c["id"] for c in listed] == [first.get_json()["id"]]
    lots = ok(get(client, f"/lots?product={GREY}&number=GK001", staff))
    trace = ok(get(client, f"/lots/{lots[0]['id']}/trace", staff))
    assert trace["doses_received"] == 195 * 6


def test_a_different_key_makes_a_second_receipt(client, staff):
    ok(post(client, "/receipts", with_key(staff, "a"), receipt_body()), 201)
    ok(post(client, "/receipts", with_key(staff, "b"), receipt_body()), 201)

    assert len(ok(get(client, "/cartons", staff))) == 2


def test_a_retried_administer_moves_doses_once(client, staff, manager):
    (one,) = cartons_at_centre(client, staff, manager, [2])
    headers = with_key(manager, "shot-17")

    first = ok(post(client, f"/cartons/{one['id']}/administer", headers, {"doses": 2}))
    retry = ok(post(client, f"/cartons/{one['id']}/administer", headers, {"doses": 2}))

    assert first == retry
    assert first["doses"] == 10
    assert carton(client, manager, one["id"])["doses"] == 10
    history = carton(client, manager, one["id"])["history"]
    assert [e["kind"] for e in history].count("administer") == 1


def test_same_key_with_a_different_body_is_refused(client, staff, manager):
    (one,) = cartons_at_centre(client, staff, manager, [2])
    headers = with_key(manager, "shot-18")
    ok(post(client, f"/cartons/{one['id']}/administer", headers, {"doses": 2}))

    response = post(client, f"/cartons/{one['id']}/administer", headers, {"doses": 3})

    assert response.status_code == 422
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert carton(client, manager, one["id"])["doses"] == 10


def test_same_key_on_another_path_is_refused(client, staff):
    headers = with_key(staff, "k-1")
    tray = ok(post(client, "/receipts", headers, receipt_body()), 201)

    response = post(
        client, f"/cartons/{tray['id']}/thaw", headers, {"storage_unit": f"{PHARMACY}-F1"}
    )

    assert response.status_code == 422
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert carton(client, staff, tray["id"])["state"] == "ultra_frozen"


def test_a_failed_request_does_not_burn_the_key(client, staff, manager):
    (one,) = cartons_at_centre(client, staff, manager, [2])
    headers = with_key(manager, "shot-19")
    assert (
        post(client, f"/cartons/{one['id']}/administer", headers, {"doses": 99}).status_code == 409
    )

    retry = post(client, f"/cartons/{one['id']}/administer", headers, {"doses": 99})

    assert retry.status_code == 409
    assert carton(client, manager, one["id"])["doses"] == 12


def test_keys_belong_to_one_token(client, staff, token):
    other = token("pharmacist", site=PHARMACY, name="second pharmacist")
    ok(post(client, "/receipts", with_key(staff, "shared"), receipt_body()), 201)

    second = ok(post(client, "/receipts", with_key(other, "shared"), receipt_body()), 201)

    assert len(ok(get(client, "/cartons", staff))) == 2
    assert second["id"]


def test_a_retried_repack_makes_the_children_once(client, staff):
    tray = thawed_tray(client, staff, vials=20)
    headers = with_key(staff, "repack-1")
    body = {"cartons": [{"vials": 10, "storage_unit": f"{PHARMACY}-F1"}]}

    first = ok(post(client, f"/cartons/{tray['id']}/repack", headers, body), 201)
    retry = ok(post(client, f"/cartons/{tray['id']}/repack", headers, body), 201)

    assert retry == first
    assert carton(client, staff, tray["id"])["vials"] == 10
    assert len(carton(client, staff, tray["id"])["children"]) == 1


def test_a_retried_shipment_is_created_once(client, staff):
    tray = thawed_tray(client, staff, vials=20)
    (picked,) = repacked_cartons(client, staff, tray["id"], [10])
    headers = with_key(staff, "ship-1")

    first = ok(create_shipment(client, headers, [picked["id"]]), 201)
    retry = ok(create_shipment(client, headers, [picked["id"]]), 201)

    assert retry["id"] == first["id"]
    assert [s["id"] for s in ok(get(client, f"/shipments?site={CENTRE}", staff))] == [first["id"]]


def test_an_overlong_key_is_refused(client, staff):
    response = post(client, "/receipts", with_key(staff, "k" * 201), receipt_body())

    assert response.status_code == 422
    assert ok(get(client, "/cartons", staff)) == []
