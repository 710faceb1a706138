"""Two people acting on the same carton at once: quantities never go below zero, a carton
is never shipped twice, and the loser gets a 409. Real concurrent connections on PostgreSQL."""

from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def needs_postgres(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("row locking races are tested on PostgreSQL (set INVENTORY_TEST_DATABASE_URL)")


def receive(client, headers, vials: int, state: str = "thawed", unit: str = "RH-APO-F1") -> dict:
    response = client.post(
        "/api/v1/receipts",
        headers=headers,
        json={
            "storage_unit": unit,
            "vials": vials,
            "state": state,
            "product": "comirnaty-grey-bivalent",
            "lot": "RACE1",
            "expiry": "2027-06-30",
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def race(app, calls: list[tuple[str, str, dict, dict]]) -> list:
    """Fire the calls at the same moment, each on its own connection; return the responses."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, method, path, headers, body):
        client = app.test_client()
        barrier.wait()
        results[index] = getattr(client, method)(path, headers=headers, json=body)

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_administrations_cannot_take_more_doses_than_the_carton_holds(
    app, client, seeded, token
):
    headers = token("pharmacist", site="RH-APO")
    carton = receive(client, headers, vials=1)  # 6 doses
    for _ in range(5):
        responses = race(
            app, [("post", f"/api/v1/cartons/{carton['id']}/administer", headers, {"doses": 4})] * 2
        )
        statuses = sorted(r.status_code for r in responses)
        after = client.get(f"/api/v1/cartons/{carton['id']}", headers=headers).json
        assert after["doses"] >= 0
        if statuses == [200, 409]:
            assert after["doses"] == 2
            break
        carton = receive(client, headers, vials=1)
    assert statuses == [200, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json["error"]["code"] in ("insufficient_doses", "concurrent_update")


def test_many_simultaneous_administrations_never_overdraw(app, client, seeded, token):
    headers = token("pharmacist", site="RH-APO")
    carton = receive(client, headers, vials=2)  # 12 doses
    responses = race(
        app, [("post", f"/api/v1/cartons/{carton['id']}/administer", headers, {"doses": 1})] * 16
    )
    ok = sum(r.status_code == 200 for r in responses)
    assert ok == 12
    assert all(r.status_code == 409 for r in responses if r.status_code != 200)
    assert client.get(f"/api/v1/cartons/{carton['id']}", headers=headers).json["doses"] == 0


def test_a_carton_cannot_be_shipped_twice(app, client, seeded, token):
    headers = token("pharmacist", site="RH-APO")
    carton = receive(client, headers, vials=5)

    def body(to):
        return {"from_site": "RH-APO", "to_site": to, "cartons": [carton["id"]]}

    responses = race(
        app,
        [
            ("post", "/api/v1/shipments", headers, body("RH-VC-BELLA")),
            ("post", "/api/v1/shipments", headers, body("RH-VC-BELLA")),
        ],
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    shipment = next(r for r in responses if r.status_code == 201).json
    dispatches = race(
        app, [("post", f"/api/v1/shipments/{shipment['id']}/dispatch", headers, None)] * 2
    )
    assert sorted(r.status_code for r in dispatches) == [200, 409]


def test_repack_and_administer_at_once_keep_the_doses_whole(app, client, seeded, token):
    headers = token("pharmacist", site="RH-APO")
    carton = receive(client, headers, vials=3)  # 18 doses
    responses = race(
        app,
        [
            (
                "post",
                f"/api/v1/cartons/{carton['id']}/repack",
                headers,
                {"cartons": [{"vials": 3, "storage_unit": "RH-APO-F2"}]},
            ),
            ("post", f"/api/v1/cartons/{carton['id']}/administer", headers, {"doses": 6}),
        ],
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([200, 409], [201, 409])
    trace = client.get(f"/api/v1/lots/{carton['lot_id']}/trace", headers=headers).json
    administered = sum(trace["administered_by_site"].values())
    assert trace["doses_on_hand"] + administered == 18
