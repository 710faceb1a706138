"""Who may do what, where: every role against every endpoint, with the exact answer.

Roles: admin; a pharmacist of RH-APO; the manager of RH-VC-BELLA (a centre RH-APO supplies);
a coordinator of region Hovedstaden; an auditor. Stock out of sight is "not found" (404), so
nobody learns of another site's stock; stock in sight but out of one's hands is 403."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.api.helpers import (
    CENTRE,
    FLU,
    OTHER_CENTRE,
    OTHER_REGION_PHARMACY,
    PHARMACY,
    cartons_at_centre,
    create_request,
    create_shipment,
    dispatched_shipment,
    get,
    hold,
    lot_id,
    ok,
    post,
    receipt_body,
    receive_carton,
    receive_flu,
    receive_shipment,
    thawed_tray,
)
from tests.conftest import T0

TOKENS = {
    "admin": {"role": "admin"},
    "pharmacist": {"role": "pharmacist", "site": PHARMACY},
    "centre_manager": {"role": "centre_manager", "site": CENTRE},
    "coordinator": {"role": "coordinator", "region": "Hovedstaden"},
    "auditor": {"role": "auditor"},
}
ROLES = list(TOKENS)

NEW_PRODUCT = {
    "code": "test-vaccine",
    "name": "Test vaccine",
    "programme": "influenza",
    "doses_per_vial": 1,
    "gtins": [],
    "storage_profile": {"states": {"thawed": {"min_c": 2, "max_c": 8}}},
}


@dataclass
class Cell:
    """An endpoint: `arrange` builds what it acts on (as admin, manager and pharmacist) and
    returns the call to make with the role's headers."""

    arrange: Callable
    expected: dict[str, int]


def _setup_people(client, token):
    return token("admin"), token("pharmacist", site=PHARMACY), token("centre_manager", site=CENTRE)


def pharmacy_frozen(client, admin, staff, manager):
    tray = receive_carton(client, admin)
    return lambda h: post(
        client, f"/cartons/{tray['id']}/thaw", h, {"storage_unit": f"{PHARMACY}-F1"}
    )


def pharmacy_repack(client, admin, staff, manager):
    tray = thawed_tray(client, admin)
    return lambda h: post(
        client,
        f"/cartons/{tray['id']}/repack",
        h,
        {"cartons": [{"vials": 2, "storage_unit": f"{PHARMACY}-F2"}]},
    )


def centre_carton(client, admin, staff, manager):
    return cartons_at_centre(client, staff, manager, [2])[0]


def centre_administer(client, admin, staff, manager):
    c = centre_carton(client, admin, staff, manager)
    return lambda h: post(client, f"/cartons/{c['id']}/administer", h, {"doses": 1})


def centre_waste(client, admin, staff, manager):
    c = centre_carton(client, admin, staff, manager)
    return lambda h: post(client, f"/cartons/{c['id']}/waste", h, {"doses": 1, "reason": "broken"})


def centre_hold(client, admin, staff, manager):
    c = centre_carton(client, admin, staff, manager)
    return lambda h: post(client, f"/cartons/{c['id']}/hold", h, {"reason": "alarm"})


def pharmacy_hold(client, admin, staff, manager):
    c = receive_flu(client, admin)
    return lambda h: post(client, f"/cartons/{c['id']}/hold", h, {"reason": "alarm"})


def pharmacy_release(client, admin, staff, manager):
    c = receive_flu(client, admin)
    ok(hold(client, admin, c["id"]))
    return lambda h: post(client, f"/cartons/{c['id']}/release", h, {"reason": "fine"})


def centre_release(client, admin, staff, manager):
    c = centre_carton(client, admin, staff, manager)
    ok(hold(client, admin, c["id"]))
    return lambda h: post(
        client, f"/cartons/{c['id']}/release", h, {"reason": "logger checked: fine"}
    )


