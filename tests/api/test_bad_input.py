"""Bad input is answered with 422 and per-field messages, unknown ids with 404, and never
with a 500."""

from __future__ import annotations

import os
import threading

import pytest

from tests.api.helpers import (
    API,
    CENTRE,
    FLU,
    GREY,
    PHARMACY,
    carton,
    get,
    lot_id,
    ok,
    post,
    receipt_body,
    receive,
    receive_carton,
    receive_flu,
    thawed_tray,
)

TOO_BIG = 10**20  # larger than any database integer
ON_POSTGRES = os.environ.get("INVENTORY_TEST_DATABASE_URL", "").startswith("postgresql")


def fields_of(response) -> dict:
    assert response.status_code == 422, (response.status_code, response.get_json())
    return response.get_json()["error"]["fields"]


def test_a_body_that_is_not_json_is_refused(client, staff):
    response = client.post(
        f"{API}/receipts", headers={**staff, "Content-Type": "application/json"}, data="{not json"
    )

    assert "_body" in fields_of(response)


def test_a_json_body_sent_as_plain_text_is_refused(client, staff):
    response = client.post(
        f"{API}/receipts", headers={**staff, "Content-Type": "text/plain"}, data='{"vials": 1}'
    )

    assert response.status_code == 422


@pytest.mark.parametrize("body", [[1, 2], "receipt", 42, None])
def test_a_body_that_is_not_an_object_is_refused(client, staff, body):
    response = client.post(f"{API}/receipts", headers=staff, json=body)

    assert response.status_code == 422


def test_missing_fields_are_named_one_by_one(client, staff):
    fields = fields_of(post(client, "/receipts", staff, {}))

    assert {"storage_unit", "vials", "state"} <= set(fields)
    assert all(isinstance(messages, list) and messages for messages in fields.values())


def test_a_receipt_without_a_product_lot_or_expiry_names_them(client, staff):
    fields = fields_of(
        post(
            client,
            "/receipts",
            staff,
            {"storage_unit": f"{PHARMACY}-F1", "vials": 1, "state": "thawed"},
        )
    )

    assert "product" in fields


def test_a_receipt_by_product_needs_lot_and_expiry(client, staff):
    fields = fields_of(receive(client, staff, lot=None, expiry=None))

    assert {"lot", "expiry"} <= set(fields)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vials", "ten"),
        ("vials", 1.5),
        ("vials", True),
        ("vials", None),
        ("vials", 0),
        ("vials", -3),
        ("vials", 10**6),
        ("state", 3),
        ("storage_unit", ["a"]),
        ("expiry", "2027-02-30"),
        ("expiry", "soon"),
        ("lot", "L" * 21),
        ("lot", ""),
        ("gtin", "123"),
        ("scan", ""),
        ("thawed_at", "2026-11-21T09:00:00"),
    ],
)
def test_wrong_types_and_out_of_range_values_are_refused_by_field(client, staff, field, value):
    body = receipt_body(storage_unit=f"{PHARMACY}-F1", state="thawed", product=FLU)
    body[field] = value

    assert field in fields_of(post(client, "/receipts", staff, body))
    assert ok(get(client, "/cartons", staff)) == []


@pytest.mark.parametrize("doses", [0, -2, "2", 2.5, None, 10**9])
def test_administered_doses_must_be_a_positive_whole_number(client, staff, doses):
    tray = thawed_tray(client, staff, vials=2)

    assert "doses" in fields_of(
        post(client, f"/cartons/{tray['id']}/administer", staff, {"doses": doses})
    )
    assert carton(client, staff, tray["id"])["doses"] == 12


def test_repack_parts_are_checked_one_by_one(client, staff):
    tray = thawed_tray(client, staff, vials=10)

    fields = fields_of(
        post(
            client,
            f"/cartons/{tray['id']}/repack",
            staff,
            {"cartons": [{"vials": 2, "storage_unit": f"{PHARMACY}-F1"}, {"vials": -1}]},
        )
    )

    assert "cartons.1.vials" in fields and "cartons.1.storage_unit" in fields
    assert "cartons" in fields_of(
        post(client, f"/cartons/{tray['id']}/repack", staff, {"cartons": []})
    )
    assert "cartons" in fields_of(
        post(client, f"/cartons/{tray['id']}/repack", staff, {"cartons": "all"})
    )
    assert carton(client, staff, tray["id"])["vials"] == 10


def test_a_thaw_cannot_start_in_the_future(client, staff):
    tray = receive_carton(client, staff)

    fields = fields_of(
        post(client, f"/cartons/{tray['id']}/thaw", staff, {"at": "2026-11-21T11:00:00Z"})
    )

    assert "at" in fields


def test_stock_request_fields_are_checked(client, manager):
    fields = fields_of(
        post(
            client,
            "/stock-requests",
            manager,
            {"site": 5, "product": [], "doses": -1, "needed_on": "tomorrow"},
        )
    )

    assert {"site", "product", "doses", "needed_on"} <= set(fields)


def test_shipment_fields_are_checked(client, staff):
    fields = fields_of(
        post(client, "/shipments", staff, {"from_site": PHARMACY, "cartons": ["one"]})
    )

    assert "to_site" in fields and any(name.startswith("cartons") for name in fields)


def test_proof_of_delivery_fields_are_checked(client, staff):
    fields = fields_of(post(client, "/shipments/1/receive", staff, {"items": [{"carton": "x"}]}))

    assert {"storage_unit", "items.0.carton", "items.0.accepted"} <= set(fields)


