"""What is done to a carton: thaw, repack, label, administer and waste, hold and its decisions."""

from __future__ import annotations

from datetime import date

import pytest

from tests.api.helpers import (
    CENTRE,
    GREY,
    PHARMACY,
    administer,
    carton,
    cartons_at_centre,
    discard,
    doses_on_hand,
    get,
    hold,
    ok,
    receive_carton,
    receive_flu,
    release,
    repack,
    repacked_cartons,
    statements_of,
    thaw,
    thawed_tray,
    waste,
)

THAWED_AT = "2026-11-21T10:00:00Z"
GREY_BUD = "2027-01-30T10:00:00Z"  # thawed + 10 weeks in the fridge


# ------------------------------------------------------------------ thaw


def test_thawing_starts_the_fridge_clock(client, staff):
    tray = receive_carton(client, staff)

    thawed = ok(thaw(client, staff, tray["id"]))

    assert thawed["state"] == "thawed"
    assert thawed["thawed_at"] == THAWED_AT
    assert thawed["bud"] == GREY_BUD
    assert thawed["storage_unit"] == f"{PHARMACY}-F1"


def test_thawed_stock_is_never_thawed_again(client, staff, clock):
    tray = thawed_tray(client, staff)
    clock.advance(hours=3)

    response = thaw(client, staff, tray["id"])

    assert response.status_code == 409
    assert carton(client, staff, tray["id"])["thawed_at"] == THAWED_AT


def test_thawing_into_a_freezer_is_refused(client, staff):
    tray = receive_carton(client, staff)

    response = thaw(client, staff, tray["id"], storage_unit=f"{PHARMACY}-ULT2")

    assert response.status_code == 422
    assert carton(client, staff, tray["id"])["state"] == "ultra_frozen"


def test_thawing_into_a_unit_at_another_site_is_refused(client, staff):
    tray = receive_carton(client, staff)

    response = thaw(client, staff, tray["id"], storage_unit=f"{CENTRE}-F1")

    assert response.status_code in (404, 422)
    assert carton(client, staff, tray["id"])["state"] == "ultra_frozen"


# ------------------------------------------------------------------ repack


def test_repacked_children_keep_lot_and_expiry_and_inherit_the_thaw(client, staff, clock):
    tray = thawed_tray(client, staff, vials=30, lot="GK777", expiry=date(2027, 6, 30))
    clock.advance(hours=5)

    result = ok(
        repack(client, staff, tray["id"], [(10, f"{PHARMACY}-F1"), (10, f"{PHARMACY}-F2")]), 201
    )

    children = result["cartons"]
    assert [c["vials"] for c in children] == [10, 10]
    assert [c["doses"] for c in children] == [60, 60]
    assert [c["storage_unit"] for c in children] == [f"{PHARMACY}-F1", f"{PHARMACY}-F2"]
    for child in children:
        assert child["lot"] == "GK777"
        assert child["expiry"] == "2027-06-30"
        assert (
            child["thawed_at"] == THAWED_AT
        )  # the thaw clock started at the parent's thaw, not the repack
        assert child["bud"] == GREY_BUD
        assert child["state"] == "thawed"
        assert child["parent"] == tray["id"]
    assert result["parent"]["vials"] == 10
    assert result["parent"]["doses"] == 60
    assert sorted(result["parent"]["children"]) == sorted(c["id"] for c in children)


def test_lineage_is_queryable_both_ways(client, staff):
    tray = thawed_tray(client, staff, vials=20)
    first, second = repacked_cartons(client, staff, tray["id"], [10, 5])
    (grandchild,) = repacked_cartons(client, staff, first["id"], [4])

    parent_view = carton(client, staff, tray["id"])
    child_view = carton(client, staff, first["id"])
    grandchild_view = carton(client, staff, grandchild["id"])

    descendants = parent_view["lineage"]["descendants"]
    assert sorted(d["id"] for d in descendants) == sorted([first["id"], second["id"]])
    first_entry = next(d for d in descendants if d["id"] == first["id"])
    assert [d["id"] for d in first_entry["children"]] == [grandchild["id"]]
    assert [a["id"] for a in child_view["lineage"]["ancestors"]] == [tray["id"]]
    assert [a["id"] for a in grandchild_view["lineage"]["ancestors"]] == [first["id"], tray["id"]]
    assert grandchild_view["parent"] == first["id"]
    assert child_view["children"] == [grandchild["id"]]