def centre_discard(client, admin, staff, manager):
    c = centre_carton(client, admin, staff, manager)
    ok(hold(client, admin, c["id"]))
    return lambda h: post(
        client, f"/cartons/{c['id']}/discard", h, {"reason": "frozen in the fridge"}
    )


def pharmacy_discard(client, admin, staff, manager):
    c = receive_flu(client, admin)
    return lambda h: post(client, f"/cartons/{c['id']}/discard", h, {"reason": "dropped"})


def recall_lot(client, admin, staff, manager):
    receive_flu(client, admin, lot="VT-R")
    lot = lot_id(client, admin, FLU, "VT-R")
    return lambda h: post(client, f"/lots/{lot}/recall", h, {"reason": "manufacturer recall"})


def trace_lot(client, admin, staff, manager):
    receive_flu(client, admin, lot="VT-T")
    lot = lot_id(client, admin, FLU, "VT-T")
    return lambda h: get(client, f"/lots/{lot}/trace", h)


def request_for_centre(client, admin, staff, manager):
    return lambda h: create_request(client, h)


def approve_request(client, admin, staff, manager):
    request = ok(create_request(client, manager), 201)
    return lambda h: post(client, f"/stock-requests/{request['id']}/approve", h, {"doses": 30})


def reject_request(client, admin, staff, manager):
    request = ok(create_request(client, manager), 201)
    return lambda h: post(
        client, f"/stock-requests/{request['id']}/reject", h, {"reason": "no stock"}
    )


def ship_from_pharmacy(client, admin, staff, manager):
    c = receive_flu(client, admin)
    return lambda h: create_shipment(client, h, [c["id"]])


def dispatch_from_pharmacy(client, admin, staff, manager):
    c = receive_flu(client, admin)
    shipment = ok(create_shipment(client, admin, [c["id"]]), 201)
    return lambda h: post(client, f"/shipments/{shipment['id']}/dispatch", h)


def receive_at_centre(client, admin, staff, manager):
    c = receive_flu(client, admin)
    shipment = dispatched_shipment(client, admin, [c["id"]])
    return lambda h: receive_shipment(
        client, h, shipment["id"], [{"carton": c["id"], "accepted": True}]
    )


def receipt_at_pharmacy(client, admin, staff, manager):
    return lambda h: post(
        client,
        "/receipts",
        h,
        receipt_body(storage_unit=f"{PHARMACY}-F1", state="thawed", product=FLU, lot="VT-X"),
    )


def receipt_at_centre(client, admin, staff, manager):
    return lambda h: post(
        client,
        "/receipts",
        h,
        receipt_body(storage_unit=f"{CENTRE}-F1", state="thawed", product=FLU, lot="VT-X"),
    )


def create_product(client, admin, staff, manager):
    return lambda h: post(client, "/products", h, NEW_PRODUCT)


def patch_product(client, admin, staff, manager):
    return lambda h: client.patch(
        "/api/v1/products/vaxigriptetra", headers=h, json={"name": "VaxigripTetra 2026"}
    )


def create_site(client, admin, staff, manager):
    return lambda h: post(
        client,
        "/sites",
        h,
        {
            "code": "RH-VC-NEW",
            "name": "New centre",
            "kind": "vaccination_centre",
            "region": "Hovedstaden",
            "supplied_by": PHARMACY,
        },
    )


def create_storage_unit(client, admin, staff, manager):
    return lambda h: post(
        client,
        "/storage-units",
        h,
        {"code": f"{CENTRE}-F9", "site": CENTRE, "kind": "fridge", "min_c": 2, "max_c": 8},
    )


def read_products(client, admin, staff, manager):
    return lambda h: get(client, "/products", h)


def carton_at_pharmacy(client, admin, staff, manager):
    c = receive_flu(client, admin)
    return lambda h: get(client, f"/cartons/{c['id']}", h)


def carton_in_other_region(client, admin, staff, manager):
    c = receive_flu(client, admin, site=OTHER_REGION_PHARMACY)
    return lambda h: get(client, f"/cartons/{c['id']}", h)


