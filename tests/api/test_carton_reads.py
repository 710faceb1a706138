"""The carton list and a carton's page read cartons as values (columns, not ORM objects) in
a few statements: what they answer is what the stored cartons say when loaded through the
ORM, and each person still sees only what they saw."""

from __future__ import annotations

import pytest

from inventory.presentation import carton_json, hold_json, iso
from inventory.services import stock
from inventory.services.access import SYSTEM
from tests.api.helpers import (
    CENTRE,
    OTHER_CENTRE,
    PHARMACY,
    administer,
    carton,
    cartons_at_centre,
    get,
    hold,
    ok,
    release,
    repacked_cartons,
    statements_of,
    thawed_tray,
)
from tests.api.test_paging import all_pages


def orm_list_entry(session, carton_id: int, now) -> dict:
    """A carton as the list showed it when it loaded ORM objects."""
    return carton_json(stock.get_carton(session, SYSTEM, carton_id), now)


def orm_page(session, carton_id: int, now) -> dict:
    """A carton's page as it was made from ORM objects: every hold, the ledger with the
    places named, the lineage both ways."""
    c = stock.get_carton(session, SYSTEM, carton_id)
    sites, units = stock.place_codes(session)

    def descendants(node) -> list[dict]:
        return [
            {
                "id": ch.id,
                "site": ch.site.code,
                "vials": ch.vials,
                "doses": ch.doses,
                "status": ch.status,
                "children": descendants(ch),
            }
            for ch in node.children
        ]

    history = [
        {
            "id": e.id,
            "at": iso(e.at),
            "actor": e.actor,
            "kind": e.kind,
            "carton": e.carton_id,
            "doses": e.doses,
            "change": e.change,
            "bucket": e.bucket,
            "from_site": sites.get(e.from_site_id),
            "to_site": sites.get(e.to_site_id),
            "from_storage_unit": units.get(e.from_storage_unit_id),
            "to_storage_unit": units.get(e.to_storage_unit_id),
            "reason": e.reason,
            "details": e.details,
        }
        for e in stock.history(session, c)
    ]
    return {
        **carton_json(c, now),
        "holds": [hold_json(h) for h in c.holds],
        "history": history,
        "lineage": {
            "ancestors": [
                {"id": a.id, "site": a.site.code, "vials": a.vials, "status": a.status}
                for a in stock.ancestors(c)
            ],
            "descendants": descendants(c),
        },
    }


@pytest.fixture
def lineage(client, staff, manager):
    """A tray repacked four levels deep and wide, a carton held, released and held again,
    and cartons delivered to the centre, one with an open vial."""
    tray = thawed_tray(client, staff, vials=40)
    first, second, _third = repacked_cartons(client, staff, tray["id"], [10, 10, 5])
    grand, _other = repacked_cartons(client, staff, first["id"], [4, 3])
    (great,) = repacked_cartons(client, staff, grand["id"], [2])
    ok(hold(client, staff, second["id"]))
    ok(release(client, staff, second["id"]))
    ok(hold(client, staff, second["id"], reason="second alarm"))
    at_centre = cartons_at_centre(client, staff, manager, [3, 2], lot="GK002")
    ok(administer(client, manager, at_centre[0]["id"], doses=2))  # a vial opened
    return {
        "tray": tray["id"],
        "held": second["id"],
        "deep": great["id"],
        "middle": first["id"],
        "centre": [c["id"] for c in at_centre],
    }


def test_the_list_answers_what_the_stored_cartons_say(
    app, client, staff, manager, clock, db, lineage
):
    listed = {
        who: ok(get(client, f"/cartons?site={site}", headers))
        for who, site, headers in (("pharmacy", PHARMACY, staff), ("centre", CENTRE, manager))
    }
    held = ok(get(client, f"/cartons?site={PHARMACY}&status=held", staff))

    with db() as session:
        for answer in (*listed.values(), held):
            assert answer == [orm_list_entry(session, c["id"], clock.now()) for c in answer]
    assert len(listed["pharmacy"]) == 7 and len(listed["centre"]) == 2
    assert [c["hold"]["reason"] for c in held] == ["second alarm"]
    assert [len(c["holds"]) for c in held] == [1]  # the list shows open holds only
    assert any(c["open_vial"] for c in listed["centre"])
    # page by page, the same list
    pages, count = all_pages(client, f"/cartons?site={PHARMACY}&limit=2", staff)
    assert pages == listed["pharmacy"] and count == 4


def test_a_cartons_page_answers_what_the_stored_carton_says(
    app, client, staff, manager, clock, db, lineage
):
    pages = {
        i: carton(client, staff, i)
        for i in (lineage["tray"], lineage["middle"], lineage["deep"], lineage["held"])
    }
    pages |= {i: carton(client, manager, i) for i in lineage["centre"]}

    with db() as session:
        for carton_id, page in pages.items():
            assert page == orm_page(session, carton_id, clock.now()), carton_id
    held = pages[lineage["held"]]
    assert [h["decision"] for h in held["holds"]] == ["released", None]
    assert held["hold"]["reason"] == "second alarm"
    assert len(pages[lineage["deep"]]["lineage"]["ancestors"]) == 3
    (first, _second, _third) = pages[lineage["tray"]]["lineage"]["descendants"]
    assert first["id"] == lineage["middle"]
    assert [c["id"] for c in first["children"][0]["children"]] == [lineage["deep"]]


def test_a_list_of_ones_own_site_is_one_statement_and_a_cartons_page_one(
    app, client, staff, lineage
):
    mine = f"/cartons?site={PHARMACY}"
    ok(get(client, mine, staff))  # the token is known from here on

    own_site = statements_of(app, lambda: ok(get(client, mine, staff)))
    not_held = statements_of(app, lambda: ok(get(client, mine + "&status=available", staff)))
    other_site = statements_of(app, lambda: ok(get(client, f"/cartons?site={CENTRE}", staff)))
    page = statements_of(app, lambda: carton(client, staff, lineage["deep"]))
    held_page = statements_of(app, lambda: carton(client, staff, lineage["held"]))

    assert (own_site, not_held, other_site) == (2, 1, 2)  # + the open holds; + the site
    assert (page, held_page) == (1, 2)  # the carton, its kin and its history; + its holds


def test_a_centre_manager_sees_only_their_own_sites_cartons(client, staff, manager, lineage):
    own = ok(get(client, f"/cartons?site={CENTRE}", manager))
    everything = ok(get(client, "/cartons", manager))

    assert sorted(c["id"] for c in own) == sorted(lineage["centre"])
    assert everything == own
    for site in (PHARMACY, OTHER_CENTRE):
        assert get(client, f"/cartons?site={site}", manager).status_code == 404
    assert get(client, f"/cartons?storage_unit={PHARMACY}-F1", manager).status_code == 404
    for carton_id in (lineage["tray"], lineage["held"]):
        assert get(client, f"/cartons/{carton_id}", manager).status_code == 404
    assert get(client, f"/cartons/{lineage['centre'][0]}", manager).status_code == 200
    # the pharmacist sees the centre its pharmacy supplies, in the same region
    assert sorted(c["id"] for c in ok(get(client, f"/cartons?site={CENTRE}", staff))) == sorted(
        lineage["centre"]
    )
