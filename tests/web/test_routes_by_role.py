"""Every GET page of every staff blueprint, signed in as each role, answers without a server
error: 200, a redirect, or a refusal (403, 404, 422), never 500."""

from __future__ import annotations

import pytest

from tests.api.helpers import CENTRE, PHARMACY
from tests.web.conftest import signed_in_client
from tests.web.test_units_region import FRIDGE, admin, hot_fridge, region_scenario

__all__ = ["admin", "hot_fridge", "region_scenario"]  # fixtures

PUBLIC_BLUEPRINTS = {"public", "api", "static", None}
ELSEWHERE = "RH-VC-BALL"  # a centre the scenario's lot never reached
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


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_no_page_or_fragment_shows_another_sites_stock(app, person, region_scenario, htmx):
    """A centre manager of a site the lot never reached walks every staff page, as a page and
    as an htmx fragment, with the ids of the lot's cartons, unit and lot filled in: none
    shows a carton, the lot or the fridge of another site."""
    ids = {
        "code": FRIDGE,
        "lot_id": region_scenario["lot"],
        "carton_id": region_scenario["cartons"][2],  # at the Bella Center
    }
    paths = _staff_get_paths(app, ids)
    paths += [f"/cartons/{c}" for c in region_scenario["cartons"]]
    paths += [f"/stock?site={s}" for s in (CENTRE, PHARMACY, "all")]
    paths += [f"/units?site={s}" for s in (CENTRE, "all")]
    name, _ = person("centre_manager", site=ELSEWHERE)
    browser = signed_in_client(app.test_client(), name)
    headers = {"HX-Request": "true"} if htmx else {}
    secrets = ["GK500", FRIDGE] + [f"/cartons/{c}" for c in region_scenario["cartons"]]
    shown = {}
    for path in paths:
        answer = browser.get(path, headers=headers)
        assert answer.status_code < 500, path
        body = answer.get_data(as_text=True)
        leaked = [s for s in secrets if s in body]
        if answer.status_code == 200 and leaked:
            shown[path] = leaked
    assert shown == {}
