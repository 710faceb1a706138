"""The pharmacy's pages through their forms: requests decided, a lot recalled, a plan proposed
and approved, and what other roles are refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from inventory.db.models import AuditEntry, Carton, Lot, StockRequest
from inventory.db.planning import Plan
from tests.api.helpers import CENTRE, FLU, OTHER_CENTRE, PHARMACY, create_request, thawed_tray
from tests.api.test_plans import book
from tests.web.conftest import csrf_token, signed_in_client


@pytest.fixture
def admin(seeded, token) -> dict:
    """An admin's bearer token, to set up stock and bookings through the API."""
    return token("admin")


def _form(client, path: str) -> dict:
    page = client.get(path).get_data(as_text=True)
    data = {"csrf_token": csrf_token(page)}
    key = re.search(r'name="key" value="([^"]+)"', page)
    if key:
        data["key"] = key.group(1)
    return data


def _request(client, manager_headers, doses=30) -> int:
    return create_request(client, manager_headers, product=FLU, doses=doses).get_json()["id"]


def test_requests_approved_with_fewer_doses_or_rejected_with_a_reason(
    client, app, person, token, db
):
    manager = token("centre_manager", site=CENTRE)
    first, second = _request(client, manager), _request(client, manager)
    pharmacist, _ = person("pharmacist", site=PHARMACY)
    browser = app.test_client()
    signed_in_client(browser, pharmacist)
    data = _form(browser, "/requests?lang=en")
    approved = browser.post(
        f"/requests/{first}/decide", data={**data, "decision": "approve", "doses": "20"}
    )
    assert approved.status_code == 303
    refused = browser.post(f"/requests/{second}/decide", data={**data, "decision": "reject"})
    assert refused.status_code == 422 and "Give a reason" in refused.get_data(as_text=True)
    rejected = browser.post(
        f"/requests/{second}/decide",
        data={**data, "decision": "reject", "reason": "no stock this week"},
    )
    assert rejected.status_code == 303
    with db() as session:
        requests = {r.id: r for r in session.scalars(select(StockRequest))}
    assert (requests[first].status, requests[first].approved_doses) == ("approved", 20)
    assert (requests[second].status, requests[second].reason) == ("rejected", "no stock this week")
    page = browser.get("/requests?lang=en").get_data(as_text=True)
    assert f"/shipments/new?request={first}" in page  # fulfil with a shipment


def test_recall_a_lot_found_by_number_holds_every_carton(client, app, person, admin, db):
    tray = thawed_tray(client, admin, lot="RC001")
    pharmacist, _ = person("pharmacist", site=PHARMACY)
    browser = app.test_client()
    signed_in_client(browser, pharmacist)
    found = browser.get("/recall?q=rc001")
    assert found.status_code == 303
    lot_page = found.headers["Location"]
    data = _form(browser, lot_page)
    assert browser.post(lot_page, data=data).status_code == 422  # a reason is required
    assert browser.post(lot_page, data={**data, "reason": "supplier notice"}).status_code == 303
    with db() as session:
        assert session.scalar(select(Lot.recall_reason)) == "supplier notice"
        assert session.get(Carton, tray["id"]).status == "held"
    assert "RC001" in browser.get(lot_page + "?lang=en").get_data(as_text=True)