@pytest.mark.parametrize(
    "path",
    [
        "/cartons/424242",
        "/cartons/424242/label",
        "/lots/424242/trace",
        "/shipments/424242",
        "/stock-requests/424242",
        "/products/no-such-thing",
    ],
)
def test_unknown_ids_are_not_found(client, admin, path):
    response = get(client, path, admin)

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/cartons/424242/administer", {"doses": 1}),
        ("/lots/424242/recall", {"reason": "x"}),
        ("/shipments/424242/dispatch", {}),
        (
            "/shipments/424242/receive",
            {"storage_unit": f"{CENTRE}-F1", "items": [{"carton": 1, "accepted": True}]},
        ),
        ("/stock-requests/424242/approve", {}),
        ("/stock-requests/424242/reject", {"reason": "x"}),
    ],
)
def test_acting_on_unknown_ids_is_not_found(client, admin, path, body):
    assert post(client, path, admin, body).status_code == 404


def test_unknown_names_in_a_body_are_not_found_with_the_field(client, staff):
    response = receive(client, staff, product="no-such-vaccine")

    assert response.status_code == 404
    assert "product" in response.get_json()["error"]["fields"]


def test_an_unknown_route_is_a_json_404(client, staff):
    response = get(client, "/no-such-thing", staff)

    assert response.status_code == 404
    assert response.get_json()["error"]["code"]


def test_a_wrong_method_is_a_json_405(client, staff):
    response = client.delete(f"{API}/products", headers=staff)

    assert response.status_code == 405
    assert response.get_json()["error"]["code"]


@pytest.mark.parametrize("method", ["delete", "post"])
def test_an_id_beyond_the_range_is_not_found_under_any_method(client, admin, method):
    # GET and DELETE of a shipment are two rules; neither may turn this into a 405
    response = getattr(client, method)(f"{API}/shipments/{2**31}", headers=admin)

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_stock_filters_never_fail(client, staff):
    assert get(client, f"/stock?site={PHARMACY}&junk=1", staff).status_code == 200
    assert get(client, "/cartons?site=&product=", staff).status_code == 200


# ------------------------------------------------------- edges of the integer and date ranges


@pytest.mark.parametrize(
    "path",
    [
        f"/cartons/{TOO_BIG}",
        f"/lots/{TOO_BIG}/trace",
        f"/shipments/{TOO_BIG}",
        f"/stock-requests/{TOO_BIG}",
    ],
)
def test_an_id_too_large_for_the_database_is_not_found(client, admin, path):
    assert get(client, path, admin).status_code == 404


def test_carton_ids_too_large_for_the_database_are_refused(client, staff):
    tray = receive_flu(client, staff)

    picked = post(
        client,
        "/shipments",
        staff,
        {"from_site": PHARMACY, "to_site": CENTRE, "cartons": [TOO_BIG]},
    )
    requested = post(
        client,
        "/shipments",
        staff,
        {"from_site": PHARMACY, "to_site": CENTRE, "cartons": [tray["id"]], "request": TOO_BIG},
    )
    against = receive(client, staff, shipment=TOO_BIG)

    assert [picked.status_code, requested.status_code, against.status_code] in (
        [404, 404, 422],
        [422, 422, 422],
    )


def test_an_absurd_expiry_is_refused(client, staff):
    response = receive(
        client,
        staff,
        product=FLU,
        lot="VT9",
        storage_unit=f"{PHARMACY}-F1",
        state="thawed",
        expiry=__import__("datetime").date(9999, 12, 31),
    )

    assert "expiry" in fields_of(response)


def test_a_receipt_cannot_say_it_was_thawed_in_the_future(client, staff):
    response = receive(
        client,
        staff,
        storage_unit=f"{PHARMACY}-F1",
        state="thawed",
        lot="GK9",
        thawed_at="2026-12-20T00:00:00Z",
    )

    assert "thawed_at" in fields_of(response)
    assert ok(get(client, "/cartons", staff)) == []


@pytest.mark.parametrize("field", ["lot", "storage_unit", "product"])
def test_a_nul_character_in_a_text_field_never_fails(client, staff, field):
    body = receipt_body(storage_unit=f"{PHARMACY}-F1", state="thawed", product=FLU, lot="VT1")
    body[field] = body[field][:2] + "\x00" + body[field][2:]

    response = post(client, "/receipts", staff, body)

    assert response.status_code in (201, 404, 422)


def test_simultaneous_posts_with_one_key_make_one_carton_and_never_fail(app, client, staff):
    receive_carton(client, staff, lot="GK-RACE")  # the lot exists: only the key can collide
    outcomes = []
    for attempt in range(10):
        headers = {**staff, "Idempotency-Key": f"same-moment-{attempt}"}
        barrier = threading.Barrier(2)
        answers: list = [None, None]

        def post_receipt(index, barrier=barrier, answers=answers, headers=headers):
            own = app.test_client()
            barrier.wait()
            try:
                answers[index] = str(
                    own.post(
                        f"{API}/receipts", headers=headers, json=receipt_body(lot="GK-RACE")
                    ).status_code
                )
            except Exception as exc:  # the server produced no answer at all
                answers[index] = type(exc).__name__

        threads = [threading.Thread(target=post_receipt, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        outcomes.append(sorted(answers))

    assert all(pair in (["201", "201"], ["201", "409"]) for pair in outcomes), outcomes
    assert len(ok(get(client, f"/cartons?product={GREY}", staff))) == 1 + 10


def test_lot_lookup_by_number_is_exact(client, staff):
    receive_flu(client, staff, lot="VT1")

    assert lot_id(client, staff, FLU, "VT1")
    assert ok(get(client, "/lots?number=VT", staff)) == []