def label_in_other_region(client, admin, staff, manager):
    c = receive_flu(client, admin, site=OTHER_REGION_PHARMACY)
    return lambda h: get(client, f"/cartons/{c['id']}/label", h)


def cartons_of_other_centre(client, admin, staff, manager):
    return lambda h: get(client, f"/cartons?site={OTHER_CENTRE}", h)


def cartons_of_other_region(client, admin, staff, manager):
    return lambda h: get(client, f"/cartons?site={OTHER_REGION_PHARMACY}", h)


def stock_of_other_centre(client, admin, staff, manager):
    return lambda h: get(client, f"/stock?site={OTHER_CENTRE}", h)


def stock_of_other_region(client, admin, staff, manager):
    return lambda h: get(client, f"/stock?site={OTHER_REGION_PHARMACY}", h)


def act_in_other_region(client, admin, staff, manager):
    c = receive_flu(client, admin, site=OTHER_REGION_PHARMACY)
    return lambda h: post(client, f"/cartons/{c['id']}/hold", h, {"reason": "alarm"})


def region_plan_body() -> dict:
    return {"region": "Hovedstaden", "start": T0.date().isoformat(), "days": 3, "method": "fefo"}


def plan_region(client, admin, staff, manager):
    return lambda h: post(client, "/plans", h, region_plan_body())


def read_region_plan(client, admin, staff, manager):
    region = ok(post(client, "/plans", admin, region_plan_body()), 201)
    return lambda h: get(client, f"/region-plans/{region['id']}", h)


def approve_region_plan(client, admin, staff, manager):
    region = ok(post(client, "/plans", admin, region_plan_body()), 201)
    return lambda h: post(client, f"/region-plans/{region['id']}/approve", h)


def approve_own_plan_in_region_plan(client, admin, staff, manager):
    region = ok(post(client, "/plans", admin, region_plan_body()), 201)
    own = next(p for p in region["plans"] if p["pharmacy"] == PHARMACY)
    return lambda h: post(client, f"/plans/{own['id']}/approve", h)


#                                   admin pharm  cm   coord audit
def row(*codes: int) -> dict[str, int]:
    return dict(zip(ROLES, codes, strict=True))


