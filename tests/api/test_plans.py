"""Allocation plans for a hospital pharmacy (or for all of a region's): made from the stock and
bookings in the database, stored, approved into draft shipments and thaw tasks, and re-planned
without touching what has shipped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory.db import unit_of_work
from inventory.db.models import AuditEntry
from tests.api.helpers import (
    CENTRE,
    GREY,
    OTHER_CENTRE,
    PHARMACY,
    dispatch,
    get,
    ok,
    post,
    receive_carton,
    thaw,
    thawed_tray,
)
from tests.conftest import T0

TODAY = T0.date()


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def book(
    client,
    headers,
    site: str,
    on: int,
    count: int,
    *,
    group: str = "65+",
    product: str = GREY,
    prefix: str | None = None,
) -> dict:
    prefix = prefix or f"{site}-{on}-{group}"
    rows = [
        {
            "ref": f"{prefix}-{i}",
            "site": site,
            "day": day(on),
            "slot": f"{9 + i // 6:02d}:{(i % 6) * 10:02d}",
            "product": product,
            "group": group,
        }
        for i in range(count)
    ]
    response = client.put("/api/v1/appointments", headers=headers, json=rows)
    return ok(response)


def make_plan(
    client,
    headers,
    *,
    method: str = "optimal",
    start: int = 0,
    days: int = 7,
    status: int = 201,
    **extra,
):
    body = {"pharmacy": PHARMACY, "start": day(start), "days": days, "method": method, **extra}
    return ok(post(client, "/plans", headers, body), status)


def approve(client, headers, plan_id: int, status: int = 200):
    return ok(post(client, f"/plans/{plan_id}/approve", headers), status)


def shipped_to(plan: dict, site: str) -> int:
    return sum(s["vials"] for s in plan["shipments"] if s["site"] == site)


@pytest.fixture
def bookings(client, admin):
    """12 people booked at the Bella Center tomorrow, 9 at Øksnehallen the day after."""
    book(client, admin, CENTRE, 1, 12)
    book(client, admin, OTHER_CENTRE, 2, 9, group="85+")


@pytest.mark.parametrize("method", ["optimal", "fefo"])
def test_a_thawed_carton_is_shared_between_the_two_centres_that_need_it(
    client, admin, staff, bookings, method
):
    tray = thawed_tray(client, staff, vials=10)
    plan = make_plan(client, staff, method=method)
    assert (
        plan["status"] == "proposed" and plan["method"] == method and plan["pharmacy"] == PHARMACY
    )
    # 12 booked with 7 % no-shows: 12 doses (2 vials); 9 booked: 9 doses (2 vials)
    assert shipped_to(plan, CENTRE) == 2 and shipped_to(plan, OTHER_CENTRE) == 2
    assert {s["carton"] for s in plan["shipments"]} == {tray["id"]}
    assert plan["unmet"] == [] and plan["unmet_appointments"] == 0
    assert plan["projected_waste"]["open_vial"] == pytest.approx(
        3
    )  # 12 + 12 doses opened for 12 + 9
    assert set(plan["projected_waste"]) >= {"expiry_or_bud", "open_vial", "total"}
    offers = {(f["site"], f["day"]): f for f in plan["fill_the_vial"]}
    assert (
        offers[(OTHER_CENTRE, day(2))]["doses_left"] == 3
        and offers[(OTHER_CENTRE, day(2))]["vials_opened"] == 2
    )
    # of 9 booked, 9 come with p .52, 8 with .35, 7 with .11: at least 3 left in half the
    # turnouts, 4 in less
    assert offers[(OTHER_CENTRE, day(2))]["standby_slots"] == 3
    again = ok(get(client, f"/plans/{plan['id']}", staff))
    assert again["shipments"] == plan["shipments"]


def test_scarcity_leaves_the_lower_priority_group_unserved_and_says_so(client, admin, staff):
    book(client, admin, CENTRE, 1, 6, group="85+")
    book(client, admin, OTHER_CENTRE, 1, 6, group="50+")
    thawed_tray(client, staff, vials=1)
    plan = make_plan(client, staff)
    assert shipped_to(plan, CENTRE) == 1 and shipped_to(plan, OTHER_CENTRE) == 0
    assert [(u["site"], u["group"]) for u in plan["unmet"]] == [(OTHER_CENTRE, "50+")]
    assert plan["unmet_appointments"] == 6


def test_held_stock_is_never_planned(client, admin, staff, bookings):
    tray = thawed_tray(client, staff, vials=10)
    ok(post(client, f"/cartons/{tray['id']}/hold", staff, {"reason": "logger alarm"}))
    plan = make_plan(client, staff, method="fefo")
    assert plan["shipments"] == [] and plan["unmet_appointments"] == 21


def test_approval_turns_the_plan_into_draft_shipments_and_thaw_tasks(
    client, admin, staff, db, bookings
):
    frozen = receive_carton(client, staff, vials=10)  # ultra-frozen grey cap at the pharmacy
    plan = make_plan(client, staff)
    assert plan["thaws"] and all(t["carton"] == frozen["id"] for t in plan["thaws"])
    approved = approve(client, staff, plan["id"])
    assert approved["status"] == "approved" and approved["approved_by"]
    drafts = approved["draft_shipments"]
    assert sorted(d["site"] for d in drafts) == [CENTRE, OTHER_CENTRE]
    for draft in drafts:
        shipment = ok(get(client, f"/shipments/{draft['shipment']}", staff))
        assert shipment["status"] == "draft" and shipment["from_site"] == PHARMACY
        assert shipment["to_site"] == draft["site"]
    # the 10 vials were split: 2 for each centre, repacked from the frozen carton
    bella = next(d for d in drafts if d["site"] == CENTRE)
    piece = ok(get(client, f"/cartons/{bella['cartons'][0]}", staff))
    assert (
        piece["parent"] == frozen["id"] and piece["vials"] == 2 and piece["state"] == "ultra_frozen"
    )
    tasks = ok(get(client, f"/thaw-tasks?site={PHARMACY}", staff))
    assert sorted(t["carton"] for t in tasks) == sorted(c for d in drafts for c in d["cartons"])
    assert all(t["status"] == "open" and t["vials"] == 2 for t in tasks)
    # thawed a day ahead (6 h lead time) of each delivery
    assert {(t["carton"], t["day"]) for t in tasks} == {
        (bella["cartons"][0], day(0)),
        (next(d for d in drafts if d["site"] == OTHER_CENTRE)["cartons"][0], day(1)),
    }
    with unit_of_work(db) as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.approve"))
    assert entry.entity_id == str(plan["id"]) and len(entry.after["shipments"]) == 2


def test_a_thaw_task_done_thaws_the_picked_carton(client, admin, staff, bookings):
    receive_carton(client, staff, vials=10)
    approved = approve(client, staff, make_plan(client, staff)["id"])
    task = approved["thaw_tasks"][0]
    done = ok(
        post(client, f"/thaw-tasks/{task['id']}/done", staff, {"storage_unit": f"{PHARMACY}-F1"})
    )
    assert done["status"] == "done"
    carton = ok(get(client, f"/cartons/{task['carton']}", staff))
    assert carton["state"] == "thawed" and carton["shipment"] is not None


def test_a_whole_carton_is_picked_as_it_is(client, admin, staff):
    book(client, admin, CENTRE, 1, 12)
    tray = thawed_tray(client, staff, vials=2)
    approved = approve(client, staff, make_plan(client, staff)["id"])
    assert [d["cartons"] for d in approved["draft_shipments"]] == [[tray["id"]]]


def test_replanning_withdraws_drafts_but_keeps_what_has_shipped(client, admin, staff, bookings):
    thawed_tray(client, staff, vials=10)
    first = approve(client, staff, make_plan(client, staff)["id"])
    bella = next(d for d in first["draft_shipments"] if d["site"] == CENTRE)
    oksne = next(d for d in first["draft_shipments"] if d["site"] == OTHER_CENTRE)
    ok(dispatch(client, staff, bella["shipment"]))
    book(client, admin, OTHER_CENTRE, 2, 6, group="85+", prefix="more")
    second = approve(client, staff, make_plan(client, staff)["id"])
    old = ok(get(client, f"/plans/{first['id']}", staff))
    assert old["status"] == "superseded" and old["superseded_by"] == second["id"]
    drafts = ok(get(client, "/shipments?status=draft", staff))
    assert [s["id"] for s in drafts] == [d["shipment"] for d in second["draft_shipments"]]
    released = ok(get(client, f"/cartons/{oksne['cartons'][0]}", staff))
    assert released["shipment"] in [None, *[d["shipment"] for d in second["draft_shipments"]]]
    assert ok(get(client, f"/shipments/{bella['shipment']}", staff))["status"] == "dispatched"
    withdrawn = next(d for d in old["draft_shipments"] if d["site"] == OTHER_CENTRE)
    assert withdrawn["status"] == "withdrawn"
    # Bella's doses are on the road: the new plan sends nothing more there, and 15 to Øksnehallen
    assert shipped_to(second, CENTRE) == 0 and shipped_to(second, OTHER_CENTRE) == 3
    assert [d["site"] for d in second["draft_shipments"]] == [OTHER_CENTRE]


def test_an_approved_plan_cannot_be_approved_twice(client, admin, staff, bookings):
    thawed_tray(client, staff, vials=10)
    plan = approve(client, staff, make_plan(client, staff)["id"])
    response = post(client, f"/plans/{plan['id']}/approve", staff)
    assert response.status_code == 409 and response.json["error"]["code"] == "plan_approved"


def test_a_plan_whose_stock_changed_is_not_approved(client, admin, staff, bookings):
    tray = thawed_tray(client, staff, vials=10)
    plan = make_plan(client, staff)
    ok(post(client, f"/cartons/{tray['id']}/hold", staff, {"reason": "logger alarm"}))
    response = post(client, f"/plans/{plan['id']}/approve", staff)
    assert response.status_code == 409 and response.json["error"]["code"] == "plan_stale"
    assert ok(get(client, "/shipments?status=draft", staff)) == []


def test_capacity_counts_planned_deliveries_and_offers_the_open_vial_doses(
    client, admin, staff, bookings
):
    receive_carton(client, staff, vials=10)
    approve(client, staff, make_plan(client, staff)["id"])
    lines = ok(get(client, f"/capacity?site={OTHER_CENTRE}&product={GREY}", admin))["days"]
    by_day = {line["day"]: line for line in lines}
    assert by_day[day(1)]["usable_doses"] == 0  # the delivery comes on day 2
    assert by_day[day(2)]["usable_doses"] == 12 and by_day[day(2)]["booked"] == 9
    assert by_day[day(2)]["free"] == 3 and by_day[day(2)]["standby_slots"] == 3


@pytest.mark.parametrize(
    "body, field",
    [
        ({"days": 0}, "days"),
        ({"days": 29}, "days"),
        ({"days": -3}, "days"),
        ({"method": "guess"}, "method"),
        ({"pharmacy": "NOWHERE"}, "pharmacy"),
        ({"pharmacy": CENTRE}, "pharmacy"),
        ({"start": (TODAY - timedelta(days=1)).isoformat()}, "start"),
        ({"start": "21/11/2026"}, "start"),
    ],
)
def test_bad_plan_requests_name_the_field(client, staff, body, field):
    response = post(
        client, "/plans", staff, {"pharmacy": PHARMACY, "start": day(0), "days": 7, **body}
    )
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


def test_who_may_plan_and_approve(client, admin, staff, manager, token, bookings):
    thawed_tray(client, staff, vials=10)
    assert (
        post(
            client, "/plans", manager, {"pharmacy": PHARMACY, "start": day(0), "days": 7}
        ).status_code
        == 403
    )
    assert (
        post(
            client, "/plans", token("auditor"), {"pharmacy": PHARMACY, "start": day(0), "days": 7}
        ).status_code
        == 403
    )
    plan = make_plan(client, token("coordinator", region="Hovedstaden"))
    assert post(client, f"/plans/{plan['id']}/approve", manager).status_code == 403
    assert post(client, f"/plans/{plan['id']}/approve", token("coordinator")).status_code == 403
    assert (
        post(client, f"/plans/{plan['id']}/approve", token("pharmacist", site="RS-APO")).status_code
        == 404
    )
    assert post(client, f"/plans/{plan['id']}/approve", staff).status_code == 200


# ---------------------------------------------------------------- region plans

REGION = "Hovedstaden"
NORTH = "RH-APO-HIL"  # the region's other hospital pharmacy
HILL = "RH-VC-HILL"  # supplied by RH-APO-HIL


def make_region_plan(
    client,
    headers,
    *,
    method: str = "optimal",
    start: int = 0,
    days: int = 7,
    status: int = 201,
    **extra,
):
    body = {"region": REGION, "start": day(start), "days": days, "method": method, **extra}
    return ok(post(client, "/plans", headers, body), status)


def north_tray(client, admin, *, vials: int, thawed: bool = True) -> dict:
    tray = receive_carton(client, admin, storage_unit=f"{NORTH}-ULT1", vials=vials, lot="GK-NORTH")
    return ok(thaw(client, admin, tray["id"], f"{NORTH}-F1")) if thawed else tray


@pytest.fixture
def region_bookings(client, admin):
    """Both pharmacies of Hovedstaden have work: 12 booked at the Bella Center and 9 at
    Øksnehallen (RH-APO's), 6 of 85+ and 12 of 50+ at Hillerød (RH-APO-HIL's), all tomorrow."""
    book(client, admin, CENTRE, 1, 12)
    book(client, admin, OTHER_CENTRE, 1, 9, group="85+")
    book(client, admin, HILL, 1, 6, group="85+")
    book(client, admin, HILL, 1, 12, group="50+")


def summed(plans: list[dict]) -> dict:
    waste, by_group, by_site = {}, {}, {}
    for plan in plans:
        for kind, doses in plan["projected_waste"].items():
            waste[kind] = waste.get(kind, 0) + doses
        for u in plan["unmet"]:
            by_group[u["group"]] = by_group.get(u["group"], 0) + u["appointments"]
            by_site[u["site"]] = by_site.get(u["site"], 0) + u["appointments"]
    return {
        "waste": waste,
        "by_group": by_group,
        "by_site": by_site,
        "unmet": sum(p["unmet_appointments"] for p in plans),
        "doses_left": sum(f["doses_left"] for p in plans for f in p["fill_the_vial"]),
        "standby_slots": sum(f["standby_slots"] for p in plans for f in p["fill_the_vial"]),
        "doses_used": sum(p["doses_used"] for p in plans),
    }


@pytest.mark.parametrize("method", ["optimal", "fefo"])
def test_a_region_plan_plans_every_pharmacy_of_the_region_and_sums_them(
    client, admin, staff, region_bookings, method
):
    thawed_tray(client, staff, vials=10)
    north_tray(client, admin, vials=2)  # 12 doses for Hillerød's 18: the 50+ wait
    response = post(
        client, "/plans", staff, {"region": REGION, "start": day(0), "days": 7, "method": method}
    )
    region = ok(response, 201)
    assert response.headers["Location"].endswith(f"/region-plans/{region['id']}")
    assert (
        region["region"] == REGION and region["status"] == "proposed" and region["method"] == method
    )
    assert region["pharmacies"] == [PHARMACY, NORTH]
    assert [p["pharmacy"] for p in region["plans"]] == [PHARMACY, NORTH]
    assert all(
        p["region_plan"] == region["id"] and p["status"] == "proposed" for p in region["plans"]
    )
    south, north = region["plans"]
    assert (
        shipped_to(south, CENTRE) == 2
        and shipped_to(south, OTHER_CENTRE) == 2
        and shipped_to(south, HILL) == 0
    )
    assert shipped_to(north, HILL) == 2 and shipped_to(north, CENTRE) == 0
    assert [(u["site"], u["group"]) for u in north["unmet"]] == [(HILL, "50+")]

    totals, parts = region["totals"], summed(region["plans"])
    assert totals["projected_waste"] == pytest.approx(parts["waste"])
    assert totals["projected_waste"]["total"] == pytest.approx(
        south["projected_waste"]["total"] + north["projected_waste"]["total"]
    )
    assert totals["doses_used"] == pytest.approx(parts["doses_used"])
    unmet = north["unmet_appointments"]
    assert unmet > 0 and south["unmet_appointments"] == 0
    assert totals["unmet_appointments"] == parts["unmet"] == unmet
    assert totals["unmet_by_group"] == parts["by_group"] == {"50+": unmet}
    assert totals["unmet_by_site"] == parts["by_site"] == {HILL: unmet}
    assert totals["unmet"] == [{"site": HILL, "group": "50+", "appointments": unmet}]
    assert totals["fill_the_vial"]["doses_left"] == parts["doses_left"]
    assert totals["fill_the_vial"]["standby_slots"] == parts["standby_slots"]
    assert totals["fill_the_vial"]["offers"] == sum(
        len(p["fill_the_vial"]) for p in region["plans"]
    )


def test_each_pharmacy_of_a_region_plan_gets_the_plan_it_would_get_alone(
    client, admin, staff, region_bookings
):
    thawed_tray(client, staff, vials=10)
    north_tray(client, admin, vials=2)
    region = make_region_plan(client, staff, method="fefo")
    alone = make_plan(client, staff, method="fefo")
    south = region["plans"][0]
    for key in ("shipments", "thaws", "unmet", "fill_the_vial", "projected_waste"):
        assert south[key] == alone[key], key
    assert alone["region_plan"] is None


def test_a_region_plan_is_stored_and_listed(client, admin, staff, region_bookings):
    thawed_tray(client, staff, vials=10)
    first = make_region_plan(client, staff)
    second = make_region_plan(client, admin, method="fefo")
    assert ok(get(client, f"/region-plans/{first['id']}", staff)) == first
    listed = ok(get(client, "/region-plans", staff))
    assert [r["id"] for r in listed] == [second["id"], first["id"]]
    assert [
        r["id"] for r in ok(get(client, f"/region-plans?region={REGION}&status=proposed", staff))
    ] == [second["id"], first["id"]]
    assert ok(get(client, "/region-plans?region=Sjaelland", admin)) == []
    assert ok(get(client, "/region-plans?status=approved", staff)) == []
    # its pharmacies' plans are plans like any other, and say which region plan they belong to
    plans = ok(get(client, f"/plans?pharmacy={NORTH}", staff))
    assert {p["id"] for p in plans} == {first["plans"][1]["id"], second["plans"][1]["id"]}
    assert ok(get(client, f"/plans/{first['plans'][0]['id']}", staff))["region_plan"] == first["id"]


def test_approving_a_region_plan_makes_draft_shipments_and_thaw_tasks_at_each_pharmacy(
    client, admin, region_bookings
):
    thawed_tray(client, admin, vials=10)
    frozen = north_tray(client, admin, vials=4, thawed=False)
    region = make_region_plan(client, admin)
    approved = ok(post(client, f"/region-plans/{region['id']}/approve", admin))
    assert approved["status"] == "approved" and approved["approved_by"]
    assert all(p["status"] == "approved" and p["approved_by"] for p in approved["plans"])
    south, north = approved["plans"]
    assert sorted(d["site"] for d in south["draft_shipments"]) == [CENTRE, OTHER_CENTRE]
    assert [d["site"] for d in north["draft_shipments"]] == [HILL]
    drafts = ok(get(client, "/shipments?status=draft", admin))
    assert sorted((s["from_site"], s["to_site"]) for s in drafts) == [
        (PHARMACY, CENTRE),
        (PHARMACY, OTHER_CENTRE),
        (NORTH, HILL),
    ]
    # Hillerød's doses come out of the frozen tray: a thaw task at the northern pharmacy
    tasks = ok(get(client, f"/thaw-tasks?site={NORTH}", admin))
    assert tasks and all(t["status"] == "open" and t["plan"] == north["id"] for t in tasks)
    for task in tasks:
        piece = ok(get(client, f"/cartons/{task['carton']}", admin))
        assert frozen["id"] in (piece["id"], piece["parent"])
    assert (
        ok(get(client, f"/thaw-tasks?site={PHARMACY}", admin)) == []
    )  # its tray was thawed already
    again = post(client, f"/region-plans/{region['id']}/approve", admin)
    assert again.status_code == 409 and again.json["error"]["code"] == "plan_approved"


def test_a_new_region_plan_supersedes_the_last_but_keeps_what_has_shipped(
    client, admin, region_bookings
):
    thawed_tray(client, admin, vials=10)
    north_tray(client, admin, vials=4)
    first = ok(
        post(client, f"/region-plans/{make_region_plan(client, admin)['id']}/approve", admin)
    )
    bella = next(d for d in first["plans"][0]["draft_shipments"] if d["site"] == CENTRE)
    ok(dispatch(client, admin, bella["shipment"]))
    second = ok(
        post(client, f"/region-plans/{make_region_plan(client, admin)['id']}/approve", admin)
    )
    old = ok(get(client, f"/region-plans/{first['id']}", admin))
    assert old["status"] == "superseded" and old["superseded_by"] == second["id"]
    assert [p["status"] for p in old["plans"]] == ["superseded", "superseded"]
    assert [p["superseded_by"] for p in old["plans"]] == [p["id"] for p in second["plans"]]
    assert ok(get(client, f"/shipments/{bella['shipment']}", admin))["status"] == "dispatched"
    # Bella's doses are on the road: nothing more goes there; the rest is planned again
    assert (
        shipped_to(second["plans"][0], CENTRE) == 0
        and shipped_to(second["plans"][0], OTHER_CENTRE) == 2
    )
    drafts = ok(get(client, "/shipments?status=draft", admin))
    assert sorted(s["id"] for s in drafts) == sorted(
        d["shipment"] for p in second["plans"] for d in p["draft_shipments"]
    )


def test_who_may_approve_a_region_plan(client, admin, staff, manager, token, region_bookings):
    thawed_tray(client, staff, vials=10)
    north_tray(client, admin, vials=2)
    region = make_region_plan(client, token("coordinator", region=REGION))
    path = f"/region-plans/{region['id']}/approve"
    # a pharmacist of one pharmacy may not approve for the other: the whole is refused
    response = post(client, path, staff)
    assert response.status_code == 403 and NORTH in response.json["error"]["message"]
    assert post(client, path, token("coordinator", region=REGION)).status_code == 403
    assert post(client, path, token("auditor")).status_code == 403
    assert post(client, path, manager).status_code == 403  # as for one pharmacy's plan
    assert post(client, path, token("pharmacist", site="RS-APO")).status_code == 404
    assert ok(get(client, "/shipments?status=draft", admin)) == []
    assert ok(get(client, f"/region-plans/{region['id']}", staff))["status"] == "proposed"
    # ... but approves the plan of their own pharmacy within it
    own = ok(post(client, f"/plans/{region['plans'][0]['id']}/approve", staff))
    assert own["status"] == "approved"
    assert post(client, f"/plans/{region['plans'][1]['id']}/approve", staff).status_code == 403
    # an unscoped pharmacist approves the rest; the pharmacy's own approval stands
    approved = ok(post(client, path, token("pharmacist")))
    assert (
        approved["status"] == "approved"
        and [p["status"] for p in approved["plans"]] == ["approved"] * 2
    )
    assert approved["plans"][0]["approved_at"] == own["approved_at"]
    assert approved["plans"][0]["draft_shipments"] == own["draft_shipments"]


def test_who_may_see_and_make_a_region_plan(client, admin, staff, manager, token):
    assert (
        post(client, "/plans", manager, {"region": REGION, "start": day(0), "days": 7}).status_code
        == 403
    )
    assert (
        post(
            client, "/plans", token("auditor"), {"region": REGION, "start": day(0), "days": 7}
        ).status_code
        == 403
    )
    elsewhere = token("pharmacist", site="RS-APO")
    response = post(client, "/plans", elsewhere, {"region": REGION, "start": day(0), "days": 7})
    assert response.status_code == 422 and "region" in response.json["error"]["fields"]
    region = make_region_plan(client, staff)
    assert get(client, f"/region-plans/{region['id']}", manager).status_code == 404
    assert get(client, f"/region-plans/{region['id']}", elsewhere).status_code == 404
    assert ok(get(client, "/region-plans", elsewhere)) == []
    assert ok(get(client, f"/region-plans/{region['id']}", token("auditor")))["id"] == region["id"]


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"pharmacy": PHARMACY}, {"region"}),
        ({"region": None}, {"region"}),
        ({"region": ""}, {"region"}),
        ({"region": "Atlantis"}, {"region"}),
        ({"region": "x" * 65}, {"region"}),
        ({"region": 5}, {"region"}),
        ({"days": 0}, {"days"}),
        ({"method": "guess"}, {"method"}),
        ({"start": (TODAY - timedelta(days=1)).isoformat()}, {"start"}),
    ],
)
def test_bad_region_plan_requests_name_the_field(client, staff, body, fields):
    response = post(client, "/plans", staff, {"region": REGION, "start": day(0), "days": 7, **body})
    assert response.status_code == 422, response.json
    assert fields <= set(response.json["error"]["fields"])


def test_a_plan_request_names_a_pharmacy_or_a_region(client, staff):
    response = post(client, "/plans", staff, {"start": day(0), "days": 7})
    assert response.status_code == 422
    assert {"pharmacy", "region"} <= set(response.json["error"]["fields"])
    response = post(client, "/plans", staff, {"start": "soon", "days": 7})
    assert {"pharmacy", "region", "start"} <= set(response.json["error"]["fields"])


def test_region_plan_lookups_name_the_bad_filter(client, staff):
    response = get(client, "/region-plans?region=Atlantis", staff)
    assert response.status_code == 422 and "region" in response.json["error"]["fields"]
    response = get(client, "/region-plans?status=maybe", staff)
    assert response.status_code == 422 and "status" in response.json["error"]["fields"]
    assert get(client, "/region-plans/99", staff).status_code == 404
