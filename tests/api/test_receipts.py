"""Receiving vials into a storage unit: from typed fields or from a scanner's GS1 string."""

from __future__ import annotations

from datetime import date

from inventory.domain import gs1
from tests.api.helpers import (
    FLU,
    GREY,
    PHARMACY,
    create_shipment,
    get,
    gtin_of,
    ok,
    post,
    receive,
    receive_carton,
)

GS = "\x1d"


def scan_receipt(
    client,
    headers,
    scan: str,
    *,
    storage_unit: str = f"{PHARMACY}-ULT1",
    vials: int = 10,
    state: str = "ultra_frozen",
):
    return post(
        client,
        "/receipts",
        headers,
        {"storage_unit": storage_unit, "vials": vials, "state": state, "scan": scan},
    )


def test_receipt_from_fields_creates_an_available_carton(client, staff):
    carton = receive_carton(client, staff, vials=195, lot="GK100", expiry=date(2027, 6, 30))

    assert carton["product"] == GREY
    assert carton["lot"] == "GK100"
    assert carton["expiry"] == "2027-06-30"
    assert carton["state"] == "ultra_frozen"
    assert carton["status"] == "available"
    assert carton["vials"] == 195
    assert carton["doses"] == 195 * 6
    assert carton["site"] == PHARMACY
    assert carton["storage_unit"] == f"{PHARMACY}-ULT1"
    assert carton["parent"] is None and carton["children"] == []


def test_receipt_by_gtin_finds_the_product(client, staff):
    carton = receive_carton(
        client,
        staff,
        product=None,
        gtin=gtin_of(FLU),
        storage_unit=f"{PHARMACY}-F1",
        state="thawed",
        vials=50,
        lot="VT123",
    )

    assert carton["product"] == FLU
    assert carton["doses"] == 50


def test_receipt_from_a_scan_with_prefix_and_group_separators(client, staff):
    scan = "]d2" + "01" + gtin_of(GREY) + "17" + "270600" + "10" + "GK200" + GS + "21" + "SER42"

    carton = ok(scan_receipt(client, staff, scan), 201)

    assert carton["product"] == GREY
    assert carton["lot"] == "GK200"
    assert carton["expiry"] == "2027-06-30"  # day 00: the last day of the month
    assert carton["serial"] == "SER42"


def test_day_00_expiry_in_february_is_the_last_day_of_february(client, staff):
    scan = "]d2" + "01" + gtin_of(GREY) + "17" + "280200" + "10" + "GK201"

    carton = ok(scan_receipt(client, staff, scan), 201)

    assert carton["expiry"] == "2028-02-29"


def test_scan_built_by_the_encoder_is_read_back(client, staff):
    scan = gs1.encode(gtin_of(GREY, 1), lot="GK202", expiry=date(2027, 3, 15), serial="A1")

    carton = ok(scan_receipt(client, staff, scan), 201)

    assert (carton["product"], carton["lot"], carton["expiry"]) == (GREY, "GK202", "2027-03-15")


def test_scan_with_a_bad_check_digit_is_refused_with_a_scan_message(client, staff):
    good = gtin_of(GREY)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    scan = "]d2" + "01" + bad + "17" + "270630" + "10" + "GK300"

    response = scan_receipt(client, staff, scan)

    assert response.status_code == 422
    assert response.json["error"]["fields"]["scan"]
    assert ok(get(client, "/cartons", staff)) == []


def test_garbage_scan_is_a_422_not_a_500(client, staff):
    response = scan_receipt(client, staff, "]d2hello world")

    assert response.status_code == 422
    assert "scan" in response.json["error"]["fields"]


def test_scan_of_a_gtin_no_product_has_is_refused(client, staff):
    unknown = "0209912099999" + str(gs1.check_digit("0209912099999"))
    response = scan_receipt(client, staff, "]d2" + "01" + unknown + "17" + "270630" + "10" + "X1")

    assert response.status_code == 422
    assert "scan" in response.json["error"]["fields"]


def test_scan_without_expiry_for_a_known_lot_keeps_the_stored_expiry(client, staff):
    receive_carton(client, staff, lot="GK400", expiry=date(2027, 5, 31))

    carton = ok(scan_receipt(client, staff, gs1.encode(gtin_of(GREY), lot="GK400")), 201)

    assert carton["lot"] == "GK400"
    assert carton["expiry"] == "2027-05-31"
    lots = ok(get(client, f"/lots?product={GREY}&number=GK400", staff))
    assert [lot["expiry"] for lot in lots] == ["2027-05-31"]