MATRIX: dict[str, Cell] = {
    "POST products": Cell(create_product, row(201, 403, 403, 403, 403)),
    "PATCH products": Cell(patch_product, row(200, 403, 403, 403, 403)),
    "POST sites": Cell(create_site, row(201, 403, 403, 403, 403)),
    "POST storage-units": Cell(create_storage_unit, row(201, 403, 403, 403, 403)),
    "GET products": Cell(read_products, row(200, 200, 200, 200, 200)),
    "POST receipts at the pharmacy": Cell(receipt_at_pharmacy, row(201, 201, 404, 403, 403)),
    "POST receipts at a centre supplied by it": Cell(
        receipt_at_centre, row(201, 403, 422, 403, 403)
    ),
    "thaw": Cell(pharmacy_frozen, row(200, 200, 404, 403, 403)),
    "repack": Cell(pharmacy_repack, row(201, 201, 404, 403, 403)),
    "administer at the centre": Cell(centre_administer, row(200, 403, 200, 403, 403)),
    "waste at the centre": Cell(centre_waste, row(200, 403, 200, 403, 403)),
    # the pharmacist of the pharmacy that supplies the centre holds and decides there
    "hold at the centre": Cell(centre_hold, row(200, 200, 200, 403, 403)),
    "release at the centre": Cell(centre_release, row(200, 200, 403, 403, 403)),
    "discard at the centre": Cell(centre_discard, row(200, 200, 403, 403, 403)),
    "hold at the pharmacy": Cell(pharmacy_hold, row(200, 200, 404, 403, 403)),
    "hold in another region": Cell(act_in_other_region, row(200, 404, 404, 404, 403)),
    "release": Cell(pharmacy_release, row(200, 200, 404, 403, 403)),
    "discard": Cell(pharmacy_discard, row(200, 200, 404, 403, 403)),
    "recall": Cell(recall_lot, row(200, 200, 403, 403, 403)),
    "trace": Cell(trace_lot, row(200, 200, 403, 200, 200)),
    "stock-requests create": Cell(request_for_centre, row(201, 403, 201, 403, 403)),
    "stock-requests approve": Cell(approve_request, row(200, 200, 403, 403, 403)),
    "stock-requests reject": Cell(reject_request, row(200, 200, 403, 403, 403)),
    "shipments create": Cell(ship_from_pharmacy, row(201, 201, 404, 403, 403)),
    "shipments dispatch": Cell(dispatch_from_pharmacy, row(200, 200, 404, 403, 403)),
    "shipments receive": Cell(receive_at_centre, row(200, 403, 200, 403, 403)),
    "GET carton at the pharmacy": Cell(carton_at_pharmacy, row(200, 200, 404, 200, 200)),
    "GET carton in another region": Cell(carton_in_other_region, row(200, 404, 404, 404, 200)),
    "GET label in another region": Cell(label_in_other_region, row(200, 404, 404, 404, 200)),
    "GET cartons of another centre": Cell(cartons_of_other_centre, row(200, 200, 404, 200, 200)),
    "GET cartons of another region": Cell(cartons_of_other_region, row(200, 404, 404, 404, 200)),
    "GET stock of another centre": Cell(stock_of_other_centre, row(200, 200, 404, 200, 200)),
    "GET stock of another region": Cell(stock_of_other_region, row(200, 404, 404, 404, 200)),
    "POST plans for a region": Cell(plan_region, row(201, 201, 403, 201, 403)),
    "GET a region plan": Cell(read_region_plan, row(200, 200, 404, 200, 200)),
    "approve a region plan": Cell(approve_region_plan, row(200, 403, 403, 403, 403)),
    "approve the pharmacy's own plan in a region plan": Cell(
        approve_own_plan_in_region_plan, row(200, 200, 403, 403, 403)
    ),
}

CELLS = [
    pytest.param(endpoint, role, id=f"{endpoint} as {role}")
    for endpoint in MATRIX
    for role in ROLES
]


@pytest.mark.parametrize(("endpoint", "role"), CELLS)
def test_role_against_endpoint(client, seeded, token, endpoint, role):
    admin, staff, manager = _setup_people(client, token)
    call = MATRIX[endpoint].arrange(client, admin, staff, manager)
    headers = token(**TOKENS[role], name=f"matrix-{role}")

    response = call(headers)

    assert response.status_code == MATRIX[endpoint].expected[role], response.get_json()
    if response.status_code >= 400:
        assert response.get_json()["error"]["code"]


def test_a_denied_write_changes_nothing(client, seeded, token):
    admin, staff, manager = _setup_people(client, token)
    syringes = receive_flu(client, admin)
    auditor = token("auditor")

    assert (
        post(client, f"/cartons/{syringes['id']}/administer", auditor, {"doses": 5}).status_code
        == 403
    )
    assert (
        post(client, f"/cartons/{syringes['id']}/administer", manager, {"doses": 5}).status_code
        == 404
    )

    assert ok(get(client, f"/cartons/{syringes['id']}", admin))["doses"] == 20


def test_centre_manager_cannot_see_another_sites_cartons(client, seeded, token):
    admin, staff, manager = _setup_people(client, token)
    elsewhere = token("centre_manager", site=OTHER_CENTRE)
    (mine,) = cartons_at_centre(client, staff, manager, [2])

    assert get(client, f"/cartons/{mine['id']}", elsewhere).status_code == 404
    assert ok(get(client, "/cartons", elsewhere)) == []
    assert [c["id"] for c in ok(get(client, "/cartons", manager))] == [mine["id"]]


def test_an_unknown_token_or_another_scheme_is_refused(client, seeded):
    assert get(client, "/cartons", {"Authorization": "Bearer inv_nope"}).status_code == 401
    assert get(client, "/cartons", {"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/cartons").status_code == 401
