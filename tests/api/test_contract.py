"""An operation's answer leaves only through its declared schema and statuses."""

from __future__ import annotations

import pytest
from flask import Flask
from marshmallow import Schema, fields

from inventory.api.contract import Reply, operation


class Thing(Schema):
    name = fields.String(required=True)


class Other(Schema):
    size = fields.Integer(required=True)


@pytest.fixture
def app():
    app = Flask(__name__)
    app.config["TESTING"] = True

    @app.get("/thing")
    @operation(Thing)
    def thing():
        return {"name": "fridge", "secret": "never on the wire"}

    @app.get("/created")
    @operation(Thing, status=201)
    def created():
        return Reply({"name": "new"}, headers={"Location": "/thing"})

    @app.get("/undeclared-status")
    @operation(Thing)
    def undeclared_status():
        return Reply({"name": "x"}, status=202)

    @app.get("/undeclared-schema")
    @operation(Thing)
    def undeclared_schema():
        return Reply({"size": 1}, schema=Other)

    @app.get("/tuple")
    @operation(Thing)
    def a_tuple():
        return {"name": "x"}, 200

    return app


def test_fields_the_schema_does_not_declare_never_leave(app):
    response = app.test_client().get("/thing")

    assert response.status_code == 200 and response.get_json() == {"name": "fridge"}


def test_the_declared_status_and_headers_are_answered(app):
    response = app.test_client().get("/created")

    assert response.status_code == 201 and response.headers["Location"] == "/thing"


@pytest.mark.parametrize("path", ["/undeclared-status", "/undeclared-schema", "/tuple"])
def test_an_answer_the_contract_does_not_declare_is_refused(app, path):
    with pytest.raises(TypeError):
        app.test_client().get(path)