def test_scan_without_expiry_for_an_unknown_lot_is_refused(client, staff):
    response = scan_receipt(client, staff, gs1.encode(gtin_of(GREY), lot="NEW1"))

    assert response.status_code == 422
    assert "expiry" in response.json["error"]["fields"]
    assert ok(get(client, "/lots?number=NEW1", staff)) == []


def test_scan_without_a_lot_is_refused(client, staff):
    response = scan_receipt(client, staff, gs1.encode(gtin_of(GREY), expiry=date(2027, 6, 30)))

    assert response.status_code == 422
    assert "lot" in response.json["error"]["fields"]


def test_receipt_with_a_different_expiry_than_the_known_lot_is_a_conflict(client, staff):
    receive_carton(client, staff, lot="GK500", expiry=date(2027, 5, 31))

    response = receive(client, staff, lot="GK500", expiry=date(2027, 6, 30))

    assert response.status_code == 409
    assert response.json["error"]["code"] == "expiry_mismatch"


def test_receipt_of_an_expired_lot_is_refused(client, staff):
    response = receive(client, staff, lot="OLD1", expiry=date(2026, 11, 1))

    assert response.status_code == 409
    assert response.json["error"]["code"] == "expired"


def test_receipt_into_an_unknown_storage_unit_is_not_found(client, staff):
    response = receive(client, staff, storage_unit="NO-SUCH-UNIT")

    assert response.status_code == 404


def test_frozen_stock_cannot_go_into_a_fridge(client, staff):
    response = receive(client, staff, storage_unit=f"{PHARMACY}-F1", state="ultra_frozen")

    assert response.status_code == 422
    assert "storage_unit" in response.json["error"]["fields"]
    assert ok(get(client, "/cartons", staff)) == []


def test_thawed_stock_cannot_go_into_an_ultra_low_freezer(client, staff):
    response = receive(client, staff, storage_unit=f"{PHARMACY}-ULT1", state="thawed")

    assert response.status_code == 422
    assert "storage_unit" in response.json["error"]["fields"]


def test_a_fridge_only_product_cannot_be_received_frozen(client, staff):
    response = receive(
        client, staff, product=FLU, lot="VT9", storage_unit=f"{PHARMACY}-FRZ1", state="frozen"
    )

    assert response.status_code == 422
    assert "state" in response.json["error"]["fields"]


def test_unknown_state_is_refused_with_a_state_message(client, staff):
    response = receive(client, staff, state="lukewarm")

    assert response.status_code == 422
    assert "state" in response.json["error"]["fields"]


def test_gtin_that_belongs_to_another_product_is_refused(client, staff):
    response = receive(client, staff, product=GREY, gtin=gtin_of(FLU))

    assert response.status_code == 422
    assert "gtin" in response.json["error"]["fields"]


def test_manager_of_a_centre_supplied_by_a_pharmacy_cannot_receive(client, manager):
    response = receive(
        client, manager, product=FLU, lot="VT1", storage_unit="RH-VC-BELLA-F1", state="thawed"
    )

    assert response.status_code in (403, 422)
    assert ok(get(client, "/cartons", manager)) == []


def test_hospital_pharmacies_are_supplied_by_ssi(client, staff):
    sites = {s["code"]: s for s in ok(get(client, "/sites?kind=hospital_pharmacy", staff))}

    assert sites[PHARMACY]["supplied_by"] == "SSI"
    assert {s["supplied_by"] for s in sites.values()} == {"SSI"}


def test_receipt_against_an_ssi_advance_notice_closes_the_shipment(client, admin, staff):
    notice = ok(create_shipment(client, admin, [], from_site="SSI", to_site=PHARMACY), 201)

    carton = receive_carton(client, staff, shipment=notice["id"])

    assert carton["status"] == "available"
    shipment = ok(get(client, f"/shipments/{notice['id']}", staff))
    assert shipment["status"] == "received"


def test_receipt_against_an_already_closed_ssi_shipment_is_a_conflict(client, admin, staff):
    notice = ok(create_shipment(client, admin, [], from_site="SSI", to_site=PHARMACY), 201)
    receive_carton(client, staff, shipment=notice["id"])

    response = receive(client, staff, lot="GK002", shipment=notice["id"])

    assert response.status_code == 409
