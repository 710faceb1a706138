"""The OpenAPI 3 description, built from the routes and the contract each view declares
(inventory/api/contract.py): path parameters from the URL converters, query parameters, bodies
and answers from the marshmallow schemas the views load and dump with."""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema
from werkzeug.routing import Rule

from inventory.api import MAX_ID, IdConverter
from inventory.api.contract import Contract
from inventory.api.responses import Answer, Error

# the blueprints whose routes make the contract (staff pages and /metrics are not part of it)
CONTRACT_BLUEPRINTS = ("api", "public")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
ERRORS = {
    401: "no valid bearer token",
    403: "the token's role or scope may not do this",
    404: "unknown id or code, or not visible to this token",
    409: "a state conflict; `error.code` says which",
    422: "invalid input; `error.fields` names each field and what is wrong",
}
ERROR_CONTENT = {"application/json": {"schema": Error}}


def component_name(schema) -> str:
    """Answers keep their class names; request schemas are named for what they take."""
    cls = schema if isinstance(schema, type) else type(schema)
    if issubclass(cls, Answer):
        return cls.__name__
    return cls.__name__.removesuffix("Schema") + "Input"


def contract_rules(app: Flask) -> list[tuple[Rule, str]]:
    """(rule, method) for every route of the contract's blueprints."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in CONTRACT_BLUEPRINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return sorted(found, key=lambda pair: (pair[0].rule, pair[1]))


def undocumented(app: Flask) -> list[str]:
    """Routes of the contract whose view declares no contract (`@operation`)."""
    return [
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule, method in contract_rules(app)
        if getattr(app.view_functions[rule.endpoint], "contract", None) is None
    ]


def openapi_path(rule: Rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)


def build_spec(app: Flask) -> dict:
    spec = APISpec(
        title="Cold-chain vaccine inventory",
        version="1",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin(schema_name_resolver=component_name)],
        info={
            "description": "Custody, cold chain and allocation of Denmark's seasonal vaccines. "
            "Errors are `{error: {code, message, fields}}`. Lists take `limit` and `cursor`; "
            "when more rows exist the answer carries `X-Next-Cursor` and a `Link` (rel=next)."
        },
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict] = {}
    for rule, method in contract_rules(app):
        view = app.view_functions[rule.endpoint]
        contract: Contract | None = getattr(view, "contract", None)
        if contract is None:
            continue  # tests/api/test_openapi.py names it
        path = openapi_path(rule)
        paths.setdefault(path, {})[method.lower()] = _operation(spec, rule, method, view, contract)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    result = spec.to_dict()
    result["security"] = [{"bearer": []}]
    return result


def _ref(spec: APISpec, schema: type[Schema]) -> dict:
    """Register a schema (with the rules it states beyond its fields) and refer to it."""
    name = component_name(schema)
    if name not in spec.components.schemas:
        spec.components.schema(name, component=getattr(schema, "OPENAPI", None), schema=schema)
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(spec: APISpec, rule: Rule, method: str, view, contract: Contract) -> dict:
    name = rule.endpoint.split(".")[-1]
    operation: dict = {
        "operationId": name if len(rule.methods - {"HEAD", "OPTIONS"}) == 1 else f"{name}_{method}",
        "summary": contract.summary or name,
        "tags": [_tag(rule)],
        "parameters": _path_parameters(rule) + _query_parameters(contract),
        "responses": _responses(spec, method, view, contract),
    }
    if contract.public:
        operation["security"] = []
    elif method in ("POST", "PUT"):
        operation["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "a retry with the same key returns the first answer and "
                "changes nothing twice",
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
    body = getattr(view, "request_schema", None)
    if body is not None:
        operation["requestBody"] = _request_body(spec, view, body)
    return operation


def _tag(rule: Rule) -> str:
    parts = rule.rule.split("/")
    return parts[3] if rule.rule.startswith("/api/v1/") else "public"


def _path_parameters(rule: Rule) -> list[dict]:
    parameters = []
    for name, converter in rule._converters.items():
        if isinstance(converter, IdConverter):
            schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        else:
            schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _query_parameters(contract: Contract) -> list[dict]:
    return [{"in": "query", "schema": contract.query}] if contract.query is not None else []


def _request_body(spec: APISpec, view, schema: type[Schema]) -> dict:
    max_items = getattr(view, "request_max_items", None)
    if max_items is not None:
        content = {"type": "array", "items": _ref(spec, schema), "maxItems": max_items}
        required = True
    else:
        content = _ref(spec, schema)
        required = any(f.required for f in schema().fields.values())
    return {"required": required, "content": {"application/json": {"schema": content}}}


def _responses(spec: APISpec, method: str, view, contract: Contract) -> dict:
    answers = {str(contract.status): _success(spec, contract)}
    for status, description in contract.also.items():
        answers[str(status)] = {**_success(spec, contract), "description": description}
    for status in _error_statuses(method, view, contract):
        description = ERRORS.get(status, "error")
        if status == 409 and contract.conflicts:
            description += ": " + ", ".join(f"`{code}`" for code in contract.conflicts) + ", ..."
        answers[str(status)] = {"description": description, "content": ERROR_CONTENT}
    return answers


def _error_statuses(method: str, view, contract: Contract) -> list[int]:
    takes_input = contract.query is not None or getattr(view, "request_schema", None) is not None
    if contract.public:
        statuses = {422} if takes_input else set()
    else:
        statuses = {401, 403, 404}
        if takes_input or method in ("POST", "PUT"):
            statuses.add(422)  # the Idempotency-Key is input too
        if method in WRITES:
            statuses.add(409)
    return sorted(statuses | set(contract.errors))


def _success(spec: APISpec, contract: Contract) -> dict:
    if contract.html:
        what = "a page" if contract.media == "text/html" else contract.media
        return {"description": what, "content": {contract.media: {"schema": {"type": "string"}}}}
    schemas = [_ref(spec, s) for s in contract.schemas] or [{"type": "object"}]
    schema = schemas[0] if len(schemas) == 1 else {"oneOf": schemas}
    answer: dict = {"description": "success"}
    headers = {
        name: {"description": text, "schema": {"type": "string"}}
        for name, text in contract.headers.items()
    }
    if contract.many:
        schema = {"type": "array", "items": schema}
        headers["X-Next-Cursor"] = {
            "description": "present when more rows exist: pass it as `cursor`",
            "schema": {"type": "string"},
        }
        headers["Link"] = {
            "description": 'present when more rows exist: `<next page>; rel="next"`',
            "schema": {"type": "string"},
        }
    answer["content"] = {"application/json": {"schema": schema}}
    if headers:
        answer["headers"] = headers
    return answer