def test_a_cartons_page_takes_the_same_few_queries_however_long_its_lineage(app, client, staff):
    tray = thawed_tray(client, staff, vials=30)
    (child,) = repacked_cartons(client, staff, tray["id"], [10])
    carton(client, staff, tray["id"])  # the token is known from here on
    short = statements_of(app, lambda: carton(client, staff, child["id"]))
    middle = child
    for sizes in ([4, 3, 2], [2, 1]):  # deeper and wider, with history on every carton
        middle = repacked_cartons(client, staff, middle["id"], sizes)[0]
    administer(client, staff, middle["id"], doses=2)

    deep = statements_of(app, lambda: carton(client, staff, child["id"]))
    page = carton(client, staff, middle["id"])

    assert deep == short <= 6
    assert [a["id"] for a in page["lineage"]["ancestors"]][-2:] == [child["id"], tray["id"]]
    assert page["history"][0]["to_storage_unit"] == f"{PHARMACY}-F1"


def test_repacking_every_vial_leaves_an_empty_consumed_parent(client, staff):
    tray = thawed_tray(client, staff, vials=10)

    result = ok(
        repack(client, staff, tray["id"], [(5, f"{PHARMACY}-F1"), (5, f"{PHARMACY}-F1")]), 201
    )

    assert result["parent"]["vials"] == 0
    assert result["parent"]["doses"] == 0
    assert result["parent"]["status"] == "consumed"
    assert doses_on_hand(client, staff, PHARMACY, GREY) == 60


def test_repacking_more_vials_than_the_carton_holds_is_a_conflict(client, staff):
    tray = thawed_tray(client, staff, vials=10)

    response = repack(client, staff, tray["id"], [(6, f"{PHARMACY}-F1"), (6, f"{PHARMACY}-F1")])

    assert response.status_code == 409
    assert response.json["error"]["code"] == "insufficient_vials"
    assert carton(client, staff, tray["id"])["children"] == []


def test_repacking_frozen_stock_into_a_fridge_is_refused(client, staff):
    tray = receive_carton(client, staff, vials=10)

    response = repack(client, staff, tray["id"], [(5, f"{PHARMACY}-F1")])

    assert response.status_code == 422
    assert carton(client, staff, tray["id"])["vials"] == 10


def test_repack_into_an_unknown_unit_names_the_part(client, staff):
    tray = thawed_tray(client, staff, vials=10)

    response = repack(client, staff, tray["id"], [(5, f"{PHARMACY}-F1"), (5, "NOWHERE")])

    assert response.status_code == 404
    assert "cartons.1.storage_unit" in response.json["error"]["fields"]
    assert carton(client, staff, tray["id"])["vials"] == 10


def test_label_shows_product_lot_doses_state_and_bud(client, staff):
    tray = thawed_tray(client, staff, vials=20, lot="GK888")
    (child,) = repacked_cartons(client, staff, tray["id"], [10])

    response = get(client, f"/cartons/{child['id']}/label", staff)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Comirnaty Original/Omicron BA.4-5" in html
    assert "GK888" in html
    assert ">60<" in html  # doses
    assert "2027-01-30 10:00" in html  # BUD
    assert "THAWED" in html


def test_label_of_a_held_carton_says_do_not_use(client, staff):
    tray = thawed_tray(client, staff)
    ok(hold(client, staff, tray["id"]))

    html = get(client, f"/cartons/{tray['id']}/label", staff).get_data(as_text=True)

    assert "DO NOT USE" in html


# ------------------------------------------------------------------ administer and waste


@pytest.fixture
def centre_carton(client, staff, manager) -> dict:
    """A thawed grey-cap carton of 2 vials (12 doses) at the Bella Center fridge."""
    (one,) = cartons_at_centre(client, staff, manager, [2])
    return one


def test_opening_a_multi_dose_vial_starts_its_in_use_clock(client, manager, centre_carton):
    after = ok(administer(client, manager, centre_carton["id"], 2))

    assert after["doses"] == 10
    assert after["state"] == "punctured"
    assert after["open_vial"]["doses"] == 4
    assert after["open_vial"]["opened_at"] == THAWED_AT
    assert after["open_vial"]["bud"] == "2026-11-21T22:00:00Z"  # 12 h in use
    assert after["vials"] == 2


def test_doses_come_from_the_open_vial_first(client, manager, centre_carton):
    ok(administer(client, manager, centre_carton["id"], 2))

    after = ok(administer(client, manager, centre_carton["id"], 4))

    assert after["doses"] == 6
    assert after["vials"] == 1
    assert after["open_vial"] is None
    assert after["state"] == "thawed"


def test_open_vial_past_its_in_use_window_cannot_be_used(client, manager, centre_carton, clock):
    ok(administer(client, manager, centre_carton["id"], 2))
    clock.advance(hours=13)

    response = administer(client, manager, centre_carton["id"], 1)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "open_vial_expired"
    assert carton(client, manager, centre_carton["id"])["doses"] == 10


