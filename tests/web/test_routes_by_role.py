"""Every GET page of every staff blueprint, signed in as each role, answers without a server
error: 200, a redirect, or a refusal (403, 404, 422), never 500."""

from __future__ import annotations

import pytest

from tests.api.helpers import CENTRE, PHARMACY
from tests.web.conftest import signed_in_client
from tests.web.test_units_region import FRIDGE, admin, hot_fridge, region_scenario

__all__ = ["admin", "hot_fridge", "region_scenario"]  # fixtures

PUBLIC_BLUEPRINTS = {"public", "api", "static", None}
ROLES = [
    ("admin", {}),
    ("pharmacist", {"site": PHARMACY}),
    ("centre_manager", {"site": CENTRE}),
    ("coordinator", {"region": "Hovedstaden"}),
    ("coordinator", {"region": "Syddanmark"}),
    ("auditor", {}),
]


def _staff_get_paths(app, ids: dict) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else None
        if blueprint in PUBLIC_BLUEPRINTS or "GET" not in rule.methods:
            continue
        values = {name: ids.get(name, 1) for name in rule.arguments}
        paths.append(rule.build(values, append_unknown=False)[1])
    return sorted(set(paths))


@pytest.mark.parametrize(("role", "scope"), ROLES, ids=[f"{r}-{s}" for r, s in ROLES])
def test_no_staff_page_fails_for_any_role(app, person, region_scenario, role, scope):
    ids = {
        "code": FRIDGE,
        "lot_id": region_scenario["lot"],
        "carton_id": region_scenario["cartons"][0],
    }
    paths = _staff_get_paths(app, ids)
    assert {"/units", "/region", f"/lots/{ids['lot_id']}/trace"} <= set(paths)
    name, _ = person(role, **scope)
    browser = signed_in_client(app.test_client(), name)
    answers = {path: browser.get(path).status_code for path in paths}
    failed = {path: status for path, status in answers.items() if status >= 500}
    assert failed == {}
    assert set(answers.values()) <= {200, 302, 303, 400, 403, 404, 405, 409, 422}
    expected = {
        "admin": {"/units": 200, "/region": 200, f"/units/{FRIDGE}": 200},
        "centre_manager": {"/units": 200, "/region": 403, f"/units/{FRIDGE}": 200},
        "auditor": {"/units": 200, "/region": 200, f"/units/{FRIDGE}": 200},
    }.get(role, {})
    if role == "coordinator":
        mine = scope["region"] == "Hovedstaden"
        expected = {"/units": 200, "/region": 200, f"/units/{FRIDGE}": 200 if mine else 404}
    for path, status in expected.items():
        assert answers[path] == status, path
