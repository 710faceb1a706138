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


# ------------------------------------------------------------------ the description is the contract


def test_every_route_is_described_and_every_described_route_exists(app):
    """A new endpoint under /api/v1 or /public needs `@operation(...)` (api/contract.py)."""
    from inventory.api.description import build_spec, contract_rules, openapi_path, undocumented

    spec = build_spec(app)
    routes = {(method.lower(), openapi_path(rule)) for rule, method in contract_rules(app)}
    described = {(method, path) for path, item in spec["paths"].items() for method in item}

    missing = undocumented(app)
    assert not missing, (
        "these routes are not in the OpenAPI description; declare their contract with "
        "@operation(...) from inventory/api/contract.py: " + "; ".join(missing)
    )
    assert described - routes == set(), "described, but no such route"
    assert routes - described == set(), "routes missing from the description"


def test_a_route_without_a_contract_is_named():
    from flask import Flask

    from inventory.api.description import undocumented

    app = Flask(__name__)
    from flask import Blueprint

    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    bp.add_url_rule("/widgets", "widgets", lambda: "[]")
    app.register_blueprint(bp)

    assert undocumented(app) == ["GET /api/v1/widgets (api.widgets)"]


def test_the_description_validates_as_openapi_3_1(client):
    from openapi_spec_validator import validate

    spec = client.get(f"{API}/openapi.json").get_json()

    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_operation_describes_its_answers_with_media_type_and_schema(client):
    spec = client.get(f"{API}/openapi.json").get_json()

    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert op["responses"], (method, path)
            for status, answer in op["responses"].items():
                (media_type,) = answer["content"]
                assert answer["content"][media_type]["schema"], (method, path, status)
                if status.startswith("4"):
                    assert answer["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"
                    }
            if method in ("post", "put", "patch") and "security" not in op:
                assert {"401", "403", "404", "409", "422"} <= set(op["responses"]), (method, path)


def test_creates_answer_201_and_html_is_declared_as_such(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    paths = spec["paths"]

    for path in (
        "/sites",
        "/storage-units",
        "/products",
        "/devices",
        "/receipts",
        "/shipments",
        "/stock-requests",
        "/plans",
        "/cartons/{carton_id}/repack",
    ):
        assert "201" in paths[API + path]["post"]["responses"], path
        assert "200" not in paths[API + path]["post"]["responses"], path
    label = paths[f"{API}/cartons/{{carton_id}}/label"]["get"]["responses"]["200"]
    assert list(label["content"]) == ["text/html"]
    page = paths["/public/availability"]["get"]["responses"]["200"]
    assert list(page["content"]) == ["text/html"]
    health = paths[f"{API}/health"]["get"]["responses"]
    assert {"200", "503"} <= set(health)


def test_path_ids_are_positive_integers_and_codes_are_strings(client):
    spec = client.get(f"{API}/openapi.json").get_json()

    (carton,) = spec["paths"][f"{API}/cartons/{{carton_id}}"]["get"]["parameters"]
    assert carton["in"] == "path" and carton["required"]
    assert carton["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    (code,) = spec["paths"][f"{API}/products/{{code}}"]["get"]["parameters"]
    assert code["schema"]["type"] == "string"


def test_query_parameters_are_described_with_types_enums_and_required(client):
    spec = client.get(f"{API}/openapi.json").get_json()

    def query(path):
        op = spec["paths"][API + path]["get"]
        return {p["name"]: p for p in op["parameters"] if p["in"] == "query"}

    stock = query("/stock")  # a site or a region, one of them (issue 11: region-wide stock)
    assert stock["site"]["required"] is False and stock["region"]["required"] is False
    assert "region" in stock["site"]["description"] and "site" in stock["region"]["description"]
    cartons = query("/cartons")
    assert set(cartons["status"]["schema"]["enum"]) >= {"available", "held"}
    assert cartons["limit"]["schema"]["maximum"] == 1000
    assert {"cursor", "limit", "site", "product", "state"} <= set(cartons)
    capacity = query("/capacity")
    assert capacity["from"]["schema"]["format"] == "date"
    assert query("/storage-units/{code}/time-in-range")["from"]["schema"]["format"] == "date-time"
    listing = spec["paths"][f"{API}/cartons"]["get"]["responses"]["200"]
    assert {"X-Next-Cursor", "Link"} <= set(listing["headers"])


def test_posts_and_puts_take_an_idempotency_key(client):
    spec = client.get(f"{API}/openapi.json").get_json()

    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("post", "put") and "security" not in op:
                names = {p["name"] for p in op["parameters"] if p["in"] == "header"}
                assert "Idempotency-Key" in names, (method, path)


def test_appointments_take_a_json_list(client):
    spec = client.get(f"{API}/openapi.json").get_json()

    body = spec["paths"][f"{API}/appointments"]["put"]["requestBody"]["content"]
    schema = body["application/json"]["schema"]
    assert schema["type"] == "array" and schema["items"]["$ref"].endswith("/AppointmentInput")


def test_rules_between_fields_are_schema_and_dates_have_no_nonstandard_bounds(client):
    response = client.get(f"{API}/openapi.json")
    spec = response.get_json()
    schemas = spec["components"]["schemas"]

    assert schemas["PlanInput"]["oneOf"] == [{"required": ["pharmacy"]}, {"required": ["region"]}]
    (named, lot) = schemas["ReceiptInput"]["allOf"]
    assert {"required": ["scan"]} in named["anyOf"] and {"required": ["gtin"]} in named["anyOf"]
    assert {"required": ["lot"]} in lot["anyOf"]
    assert "x-minimum" not in response.get_data(as_text=True)
    assert "x-maximum" not in response.get_data(as_text=True)