def test_open_vial_past_its_window_is_wasted_then_fresh_vials_are_usable(
    client, manager, centre_carton, clock
):
    ok(administer(client, manager, centre_carton["id"], 2))
    clock.advance(hours=13)

    wasted = ok(waste(client, manager, centre_carton["id"], 4, "open_vial"))
    assert wasted["doses"] == 6
    assert wasted["open_vial"] is None
    assert wasted["vials"] == 1

    after = ok(administer(client, manager, centre_carton["id"], 1))
    assert after["doses"] == 5
    assert after["open_vial"]["doses"] == 5


def test_nothing_is_administered_from_held_stock(client, manager, centre_carton):
    ok(hold(client, manager, centre_carton["id"]))

    response = administer(client, manager, centre_carton["id"], 1)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "held"
    assert carton(client, manager, centre_carton["id"])["doses"] == 12


def test_nothing_is_administered_past_the_beyond_use_date(client, manager, centre_carton, clock):
    clock.advance(weeks=10, minutes=1)

    response = administer(client, manager, centre_carton["id"], 1)

    assert response.status_code == 409
    assert response.json["error"]["code"] in ("bud_passed", "expired")
    assert carton(client, manager, centre_carton["id"])["doses"] == 12


def test_just_before_the_beyond_use_date_doses_can_still_be_given(
    client, manager, centre_carton, clock
):
    clock.advance(weeks=10, minutes=-1)

    assert ok(administer(client, manager, centre_carton["id"], 1))["doses"] == 11


def test_nothing_is_administered_after_the_printed_expiry(client, staff, clock):
    syringes = receive_flu(client, staff, expiry=date(2026, 11, 25))
    clock.advance(days=5)

    response = administer(client, staff, syringes["id"], 1)

    assert response.status_code == 409
    assert response.json["error"]["code"] in ("expired", "bud_passed")


def test_frozen_stock_cannot_be_administered(client, staff):
    tray = receive_carton(client, staff)

    response = administer(client, staff, tray["id"], 1)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "not_thawed"


def test_more_doses_than_on_hand_is_a_conflict(client, manager, centre_carton):
    response = administer(client, manager, centre_carton["id"], 13)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "insufficient_doses"
    assert carton(client, manager, centre_carton["id"])["doses"] == 12


def test_administering_every_dose_consumes_the_carton(client, manager, centre_carton):
    after = ok(administer(client, manager, centre_carton["id"], 12))

    assert after["doses"] == 0
    assert after["vials"] == 0
    assert after["status"] == "consumed"
    assert doses_on_hand(client, manager, CENTRE, GREY) == 0


def test_single_dose_syringes_never_leave_an_open_vial(client, staff):
    syringes = receive_flu(client, staff, vials=20)

    after = ok(administer(client, staff, syringes["id"], 3))

    assert (after["doses"], after["vials"], after["open_vial"], after["state"]) == (
        17,
        17,
        None,
        "thawed",
    )


def test_waste_needs_a_known_reason(client, manager, centre_carton):
    response = waste(client, manager, centre_carton["id"], 1, "dropped on the floor")

    assert response.status_code == 422
    assert "reason" in response.json["error"]["fields"]
    assert carton(client, manager, centre_carton["id"])["doses"] == 12


@pytest.mark.parametrize(
    "reason", ["open_vial", "expired", "bud_passed", "broken", "excursion", "recall", "other"]
)
def test_waste_with_each_reason_takes_doses_out(client, manager, centre_carton, reason):
    after = ok(waste(client, manager, centre_carton["id"], 6, reason))

    assert after["doses"] == 6


def test_wasting_every_dose_leaves_nothing_on_hand(client, manager, centre_carton):
    after = ok(waste(client, manager, centre_carton["id"], 12, "broken"))

    assert after["doses"] == 0
    assert after["status"] in ("discarded", "consumed")
    assert doses_on_hand(client, manager, CENTRE, GREY) == 0


def test_waste_of_more_than_on_hand_is_a_conflict(client, manager, centre_carton):
    response = waste(client, manager, centre_carton["id"], 20, "broken")

    assert response.status_code == 409
    assert response.json["error"]["code"] == "insufficient_doses"


def test_ledger_history_records_each_use_with_actor_and_reason(client, manager, centre_carton):
    ok(administer(client, manager, centre_carton["id"], 2))
    ok(waste(client, manager, centre_carton["id"], 1, "broken"))

    history = carton(client, manager, centre_carton["id"])["history"]

    kinds = [e["kind"] for e in history]
    assert kinds[-2:] == ["administer", "waste"]
    assert history[-2]["doses"] == 2 and history[-2]["change"] == -2
    assert history[-1]["reason"] == "broken" and history[-1]["change"] == -1
    assert all(e["actor"] for e in history)


