"""The public pages without a browser: Danish first, English on request, search by postcode
or municipality (nearest sites first), filters by vaccine and type of site, at most one
computation a minute, 304 on a matching ETag."""

from __future__ import annotations

import re

from sqlalchemy import event

from tests.api.helpers import CENTRE, FLU, GREY
from tests.api.test_capacity import stock_at
from tests.api.test_public import book
from tests.web.conftest import signed_in_client

PUBLIC_ANSWERS = ("/public/availability?lang=en", "/public/map", "/public/availability.json")


def names_in_order(html: str) -> list[str]:
    return re.findall(r'<h[23] id="name-([A-Z0-9-]+)"', html)


def test_the_page_speaks_danish_first_and_english_on_request(client, seeded, db):
    stock_at(db, vials=25)
    danish = client.get("/public/availability")
    assert danish.status_code == 200 and danish.headers["Content-Language"] == "da"
    html = danish.get_data(as_text=True)
    assert '<html lang="da">' in html and "Ledige vaccinationstider" in html
    assert "25 ledige tider" in html and "Book tid" in html
    english = client.get("/public/availability?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Free vaccination appointments" in english
    assert "25 free appointments" in english and 'href="https://vacciner.dk"' in english


def test_times_and_days_are_copenhagen_time(client, seeded, db):
    stock_at(db, vials=5)
    html = client.get("/public/availability?lang=en").get_data(as_text=True)
    # T0 is 10:00 UTC, 11:00 in Copenhagen, on Saturday 21 November
    assert "11:00" in html and "Sat 21 Nov" in html


def test_a_postcode_lists_the_nearest_sites_first(client, seeded, db):
    stock_at(db, vials=5)
    html = client.get("/public/availability?q=8000&lang=en").get_data(as_text=True)
    order = names_in_order(html)
    assert order[0].startswith("RM-") and CENTRE not in order[:10]
    assert "nearest to 8000 Aarhus C first" in html and "km away" in html


def test_a_municipality_name_is_a_place_too(client, seeded, db):
    html = client.get("/public/availability?q=Bornholm&lang=en").get_data(as_text=True)
    assert names_in_order(html)[:2] == ["RH-VC-BORN", "RH-GP-007"] or names_in_order(html)[:2] == [
        "RH-GP-007",
        "RH-VC-BORN",
    ]


def test_an_unknown_place_says_so(client, seeded, db):
    html = client.get("/public/availability?q=Narnia&lang=en").get_data(as_text=True)
    assert "We could not find “Narnia”" in html


def test_filters_by_vaccine_and_type_of_site(client, seeded, db):
    stock_at(db, vials=5)
    stock_at(db, "RH-GP-001", product=GREY, vials=2, lot="GK1", thawed_days_ago=1)
    only_flu = names_in_order(
        client.get(f"/public/availability?vaccine={FLU}").get_data(as_text=True)
    )
    assert only_flu == [CENTRE]
    practices = names_in_order(
        client.get("/public/availability?kind=gp_practice").get_data(as_text=True)
    )
    assert "RH-GP-001" in practices and CENTRE not in practices


def test_the_page_is_computed_once_a_minute_and_answers_304_to_its_etag(client, seeded, token, db):
    admin = token("admin")
    stock_at(db, vials=25)
    first = client.get("/public/availability?lang=en")
    etag = first.headers["ETag"]
    book(client, admin, ["R1", "R2", "R3"])
    again = client.get("/public/availability?lang=en", headers={"If-None-Match": etag})
    assert again.status_code == 304 and first.headers["Cache-Control"] == "public, max-age=60"
    data = client.get("/public/availability.json")
    assert (
        client.get(
            "/public/availability.json", headers={"If-None-Match": data.headers["ETag"]}
        ).status_code
        == 304
    )


def test_the_form_works_without_javascript(client, seeded):
    html = client.get("/public/availability").get_data(as_text=True)
    assert '<form class="filters" method="get"' in html and "<script" not in html
    assert 'for="q"' in html and 'for="vaccine"' in html and 'for="kind"' in html
    assert client.get("/public/map").status_code == 200


def test_a_kept_answer_opens_no_database_connection_and_sets_no_cookie(
    client, app, seeded, person, db
):
    stock_at(db, vials=25)
    name, _ = person("pharmacist", site="RH-APO")
    signed_in_client(client, name)  # a signed-in person's cookie comes along
    first = {path: client.get(path) for path in PUBLIC_ANSWERS}
    checkouts = []
    for engine in set(app.extensions["inventory.engines"]):
        event.listen(engine, "checkout", lambda *a: checkouts.append(1))
    for path in PUBLIC_ANSWERS:
        again = client.get(path)
        unchanged = client.get(path, headers={"If-None-Match": first[path].headers["ETag"]})
        assert again.status_code == 200 and again.data == first[path].data
        assert unchanged.status_code == 304
        for answer in (first[path], again, unchanged):
            assert "Set-Cookie" not in answer.headers
            assert "Cookie" not in answer.headers.get("Vary", "")
            assert answer.headers["Cache-Control"] == "public, max-age=60"
    assert checkouts == []


def test_the_public_pages_go_by_lang_or_the_browser_not_the_session(client, seeded):
    english = client.get("/public/availability?lang=en")
    assert "Set-Cookie" not in english.headers and english.headers["Content-Language"] == "en"
    assert '<html lang="da">' in client.get("/public/availability").get_data(as_text=True)
    asked = client.get("/public/availability", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in asked.get_data(as_text=True)
    assert asked.headers["Vary"] == "Accept-Language"
    assert (
        client.get("/public/map", headers={"Accept-Language": "da"}).headers["Content-Language"]
        == "da"
    )
