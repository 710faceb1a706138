"""The JSON API under /api/v1: bearer tokens and idempotent POSTs. Each request is one unit
of work (inventory.web_db.transactional), committed with its idempotency record."""

from __future__ import annotations

import functools
import hashlib

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from inventory.api.errors import error_response
from inventory.db.models import IdempotencyRecord
from inventory.domain.errors import InvalidInput
from inventory.web_db import get_session, now, settings, transactional

api = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """Row ids: positive and within the database's integer range; anything else is not found."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


@api.record_once
def _register_id_converter(state):
    state.app.url_map.converters["id"] = IdConverter


PUBLIC_ENDPOINTS = {"api.health", "api.openapi", "api.docs"}


def body(schema_class):
    """Load and validate the JSON body with a marshmallow schema; the view gets `data`.
    The schema is kept on the view so the OpenAPI spec can describe it."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            payload = request.get_json(silent=True)
            if payload is None:
                payload = {} if not request.get_data() else None
            if payload is None:
                raise InvalidInput("the body is not JSON", fields={"_body": ["not valid JSON"]})
            kwargs["data"] = schema_class().load(payload)
            return view(*args, **kwargs)

        wrapper.request_schema = schema_class
        return wrapper

    return decorate


def body_list(schema_class, max_items: int):
    """The JSON body is a list of rows of ``schema_class`` (at most ``max_items``); the view gets
    them as given in ``payload`` and validates each row itself, so one bad row names its index."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            payload = request.get_json(silent=True)
            if not isinstance(payload, list):
                raise InvalidInput(
                    "the body is a JSON list", fields={"_body": ["a JSON list of rows"]}
                )
            if len(payload) > max_items:
                raise InvalidInput(
                    f"at most {max_items} rows per batch",
                    fields={"_body": [f"at most {max_items} rows"]},
                )
            kwargs["payload"] = payload
            return view(*args, **kwargs)

        wrapper.request_schema = schema_class
        wrapper.request_max_items = max_items
        return wrapper

    return decorate


@api.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    from inventory.services.tokens import actor_for

    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    actor = (
        actor_for(get_session(), raw.strip(), cache_s=settings().token_cache_s)
        if scheme.lower() == "bearer" and raw.strip()
        else None
    )
    if actor is None:
        return error_response(401, "unauthorized", "a valid bearer token is required")
    g.actor = actor
    return _replay_idempotent()


def _idempotency_key() -> str | None:
    if request.method != "POST" and request.method != "PUT":
        return None
    return request.headers.get("Idempotency-Key") or None


def _request_hash() -> str:
    return hashlib.sha256(request.get_data()).hexdigest()


def _replay_idempotent():
    key = _idempotency_key()
    if key is None:
        return None
    if len(key) > 200:
        return error_response(
            422,
            "invalid",
            "Idempotency-Key is too long",
            {"Idempotency-Key": ["at most 200 characters"]},
        )
    record = get_session().scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.token_id == g.actor.token_id, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if (
        record.method != request.method
        or record.path != request.path
        or record.request_hash != _request_hash()
    ):
        return error_response(
            422, "idempotency_key_reused", "this Idempotency-Key was used for a different request"
        )
    response = jsonify(record.body)
    response.status_code = record.status_code
    response.headers["Idempotent-Replay"] = "true"
    return response


def _remember_answer(session, response) -> None:
    """Keep the answer to a POST or PUT with an Idempotency-Key, committed with its work."""
    key = _idempotency_key()
    if key is None or not response.is_json:
        return
    session.add(
        IdempotencyRecord(
            token_id=g.actor.token_id,
            key=key,
            method=request.method,
            path=request.path,
            request_hash=_request_hash(),
            status_code=response.status_code,
            body=response.get_json(),
            created_at=now(),
        )
    )


transactional(api, before_commit=_remember_answer)


from inventory.api import (  # noqa: E402,F401  (routes)
    cartons,
    catalogue,
    dashboards,
    logistics,
    meta,
    planning,
    telemetry,
    uptake,
)
