"""Stock views: cartons on hand first-expiry-first-out, with filters; doses per product and
state at a site."""

from __future__ import annotations

from datetime import date

from tests.api.helpers import (
    CENTRE,
    FLU,
    GREY,
    OTHER_REGION_PHARMACY,
    PHARMACY,
    PNEUMO,
    administer,
    discard,
    get,
    hold,
    ok,
    receive_carton,
    receive_flu,
    thawed_tray,
)


def ids(cartons: list[dict]) -> list[int]:
    return [c["id"] for c in cartons]


def test_cartons_are_listed_expiring_soonest_first(client, staff):
    late = receive_flu(client, staff, lot="VT-LATE", expiry=date(2027, 9, 30))
    early = receive_flu(client, staff, lot="VT-EARLY", expiry=date(2027, 1, 31))
    middle = receive_flu(client, staff, lot="VT-MID", expiry=date(2027, 4, 30))
    thawed = thawed_tray(
        client, staff, lot="GK001", expiry=date(2027, 9, 30)
    )  # BUD 2027-01-30: first

    listed = ok(get(client, "/cartons", staff))

    assert ids(listed) == [thawed["id"], early["id"], middle["id"], late["id"]]
    buds = [c["bud"] for c in listed]
    assert buds == sorted(buds)
    assert listed[0]["days_left"] == 70.0


def test_cartons_filter_by_product_state_status_and_storage_unit(client, staff):
    flu = receive_flu(client, staff)
    pneumo = receive_carton(
        client,
        staff,
        product=PNEUMO,
        lot="PV1",
        storage_unit=f"{PHARMACY}-F2",
        state="thawed",
        vials=10,
    )
    frozen = receive_carton(client, staff, lot="GK002")
    held = receive_flu(client, staff, lot="VT002")
    ok(hold(client, staff, held["id"]))

    assert ids(ok(get(client, f"/cartons?product={PNEUMO}", staff))) == [pneumo["id"]]
    assert ids(ok(get(client, "/cartons?state=ultra_frozen", staff))) == [frozen["id"]]
    assert ids(ok(get(client, "/cartons?status=held", staff))) == [held["id"]]
    assert ids(ok(get(client, f"/cartons?storage_unit={PHARMACY}-F2", staff))) == [pneumo["id"]]
    assert set(ids(ok(get(client, f"/cartons?site={PHARMACY}&product={FLU}", staff)))) == {
        flu["id"],
        held["id"],
    }
    assert ok(get(client, f"/cartons?site={CENTRE}", staff)) == []


def test_used_up_and_discarded_cartons_leave_the_default_list(client, staff):
    used = receive_flu(client, staff, vials=2, lot="VT1")
    gone = receive_flu(client, staff, vials=2, lot="VT2")
    kept = receive_flu(client, staff, vials=2, lot="VT3")
    ok(administer(client, staff, used["id"], 2))
    ok(discard(client, staff, gone["id"]))

    assert ids(ok(get(client, "/cartons", staff))) == [kept["id"]]
    assert ids(ok(get(client, "/cartons?status=consumed", staff))) == [used["id"]]
    assert ids(ok(get(client, "/cartons?status=discarded", staff))) == [gone["id"]]


def test_unknown_filter_values_are_refused_or_not_found(client, staff):
    assert get(client, "/cartons?status=lost", staff).status_code == 422
    assert get(client, "/cartons?state=melted", staff).status_code == 422
    assert get(client, "/cartons?site=NOWHERE", staff).status_code == 404
    assert get(client, "/cartons?storage_unit=NOWHERE", staff).status_code == 404


def test_stock_per_product_and_state_at_a_site(client, staff):
    receive_flu(client, staff, vials=30)
    held = receive_flu(client, staff, vials=5, lot="VT002")
    ok(hold(client, staff, held["id"]))
    receive_carton(client, staff, vials=10, lot="GK002")
    thawed_tray(client, staff, vials=4, lot="GK003")

    view = ok(get(client, f"/stock?site={PHARMACY}", staff))

    assert view["site"] == PHARMACY
    lines = {(line["product"], line["state"]): line for line in view["lines"]}
    assert set(lines) == {(FLU, "thawed"), (GREY, "ultra_frozen"), (GREY, "thawed")}
    flu = lines[(FLU, "thawed")]
    assert (flu["available"], flu["held"], flu["on_hand"], flu["cartons"]) == (30, 5, 35, 2)
    assert lines[(GREY, "ultra_frozen")]["on_hand"] == 60
    assert lines[(GREY, "thawed")]["on_hand"] == 24
    assert lines[(GREY, "thawed")]["earliest_bud"] == "2027-01-30T10:00:00Z"


def test_stock_view_needs_a_site(client, staff):
    response = get(client, "/stock", staff)

    assert response.status_code == 422
    assert "site" in response.json["error"]["fields"]


def test_stock_of_an_unknown_site_is_not_found(client, staff):
    assert get(client, "/stock?site=NOWHERE", staff).status_code == 404


def test_stock_of_a_site_outside_ones_scope_is_not_found(client, manager, staff, token):
    assert get(client, f"/stock?site={PHARMACY}", manager).status_code == 404
    assert get(client, f"/stock?site={OTHER_REGION_PHARMACY}", staff).status_code == 404
    coordinator = token("coordinator", region="Hovedstaden")
    assert get(client, f"/stock?site={OTHER_REGION_PHARMACY}", coordinator).status_code == 404
    assert get(client, f"/stock?site={PHARMACY}", coordinator).status_code == 200


def test_pharmacist_list_covers_their_region_only(client, staff, admin):
    mine = receive_flu(client, staff)
    receive_flu(client, admin, site=OTHER_REGION_PHARMACY)

    assert ids(ok(get(client, "/cartons", staff))) == [mine["id"]]
    assert len(ok(get(client, "/cartons", admin))) == 2
