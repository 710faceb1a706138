def test_health_needs_no_token(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_every_other_call_needs_a_token(client, seeded):
    assert client.get("/api/v1/products").status_code == 401
    assert (
        client.get("/api/v1/products", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
