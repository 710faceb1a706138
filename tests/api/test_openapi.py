"""The OpenAPI 3 description lists the contract's paths; a browsable page serves it."""

from __future__ import annotations

import re

from tests.api.helpers import API

CONTRACT = {
    ("get", "/api/v1/products"),
    ("post", "/api/v1/products"),
    ("patch", "/api/v1/products/{}"),
    ("get", "/api/v1/sites"),
    ("post", "/api/v1/sites"),
    ("get", "/api/v1/storage-units"),
    ("post", "/api/v1/storage-units"),
    ("post", "/api/v1/receipts"),
    ("get", "/api/v1/cartons"),
    ("get", "/api/v1/cartons/{}"),
    ("get", "/api/v1/cartons/{}/label"),
    ("post", "/api/v1/cartons/{}/thaw"),
    ("post", "/api/v1/cartons/{}/repack"),
    ("post", "/api/v1/cartons/{}/administer"),
    ("post", "/api/v1/cartons/{}/waste"),
    ("post", "/api/v1/cartons/{}/hold"),
    ("post", "/api/v1/cartons/{}/release"),
    ("post", "/api/v1/cartons/{}/discard"),
    ("get", "/api/v1/lots"),
    ("post", "/api/v1/lots/{}/recall"),
    ("get", "/api/v1/lots/{}/trace"),
    ("post", "/api/v1/stock-requests"),
    ("post", "/api/v1/stock-requests/{}/approve"),
    ("post", "/api/v1/stock-requests/{}/reject"),
    ("post", "/api/v1/shipments"),
    ("post", "/api/v1/shipments/{}/dispatch"),
    ("post", "/api/v1/shipments/{}/receive"),
    ("get", "/api/v1/stock"),
    ("get", "/api/v1/health"),
}


def operations(spec: dict) -> set[tuple[str, str]]:
    return {
        (method, re.sub(r"{[^}]+}", "{}", path))
        for path, item in spec["paths"].items()
        for method in item
    }


def test_the_spec_is_openapi_3_and_needs_no_token(client, seeded):
    response = client.get(f"{API}/openapi.json")

    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"]


def test_the_spec_lists_every_contract_path(client, seeded):
    spec = client.get(f"{API}/openapi.json").get_json()

    assert CONTRACT - operations(spec) == set()


def test_request_bodies_are_described_by_schemas(client, seeded):
    spec = client.get(f"{API}/openapi.json").get_json()

    receipt = spec["paths"]["/api/v1/receipts"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    name = receipt["$ref"].rsplit("/", 1)[-1]
    properties = spec["components"]["schemas"][name]["properties"]
    assert {"storage_unit", "vials", "state", "product", "gtin", "lot", "expiry", "scan"} <= set(
        properties
    )


def test_the_spec_declares_bearer_authentication(client, seeded):
    spec = client.get(f"{API}/openapi.json").get_json()

    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_the_docs_page_is_html(client, seeded):
    response = client.get(f"{API}/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "openapi.json" in response.get_data(as_text=True)
