"""A draft shipment can be cancelled (its cartons are free again, the cancellation audited),
and a carton the destination has nowhere to keep is refused when it is picked."""

from __future__ import annotations

from sqlalchemy import select

from inventory.db import unit_of_work
from inventory.db.models import AuditEntry
from tests.api.helpers import (
    API,
    CENTRE,
    PHARMACY,
    carton,
    create_shipment,
    dispatch,
    ok,
    post,
    receive_carton,
    repacked_cartons,
    thawed_tray,
)


def draft(client, staff) -> tuple[int, list[int]]:
    tray = thawed_tray(client, staff, vials=30)
    ids = [c["id"] for c in repacked_cartons(client, staff, tray["id"], [10, 10])]
    return ok(create_shipment(client, staff, ids), 201)["id"], ids


def test_a_cancelled_draft_frees_its_cartons_and_is_audited(client, db, staff):
    shipment, ids = draft(client, staff)
    body = ok(post(client, f"/shipments/{shipment}/cancel", staff))
    assert body["status"] == "cancelled" and sorted(body["cartons_released"]) == sorted(ids)
    assert client.get(f"{API}/shipments/{shipment}", headers=staff).status_code == 404
    assert all(carton(client, staff, i)["status"] == "available" for i in ids)
    again = ok(create_shipment(client, staff, ids), 201)  # free to be picked again
    deleted = client.delete(f"{API}/shipments/{again['id']}", headers=staff)
    assert deleted.status_code == 200 and deleted.get_json()["status"] == "cancelled"
    with unit_of_work(db) as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity == "shipment")
        ).all()
    assert actions.count("shipment.cancel") == 2


def test_a_dispatched_shipment_cannot_be_cancelled(client, staff, manager, auditor):
    shipment, _ = draft(client, staff)
    ok(dispatch(client, staff, shipment))
    response = post(client, f"/shipments/{shipment}/cancel", staff)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "shipment_dispatched"
    # only the sender cancels: the centre does not even see the pharmacy's side
    other, _ = draft(client, staff)
    assert client.delete(f"{API}/shipments/{other}", headers=manager).status_code == 404
    assert client.delete(f"{API}/shipments/{other}", headers=auditor).status_code == 403


def test_an_ultra_frozen_tray_to_a_centre_with_only_fridges_is_refused_when_picked(client, staff):
    tray = receive_carton(client, staff, vials=195)  # ultra-frozen, in the pharmacy's freezer
    response = create_shipment(client, staff, [tray["id"]], from_site=PHARMACY, to_site=CENTRE)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "no_storage_at_destination"
    assert carton(client, staff, tray["id"])["status"] == "available"
