"""/api/v1/health: the database, the broker's reachability, the ingest workers' last commit
and the scheduler's lease age; 503 when one of them is down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from inventory import create_app
from inventory.db import unit_of_work
from inventory.services import health, leases
from tests.conftest import T0
from tests.support.mosquitto import MosquittoBroker, find_mosquitto, free_port


@pytest.fixture
def mosquitto() -> Iterator[MosquittoBroker]:
    if find_mosquitto() is None:
        pytest.skip("mosquitto binary not found (apt-get install mosquitto, or set MOSQUITTO_BIN)")
    with MosquittoBroker(persistence=False) as broker:
        yield broker


@pytest.fixture
def app_with_broker(database_url, clock):
    """make(url): the app with a broker configured; its engine is disposed afterwards."""
    made = []

    def make(url: str):
        made.append(
            create_app(
                {"TESTING": True, "DATABASE_URL": database_url, "CLOCK": clock, "MQTT_URL": url}
            )
        )
        return made[-1]

    yield make
    for app in made:
        app.extensions["inventory.engine"].dispose()


def check(app) -> tuple[int, dict]:
    response = app.test_client().get("/api/v1/health")
    return response.status_code, response.get_json()


def test_without_a_broker_the_broker_and_ingest_are_not_configured(client, db):
    response = client.get("/api/v1/health")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "not configured" and body["ingest"] == "not configured"
    assert body["scheduler"] == "not running"


def test_an_unreachable_broker_is_down(db, app_with_broker):
    app = app_with_broker(f"mqtt://svc:pw@127.0.0.1:{free_port()}")
    status, body = check(app)
    assert status == 503 and body["status"] == "degraded"
    assert body["broker"] == "down" and body["details"]["broker"]["error"]


@pytest.mark.mqtt
def test_the_ingest_workers_last_commit_decides_whether_it_is_down(
    db, clock, mosquitto, app_with_broker
):
    app = app_with_broker(mosquitto.url)
    status, body = check(app)
    assert body["broker"] == "ok" and body["ingest"] == "not running" and status == 200
    with unit_of_work(db) as session:
        leases.beat(session, "ingest:ingest-1", "ingest-1@host:1", T0, health.INGEST_TTL)
    clock.set(T0 + timedelta(minutes=2))
    status, body = check(app)
    assert status == 200 and body["ingest"] == "ok"
    assert body["details"]["ingest"]["age_s"] == 120.0
    clock.set(T0 + health.INGEST_TTL + timedelta(seconds=1))
    status, body = check(app)
    assert status == 503 and body["ingest"] == "down"


def test_a_lapsed_scheduler_lease_is_down(client, app, db, clock):
    assert leases.acquire_lease(db, "scheduler", "host-a:1", T0, leases.SCHEDULER_TTL)
    clock.set(T0 + timedelta(seconds=25))
    body = client.get("/api/v1/health").get_json()
    assert body["scheduler"] == "ok"
    assert body["details"]["scheduler"]["lease_age_s"] == 25.0
    clock.set(T0 + timedelta(seconds=61))
    response = client.get("/api/v1/health")
    assert response.status_code == 503 and response.get_json()["scheduler"] == "down"
