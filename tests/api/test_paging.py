"""Lists that never lie: visibility is part of the query before the limit, every list pages
with `limit` and an opaque `cursor`, and the next page is named in X-Next-Cursor and Link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory.db import unit_of_work
from inventory.db.models import Site
from inventory.services import alerts
from tests.api.helpers import (
    CENTRE,
    OTHER_CENTRE,
    PHARMACY,
    get,
    ok,
    receive_flu,
)
from tests.conftest import T0


def raise_alerts(factory, site_code: str, count: int, start) -> list[int]:
    with unit_of_work(factory) as session:
        site = session.scalar(select(Site).where(Site.code == site_code))
        return [
            alerts.raise_alert(
                session,
                T0,
                kind="device_silent",
                site_id=site.id,
                at=start + timedelta(seconds=i),
                message=f"silent {i}",
            ).id
            for i in range(count)
        ]


def all_pages(client, path: str, headers: dict) -> tuple[list, int]:
    """Follow the Link headers to the end; returns every item and the number of pages."""
    items, pages, url = [], 0, "/api/v1" + path
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        items += response.get_json()
        pages += 1
        link = response.headers.get("Link")
        if link is None:
            assert "X-Next-Cursor" not in response.headers
            break
        assert link.endswith('>; rel="next"')
        url = link[1 : link.index(">")]
        assert response.headers["X-Next-Cursor"] in url
        url = url.removeprefix("http://localhost")
    return items, pages


def test_a_page_is_full_although_many_invisible_alerts_come_before_the_visible_ones(
    client, seeded, manager
):
    # newer alerts at another centre first (the list is newest first), then the manager's own
    mine = raise_alerts(seeded, CENTRE, 5, T0)
    raise_alerts(seeded, OTHER_CENTRE, 150, T0 + timedelta(hours=1))
    response = get(client, "/alerts?limit=3", manager)
    page = ok(response)
    assert [a["id"] for a in page] == mine[::-1][:3]  # before: an empty first page
    assert "X-Next-Cursor" in response.headers
    items, pages = all_pages(client, "/alerts?limit=3", manager)
    assert [a["id"] for a in items] == mine[::-1] and pages == 2


def test_every_alert_is_listed_once_across_pages_in_order(client, seeded, admin):
    ids = raise_alerts(seeded, CENTRE, 7, T0)
    items, pages = all_pages(client, "/alerts?limit=2&state=open", admin)
    assert [a["id"] for a in items] == ids[::-1] and pages == 4


def test_cartons_page_in_first_expiry_first_out_order(client, seeded, staff):
    made = [receive_flu(client, staff, lot=f"VT{i:03}", vials=1)["id"] for i in range(5)]
    items, pages = all_pages(client, f"/cartons?site={PHARMACY}&limit=2", staff)
    assert sorted(c["id"] for c in items) == sorted(made) and pages == 3
    assert [c["bud"] for c in items] == sorted(c["bud"] for c in items)
    assert ok(get(client, f"/cartons?site={PHARMACY}", staff)) == items  # default limit 100


@pytest.mark.parametrize(
    "path",
    [
        "/alerts",
        "/cartons",
        "/shipments",
        "/stock-requests",
        "/excursions",
        "/devices",
        "/products",
        "/sites",
        "/storage-units",
        "/lots",
        "/plans",
        "/region-plans",
        "/thaw-tasks",
    ],
)
def test_every_list_pages_and_refuses_a_bad_limit_or_cursor(client, seeded, admin, path):
    assert isinstance(ok(get(client, f"{path}?limit=1000", admin)), list)
    for limit in ("0", "1001", "-1", "many"):
        response = get(client, f"{path}?limit={limit}", admin)
        assert response.status_code == 422
        assert "limit" in response.get_json()["error"]["fields"]
    for cursor in (
        "not-a-cursor",
        "W3siZHQiOiJ4In1d",
        "W251bGxd",
        "WzEsMiwzXQ",
        "e30",
        "W3RydWVd",
        "W1sxXV0",
    ):
        response = get(client, f"{path}?cursor={cursor}", admin)
        assert response.status_code == 422, cursor
        assert "cursor" in response.get_json()["error"]["fields"]


def test_sites_page_through_the_whole_network(client, seeded, admin):
    everything = ok(get(client, "/sites?limit=1000", admin))
    items, pages = all_pages(client, "/sites?limit=10", admin)
    assert items == everything and pages == -(-len(everything) // 10)


def test_a_coordinator_sees_region_wide_stock_in_one_call(client, seeded, staff, token, manager):
    receive_flu(client, staff, vials=20)
    coordinator = token("coordinator", region="Hovedstaden")
    body = ok(get(client, "/stock?region=Hovedstaden", coordinator))
    assert body["region"] == "Hovedstaden"
    by_site = {s["site"]: s["lines"] for s in body["sites"]}
    assert CENTRE in by_site and PHARMACY in by_site
    alone = ok(get(client, f"/stock?site={PHARMACY}", coordinator))
    assert by_site[PHARMACY] == alone["lines"]
    assert sum(line["on_hand"] for line in by_site[PHARMACY]) == 20
    # the pharmacist sees its region; a centre manager only its own site
    assert {s["site"] for s in ok(get(client, "/stock?region=Hovedstaden", staff))["sites"]} == set(
        by_site
    )
    assert [s["site"] for s in ok(get(client, "/stock?region=Hovedstaden", manager))["sites"]] == [
        CENTRE
    ]
    assert get(client, "/stock?region=Syddanmark", manager).status_code == 404
    assert get(client, "/stock?region=Nowhere", coordinator).status_code == 404
    assert get(client, f"/stock?region=Hovedstaden&site={PHARMACY}", staff).status_code == 422


def test_a_query_string_asked_again_answers_the_same_and_a_bad_one_is_refused_each_time(
    client, seeded, staff, manager
):
    receive_flu(client, staff, vials=20)
    receive_flu(client, staff, vials=10)
    first = get(client, f"/cartons?site={PHARMACY}&limit=1", staff)
    again = get(client, f"/cartons?site={PHARMACY}&limit=1", staff)
    assert ok(first) == ok(again) and len(ok(first)) == 1
    assert first.headers["X-Next-Cursor"] == again.headers["X-Next-Cursor"]
    # the next page's query is another string: loaded on its own, with its own cursor
    cursor = first.headers["X-Next-Cursor"]
    following = ok(get(client, f"/cartons?site={PHARMACY}&limit=1&cursor={cursor}", staff))
    assert following and following[0]["id"] != ok(first)[0]["id"]
    # the same string from someone who may not see the site is still refused
    assert get(client, f"/cartons?site={PHARMACY}&limit=1", manager).status_code in (403, 404)
    for _ in range(2):
        response = get(client, f"/cartons?site={PHARMACY}&limit=0", staff)
        assert response.status_code == 422
        assert "limit" in response.get_json()["error"]["fields"]
