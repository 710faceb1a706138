"""Every error as JSON, mapped in one place: domain errors by their own status and code,
validation as 422 with per-field messages, races as 409. Never a 500 for bad input."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from inventory.domain.errors import DomainError

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def is_lock_conflict(exc: DBAPIError) -> bool:
    """Lost races the database reports: a serialization failure or deadlock (PostgreSQL),
    or a busy database (SQLite)."""
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01", "55P03") or "database is locked" in str(exc.orig)


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return error_response(exc.http_status, exc.code, exc.message, exc.fields)

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        messages = exc.messages if isinstance(exc.messages, dict) else {"_body": exc.messages}
        return error_response(422, "invalid", "the request has invalid fields", _flatten(messages))

    @app.errorhandler(StaleDataError)
    def stale(exc):
        return error_response(
            409,
            "concurrent_update",
            "someone else changed this stock at the same moment; reload and retry",
        )

    @app.errorhandler(IntegrityError)
    def integrity(exc):
        return error_response(409, "conflict", "the change conflicts with existing data")

    @app.errorhandler(DataError)
    def data_error(exc):
        # the database refused a value the schemas let through (a NUL character, say)
        return error_response(422, "invalid", "a value cannot be stored as given")

    @app.errorhandler(DBAPIError)
    def dbapi(exc: DBAPIError):
        if is_lock_conflict(exc):
            return error_response(
                409, "concurrent_update", "the stock is busy with another change; retry"
            )
        log.exception("database error on %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error")


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
