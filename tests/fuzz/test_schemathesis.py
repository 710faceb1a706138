"""schemathesis against the app with the demo's data, as an admin and as a centre manager:
every operation of the OpenAPI description, with data that fits the schemas and data that
does not, checked for server errors and for status codes, content types and response bodies
that the description does not admit. Bounded by the number of examples per operation (about a
minute per role on this machine)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from inventory import create_app
from inventory.db import unit_of_work
from inventory.services import seed
from tests.api.helpers import CENTRE, GREY, PHARMACY
from tests.support.database import empty_all_tables

pytestmark = pytest.mark.fuzz

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25  # per operation and role; the run's length follows from it
ROLES = {"admin": {}, "centre_manager": {"site": CENTRE}}
TALLY: dict[str, dict] = defaultdict(
    lambda: {"requests": 0, "failures": 0, "labels": set(), "seconds": 0.0, "statuses": Counter()}
)


@pytest.fixture(scope="module")
def demo(engine, database_url, tmp_path_factory):
    """An app over `flask seed --demo`'s data, with a booking day and a delivery at the centre."""
    from inventory.clock import FixedClock
    from inventory.db import make_session_factory
    from inventory.services.tokens import create_token
    from tests.conftest import T0

    empty_all_tables(engine)
    sessions = make_session_factory(engine)
    with unit_of_work(sessions) as session:
        seed.load_catalogue(session)
        seed.load_network(session)
        seed.load_demo_stock(session, T0)
        tokens = {
            role: create_token(session, T0, role=role, name=f"fuzz {role}", **scope)[1]
            for role, scope in ROLES.items()
        }
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "CLOCK": FixedClock(T0),
            "PLAN_TIME_LIMIT_S": 0.5,
        }
    )
    _stock_the_centre(app.test_client(), {"Authorization": f"Bearer {tokens['admin']}"})
    yield app, tokens
    app.extensions["inventory.engine"].dispose()
    empty_all_tables(engine)


def _stock_the_centre(client, admin):
    """A carton shipped to the centre and received, and bookings there: the manager's world."""
    api = "/api/v1"
    carton = next(
        c
        for c in client.get(f"{api}/cartons", headers=admin, query_string={"site": PHARMACY}).json
        if c["product"] == GREY and c["state"] == "thawed" and c["vials"] == 10
    )
    shipment = client.post(
        f"{api}/shipments",
        headers=admin,
        json={"from_site": PHARMACY, "to_site": CENTRE, "cartons": [carton["id"]]},
    ).json
    client.post(f"{api}/shipments/{shipment['id']}/dispatch", headers=admin)
    received = client.post(
        f"{api}/shipments/{shipment['id']}/receive",
        headers=admin,
        json={
            "storage_unit": f"{CENTRE}-F1",
            "items": [{"carton": carton["id"], "accepted": True}],
        },
    )
    assert received.status_code == 200, received.json
    from tests.conftest import T0

    day = (T0 + timedelta(days=1)).date().isoformat()
    bookings = [
        {"ref": f"F-{i}", "site": CENTRE, "day": day, "slot": "09:00", "product": GREY}
        for i in range(8)
    ]
    assert client.put(f"{api}/appointments", headers=admin, json=bookings).status_code == 200


def _description() -> dict:
    """The description as the app serves it (it depends on the routes, not on the data)."""
    from inventory.api.description import build_spec

    return build_spec(create_app({"TESTING": True, "DATABASE_URL": "sqlite://"}))


schema = schemathesis.openapi.from_dict(_description())
schema.config.generation.update(max_examples=EXAMPLES)


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def call_as(role: str, case, demo) -> None:
    app, tokens = demo
    tally = TALLY[role]
    tally["requests"] += 1
    started = time.monotonic()
    try:
        response = case.call_and_validate(
            app=app, headers={"Authorization": f"Bearer {tokens[role]}"}, checks=CHECKS
        )
    except BaseException:  # schemathesis reports its failures as an exception group
        tally["failures"] += 1
        raise
    finally:
        tally["seconds"] += time.monotonic() - started
    tally["statuses"][response.status_code] += 1
    tally["labels"].add(case.operation.label)


@schema.parametrize()
@FUZZ
def test_an_admin_meets_only_what_the_description_says(case, demo):
    call_as("admin", case, demo)


@schema.parametrize()
@FUZZ
def test_a_centre_manager_meets_only_what_the_description_says(case, demo):
    call_as("centre_manager", case, demo)
