"""Allocation plans for a hospital pharmacy: made from the stock and bookings in the database,
stored, approved into draft shipments and thaw tasks, and re-planned without touching what
has shipped."""
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
    thawed_tray,
)
from tests.conftest import T0

TODAY = T0.date()


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def book(client, headers, site: str, on: int, count: int, *, group: str = "65+", product: str = GREY,
         prefix: str | None = None) -> dict:
    prefix = prefix or f"{site}-{on}-{group}"
    rows = [{"ref": f"{prefix}-{i}", "site": site, "day": day(on), "slot": f"{9 + i // 6:02d}:{(i % 6) * 10:02d}",
             "product": product, "group": group} for i in range(count)]
    response = client.put("/api/v1/appointments", headers=headers, json=rows)
    return ok(response)


def make_plan(client, headers, *, method: str = "optimal", start: int = 0, days: int = 7, status: int = 201, **extra):
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
def test_a_thawed_carton_is_shared_between_the_two_centres_that_need_it(client, admin, staff, bookings, method):
    tray = thawed_tray(client, staff, vials=10)
    plan = make_plan(client, staff, method=method)
    assert plan["status"] == "proposed" and plan["method"] == method and plan["pharmacy"] == PHARMACY
    # 12 booked with 7 % no-shows: 12 doses (2 vials); 9 booked: 9 doses (2 vials)
    assert shipped_to(plan, CENTRE) == 2 and shipped_to(plan, OTHER_CENTRE) == 2
    assert {s["carton"] for s in plan["shipments"]} == {tray["id"]}
    assert plan["unmet"] == [] and plan["unmet_appointments"] == 0
    assert plan["projected_waste"]["open_vial"] == pytest.approx(3)  # 12 + 12 doses opened for 12 + 9
    assert set(plan["projected_waste"]) >= {"expiry_or_bud", "open_vial", "total"}
    offers = {(f["site"], f["day"]): f for f in plan["fill_the_vial"]}
    assert offers[(OTHER_CENTRE, day(2))]["doses_left"] == 3 and offers[(OTHER_CENTRE, day(2))]["vials_opened"] == 2
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


def test_approval_turns_the_plan_into_draft_shipments_and_thaw_tasks(client, admin, staff, db, bookings):
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
    assert piece["parent"] == frozen["id"] and piece["vials"] == 2 and piece["state"] == "ultra_frozen"
    tasks = ok(get(client, f"/thaw-tasks?site={PHARMACY}", staff))
    assert sorted(t["carton"] for t in tasks) == sorted(c for d in drafts for c in d["cartons"])
    assert all(t["status"] == "open" and t["vials"] == 2 for t in tasks)
    # thawed a day ahead (6 h lead time) of each delivery
    assert {(t["carton"], t["day"]) for t in tasks} == {
        (bella["cartons"][0], day(0)), (next(d for d in drafts if d["site"] == OTHER_CENTRE)["cartons"][0], day(1))}
    with unit_of_work(db) as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.approve"))
    assert entry.entity_id == str(plan["id"]) and len(entry.after["shipments"]) == 2


def test_a_thaw_task_done_thaws_the_picked_carton(client, admin, staff, bookings):
    receive_carton(client, staff, vials=10)
    approved = approve(client, staff, make_plan(client, staff)["id"])
    task = approved["thaw_tasks"][0]
    done = ok(post(client, f"/thaw-tasks/{task['id']}/done", staff, {"storage_unit": f"{PHARMACY}-F1"}))
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


def test_capacity_counts_planned_deliveries_and_offers_the_open_vial_doses(client, admin, staff, bookings):
    receive_carton(client, staff, vials=10)
    approve(client, staff, make_plan(client, staff)["id"])
    lines = ok(get(client, f"/capacity?site={OTHER_CENTRE}&product={GREY}", admin))["days"]
    by_day = {line["day"]: line for line in lines}
    assert by_day[day(1)]["usable_doses"] == 0  # the delivery comes on day 2
    assert by_day[day(2)]["usable_doses"] == 12 and by_day[day(2)]["booked"] == 9
    assert by_day[day(2)]["free"] == 3 and by_day[day(2)]["standby_slots"] == 3


@pytest.mark.parametrize("body, field", [
    ({"days": 0}, "days"),
    ({"days": 29}, "days"),
    ({"days": -3}, "days"),
    ({"method": "guess"}, "method"),
    ({"pharmacy": "NOWHERE"}, "pharmacy"),
    ({"pharmacy": CENTRE}, "pharmacy"),
    ({"start": (TODAY - timedelta(days=1)).isoformat()}, "start"),
    ({"start": "21/11/2026"}, "start"),
])
def test_bad_plan_requests_name_the_field(client, staff, body, field):
    response = post(client, "/plans", staff, {"pharmacy": PHARMACY, "start": day(0), "days": 7, **body})
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


def test_who_may_plan_and_approve(client, admin, staff, manager, token, bookings):
    thawed_tray(client, staff, vials=10)
    assert post(client, "/plans", manager, {"pharmacy": PHARMACY, "start": day(0), "days": 7}).status_code == 403
    assert post(client, "/plans", token("auditor"), {"pharmacy": PHARMACY, "start": day(0), "days": 7}).status_code == 403
    plan = make_plan(client, token("coordinator", region="Hovedstaden"))
    assert post(client, f"/plans/{plan['id']}/approve", manager).status_code == 403
    assert post(client, f"/plans/{plan['id']}/approve", token("coordinator")).status_code == 403
    assert post(client, f"/plans/{plan['id']}/approve", token("pharmacist", site="RS-APO")).status_code == 404
    assert post(client, f"/plans/{plan['id']}/approve", staff).status_code == 200
