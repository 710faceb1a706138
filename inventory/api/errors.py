"""Every error as JSON: domain errors by their own status and code, validation as 422 with
per-field messages, races as 409 (the database's failures are told apart in one place,
inventory.db.as_conflict). Never a 500 for bad input."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from inventory.db import as_conflict
from inventory.domain.errors import DomainError

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return error_response(exc.http_status, exc.code, exc.message, exc.fields)

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        messages = exc.messages if isinstance(exc.messages, dict) else {"_body": exc.messages}
        return error_response(422, "invalid", "the request has invalid fields", _flatten(messages))

    @app.errorhandler(StaleDataError)
    @app.errorhandler(IntegrityError)
    def lost_race(exc):
        return domain_error(as_conflict(exc))

    @app.errorhandler(DataError)
    def data_error(exc):
        # the database refused a value the schemas let through (a NUL character, say)
        return error_response(422, "invalid", "a value cannot be stored as given")

    @app.errorhandler(DBAPIError)
    def dbapi(exc: DBAPIError):
        conflict = as_conflict(exc)
        if conflict is not None:
            return domain_error(conflict)
        log.exception("database error on %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if isinstance(exc, MethodNotAllowed) and not _path_exists(exc.valid_methods or ()):
            exc = NotFound()
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error")


def _path_exists(methods) -> bool:
    """Werkzeug answers 405 when a path fits the pattern of a rule for another method even
    though that rule's converter refuses the value (an id beyond the database's range, say):
    such a path names nothing under any method, so it is a 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in methods:
        try:
            adapter.match(method=method)
            return True
        except RequestRedirect:
            return True
        except HTTPException:
            continue
    return False


def _flatten(messages: dict, prefix: str = "") -> dict[str, list[str]]:
    """{'cartons': {0: {'vials': ['...']}}} -> {'cartons.0.vials': ['...']}"""
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return flat
