"""Revoking a token: refused at once by the process that revoked it, even though tokens'
rights are kept for a few seconds between requests."""

from __future__ import annotations

import pytest

from inventory import create_app


@pytest.fixture
def cached_app(db, database_url, clock):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "CLOCK": clock, "TOKEN_CACHE_S": 3600}
    )
    yield app
    app.extensions["inventory.engine"].dispose()


def test_a_revoked_token_is_refused_at_once_though_its_rights_were_kept(cached_app, seeded, token):
    client = cached_app.test_client()
    header = token("centre_manager", site="RH-VC-BELLA", name="Bella tablet")
    other = token("centre_manager", site="RH-VC-BELLA", name="Bella desk")
    assert client.get("/api/v1/cartons", headers=header).status_code == 200
    assert client.get("/api/v1/cartons", headers=other).status_code == 200

    done = revoke(cached_app, "--name", "Bella tablet")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("revoked: ")

    assert client.get("/api/v1/cartons", headers=header).status_code == 401
    assert client.get("/api/v1/cartons", headers=other).status_code == 200
    again = revoke(cached_app, "--name", "Bella tablet")
    assert again.exit_code != 0 and "no such token" in again.output


def test_revoke_token_needs_an_id_or_a_name(cached_app):
    done = revoke(cached_app)
    assert done.exit_code != 0 and "name a token" in done.output


def revoke(app, *args: str):
    with app.app_context():
        return app.test_cli_runner().invoke(args=["revoke-token", *args])


def test_a_cached_token_keeps_its_scope(cached_app, seeded, token):
    client = cached_app.test_client()
    header = token("centre_manager", site="RH-VC-BELLA")
    answers = set()
    for _ in range(2):  # the second answer comes from the kept rights
        answers.add(client.get("/api/v1/stock?site=RH-VC-OKSNE", headers=header).status_code)
        assert client.get("/api/v1/stock?site=RH-VC-BELLA", headers=header).status_code == 200
    assert len(answers) == 1 and answers.pop() in (403, 404)