# ------------------------------------------------------------------ hold, release, discard


def test_centre_manager_may_hold_but_not_release(client, manager, centre_carton):
    held = ok(hold(client, manager, centre_carton["id"], "fridge door left open"))
    assert held["status"] == "held"
    assert held["hold"]["kind"] == "manual"
    assert held["hold"]["reason"] == "fridge door left open"

    response = release(client, manager, centre_carton["id"])

    assert response.status_code == 403
    assert carton(client, manager, centre_carton["id"])["status"] == "held"


def test_centre_manager_cannot_discard(client, manager, centre_carton):
    ok(hold(client, manager, centre_carton["id"]))

    response = discard(client, manager, centre_carton["id"])

    assert response.status_code == 403
    assert carton(client, manager, centre_carton["id"])["doses"] == 12


def test_pharmacist_releases_a_held_carton_with_a_reason(client, staff):
    tray = thawed_tray(client, staff)
    ok(hold(client, staff, tray["id"], "logger alarm"))

    released = ok(release(client, staff, tray["id"], "within the manufacturer's excursion data"))

    assert released["status"] == "available"
    assert released["hold"] is None
    detail = carton(client, staff, tray["id"])
    assert detail["holds"][-1]["decision"] == "released"
    assert detail["holds"][-1]["decision_reason"] == "within the manufacturer's excursion data"
    assert ok(administer(client, staff, tray["id"], 1))["doses"] == 119


def test_releasing_a_carton_that_is_not_held_is_a_conflict(client, staff):
    tray = thawed_tray(client, staff)

    response = release(client, staff, tray["id"])

    assert response.status_code == 409
    assert response.json["error"]["code"] == "not_held"


def test_hold_release_and_discard_need_a_reason(client, staff):
    tray = thawed_tray(client, staff)

    for path in ("hold", "release", "discard"):
        response = client.post(f"/api/v1/cartons/{tray['id']}/{path}", headers=staff, json={})
        assert response.status_code == 422, path
        assert "reason" in response.json["error"]["fields"]
        blank = client.post(
            f"/api/v1/cartons/{tray['id']}/{path}", headers=staff, json={"reason": ""}
        )
        assert blank.status_code == 422, path


def test_discard_moves_every_dose_out_of_stock(client, staff, auditor):
    tray = thawed_tray(client, staff, vials=10, lot="GK990")
    ok(hold(client, staff, tray["id"]))

    discarded = ok(discard(client, staff, tray["id"], "frozen in transit"))

    assert discarded["status"] == "discarded"
    assert discarded["doses"] == 0 and discarded["vials"] == 0
    assert doses_on_hand(client, staff, PHARMACY, GREY) == 0
    assert ok(get(client, "/cartons", staff)) == []
    lot = ok(get(client, f"/lots?product={GREY}&number=GK990", auditor))[0]
    trace = ok(get(client, f"/lots/{lot['id']}/trace", auditor))
    assert trace["discarded_by_site"] == {PHARMACY: 60}
    assert trace["doses_on_hand"] == 0
    assert carton(client, staff, tray["id"])["holds"][-1]["decision"] == "discarded"


def test_discarded_carton_cannot_be_used_or_discarded_again(client, staff):
    syringes = receive_flu(client, staff)
    ok(discard(client, staff, syringes["id"]))

    assert administer(client, staff, syringes["id"], 1).status_code == 409
    assert discard(client, staff, syringes["id"]).status_code == 409
    assert hold(client, staff, syringes["id"]).status_code == 409


def test_unknown_carton_is_not_found_for_every_operation(client, staff):
    for path, body in (
        ("thaw", {}),
        ("repack", {"cartons": [{"vials": 1, "storage_unit": f"{PHARMACY}-F1"}]}),
        ("administer", {"doses": 1}),
        ("waste", {"doses": 1, "reason": "broken"}),
        ("hold", {"reason": "x"}),
        ("release", {"reason": "x"}),
        ("discard", {"reason": "x"}),
    ):
        response = client.post(f"/api/v1/cartons/999999/{path}", headers=staff, json=body)
        assert response.status_code == 404, path
    assert get(client, "/cartons/999999", staff).status_code == 404
    assert get(client, "/cartons/999999/label", staff).status_code == 404


def test_thawing_in_place_never_leaves_thawed_stock_in_a_freezer(client, staff):
    tray = receive_carton(client, staff)  # in RH-APO-ULT1, -90..-60 C

    response = thaw(client, staff, tray["id"], storage_unit=None)

    assert response.status_code == 422 or response.get_json()["storage_unit"] != f"{PHARMACY}-ULT1"
