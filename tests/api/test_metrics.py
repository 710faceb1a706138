"""/metrics: served only to the holder of the metrics token, requests counted by URL rule."""

from __future__ import annotations

import pytest

from inventory import create_app


@pytest.fixture
def scraped(db, database_url, clock):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "CLOCK": clock, "METRICS_TOKEN": "s3cret"}
    )
    yield app.test_client()
    app.extensions["inventory.engine"].dispose()


def test_metrics_are_not_served_without_a_metrics_token_setting(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_answer_the_metrics_token_alone(scraped, token):
    assert scraped.get("/metrics").status_code == 401
    assert scraped.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    # an API token, even an admin's, is not the scraper's
    admin = token("admin")
    assert scraped.get("/metrics", headers=admin).status_code == 401

    scraped.get("/api/v1/cartons/12345", headers=admin)
    answer = scraped.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    text = answer.get_data(as_text=True)
    assert "inventory_open_excursions 0.0" in text.splitlines()
    assert any(
        'endpoint="/api/v1/cartons/<id:carton_id>"' in line
        and 'status="404"' in line
        and line.startswith("inventory_http_requests_total")
        for line in text.splitlines()
    )
    assert "/api/v1/cartons/12345" not in text  # the rule, never the raw path