def test_propose_and_approve_a_plan(client, app, person, admin, db):
    thawed_tray(client, admin, vials=20)
    book(client, admin, CENTRE, 1, 12)
    pharmacist, _ = person("pharmacist", site=PHARMACY)
    browser = app.test_client()
    signed_in_client(browser, pharmacist)
    data = _form(browser, "/plans?lang=en")
    proposed = browser.post(
        "/plans",
        data={
            **data,
            "scope": "pharmacy",
            "pharmacy": PHARMACY,
            "start": "2026-11-21",
            "days": "7",
            "method": "fefo",
        },
    )
    assert proposed.status_code == 303
    plan_page = browser.get(proposed.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Projected waste" in plan_page and "Unmet appointments" in plan_page
    approve = re.search(r'action="(/plans/\d+/approve)"', plan_page).group(1)
    assert browser.post(approve, data={"csrf_token": csrf_token(plan_page)}).status_code == 303
    with db() as session:
        plan = session.scalar(select(Plan))
        assert plan.status == "approved" and plan.shipment_links
        actions = session.scalars(select(AuditEntry.actor).where(AuditEntry.action.like("plan%")))
        assert all("[" in a for a in actions)


def test_other_roles_are_refused_the_pharmacy_work(client, app, person, admin):
    tray = thawed_tray(client, admin)
    manager, _ = person("centre_manager", site=OTHER_CENTRE)
    browser = app.test_client()
    signed_in_client(browser, manager)
    assert browser.get("/repack").status_code == 403
    assert browser.get("/shipments/new").status_code == 403
    assert browser.get(f"/cartons/{tray['id']}/repack").status_code == 404  # another site's
    assert browser.get("/plans").status_code == 403
    assert browser.get("/recall").status_code == 403
    coordinator, _ = person("coordinator", region="Hovedstaden")
    reader = app.test_client()
    signed_in_client(reader, coordinator)
    assert reader.get(f"/cartons/{tray['id']}").status_code == 200
    assert reader.get(f"/cartons/{tray['id']}/thaw").status_code == 403
    assert reader.post(
        f"/cartons/{tray['id']}/decide",
        data={
            "csrf_token": csrf_token(reader.get("/stock").get_data(as_text=True)),
            "decision": "release",
            "reason": "x",
        },
    ).status_code in (403, 422)


def test_a_plans_thaw_task_is_done_from_its_thaw_page(client, app, person, admin, db):
    from inventory.db.planning import ThawTask
    from tests.api.helpers import receive_carton

    receive_carton(client, admin, vials=10)
    book(client, admin, CENTRE, 1, 12)
    pharmacist, _ = person("pharmacist", site=PHARMACY)
    browser = app.test_client()
    signed_in_client(browser, pharmacist)
    data = _form(browser, "/plans?lang=en")
    proposed = browser.post(
        "/plans",
        data={
            **data,
            "scope": "pharmacy",
            "pharmacy": PHARMACY,
            "start": "2026-11-21",
            "days": "7",
            "method": "optimal",
        },
    )
    plan_page = browser.get(proposed.headers["Location"]).get_data(as_text=True)
    approve = re.search(r'action="(/plans/\d+/approve)"', plan_page).group(1)
    browser.post(approve, data={"csrf_token": csrf_token(plan_page)})
    plan_page = browser.get(proposed.headers["Location"]).get_data(as_text=True)
    thaw_link = re.search(r'href="(/cartons/\d+/thaw\?task=\d+)"', plan_page).group(1)
    form = _form(browser, thaw_link)
    task_id = int(thaw_link.rsplit("=", 1)[1])
    done = browser.post(
        thaw_link, data={**form, "task": str(task_id), "storage_unit": f"{PHARMACY}-F1"}
    )
    assert done.status_code == 303
    with db() as session:
        task = session.get(ThawTask, task_id)
        assert task.status == "done"
        assert session.get(Carton, task.carton_id).state == "thawed"


def test_a_refusal_is_said_in_the_pages_language(client, app, person, admin):
    """The services refuse in English for the API; a Danish page says it in Danish."""
    thawed_tray(client, admin, lot="RC002")
    pharmacist, _ = person("pharmacist", site=PHARMACY)
    browser = app.test_client()
    signed_in_client(browser, pharmacist)
    lot_page = browser.get("/recall?q=rc002").headers["Location"]
    data = {**_form(browser, lot_page), "reason": "supplier notice"}
    assert browser.post(lot_page, data=data).status_code == 303
    again = browser.post(lot_page, data=data)
    assert again.status_code == 422
    assert "Batchen er allerede tilbagekaldt." in again.get_data(as_text=True)
    english = browser.post(lot_page + "?lang=en", data=data).get_data(as_text=True)
    assert "The lot is already recalled." in english


def test_recall_and_trace_share_one_lot_search_each_leading_to_its_page(client, app, person, admin):
    tray = thawed_tray(client, admin, lot="RC003")
    pharmacist, _ = person("pharmacist", site=PHARMACY)
    browser = app.test_client()
    signed_in_client(browser, pharmacist)
    for search, page in (("/recall", "/lots/{}/recall"), ("/lots", "/lots/{}/trace")):
        form = browser.get(f"{search}?lang=en").get_data(as_text=True)
        assert f'action="{search}"' in form and 'name="q"' in form
        found = browser.get(f"{search}?q=RC003")
        assert found.headers["Location"].endswith(page.format(tray["lot_id"]))
        missing = browser.get(f"{search}?q=NOPE&lang=en").get_data(as_text=True)
        assert "No lot matches." in missing
