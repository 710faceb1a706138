"""Uptake: each administration counts under the person's target group and the site's
municipality (no personal data); coordinators see their region against the goals; the public
sees regions and groups with small counts suppressed."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from inventory.db.uptake import Administration
from tests.api.helpers import API, CENTRE, PHARMACY, get, ok, post, receive_flu

OTHER_REGION_CENTRE = "RS-VC-ROSK"


def give(client, headers, carton_id: int, doses: int, group: str | None = None):
    body = {"doses": doses} | ({"group": group} if group is not None else {})
    return post(client, f"/cartons/{carton_id}/administer", headers, body)


def flu_at(client, admin, site: str, vials: int = 100) -> int:
    return receive_flu(client, admin, site=site, vials=vials)["id"]


def test_an_administration_counts_under_its_group_and_the_sites_municipality(client, admin, db):
    carton = flu_at(client, admin, CENTRE)
    ok(give(client, admin, carton, 3, "65+"))
    ok(give(client, admin, carton, 2, "50+"))  # the booking system's older name
    with db() as session:
        rows = session.scalars(select(Administration).order_by(Administration.id)).all()
    assert [(r.target_group, r.doses, r.municipality_code, r.region) for r in rows] == [
        ("65+", 3, "0101", "Hovedstaden"),
        ("50-64", 2, "0101", "Hovedstaden"),
    ]
    assert {c.name for c in Administration.__table__.columns} >= {"target_group", "doses"}
    assert not {"ref", "cpr", "name", "person"} & {c.name for c in Administration.__table__.columns}


def test_clients_that_name_no_group_count_under_the_sites_default_or_other(client, admin, db):
    carton = flu_at(client, admin, CENTRE)
    ok(give(client, admin, carton, 1))
    ok(client.patch(f"{API}/sites/{CENTRE}", headers=admin, json={"default_target_group": "staff"}))
    ok(give(client, admin, carton, 1))
    with db() as session:
        groups = session.scalars(select(Administration.target_group).order_by(Administration.id))
        assert list(groups) == ["other", "staff"]


def test_an_unknown_group_is_refused_and_nothing_is_given(client, admin):
    carton = flu_at(client, admin, CENTRE)
    response = give(client, admin, carton, 1, "vip")
    assert response.status_code == 422
    assert "nursing_home" in response.get_json()["error"]["fields"]["group"][0]
    assert ok(get(client, f"/cartons/{carton}", admin))["doses"] == 100


def test_uptake_by_municipality_stands_against_the_goals(client, admin):
    carton = flu_at(client, admin, CENTRE)
    ok(give(client, admin, carton, 30, "65+"))
    ok(give(client, admin, carton, 10, "nursing_home"))
    ok(give(client, admin, carton, 7, "50-64"))
    report = ok(get(client, "/uptake?region=Hovedstaden", admin))
    copenhagen = next(a for a in report["areas"] if a["area"] == "0101")
    assert copenhagen["name"] == "København" and copenhagen["by_group"]["65+"] == 30
    goal = next(s for s in copenhagen["goals"] if s["goal"] == "65+")
    assert goal["vaccinated"] == 40 and goal["target"] == 0.95
    assert goal["population"] == copenhagen["population"]["85+"] + copenhagen["population"]["65-84"]
    assert goal["missing"] == -(-goal["population"] * 95 // 100) - 40
    assert copenhagen["weekly"][0]["week"] == "2026-11-16"  # the Monday of T0's week
    assert {a["region"] for a in report["areas"]} == {"Hovedstaden"}
    assert len(report["areas"]) == 30  # every municipality of the region, with or without doses


def test_a_coordinator_sees_their_own_region_only(client, admin, token):
    coordinator = token("coordinator", region="Sjaelland")
    assert ok(get(client, "/uptake", coordinator))["region"] == "Sjaelland"
    assert get(client, "/uptake?region=Hovedstaden", coordinator).status_code == 422
    assert get(client, "/uptake", token("centre_manager", site=CENTRE)).status_code == 403


def test_the_csv_export_gives_weekly_and_cumulative_doses(client, admin):
    carton = flu_at(client, admin, CENTRE)
    ok(give(client, admin, carton, 4, "risk"))
    response = get(client, "/uptake.csv?by=region", admin)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        {
            "area": "Hovedstaden",
            "name": "Hovedstaden",
            "region": "Hovedstaden",
            "week": "2026-11-16",
            "group": "risk",
            "doses": "4",
            "cumulative": "4",
        }
    ]


def test_an_admin_replaces_population_and_goals(client, admin, manager):
    rows = [{"municipality_code": "0101", "group": "50-64", "population": 1000}]
    assert client.put(f"{API}/population", headers=manager, json={"rows": rows}).status_code == 403
    ok(client.put(f"{API}/population", headers=admin, json={"rows": rows}))
    goals = {
        "goals": [{"name": "50-64", "groups": ["50-64"], "population": ["50-64"], "target": 0.5}]
    }
    ok(client.put(f"{API}/uptake/goals", headers=admin, json=goals))
    carton = flu_at(client, admin, CENTRE)
    ok(give(client, admin, carton, 7, "50-64"))
    copenhagen = next(
        a
        for a in ok(get(client, "/uptake?region=Hovedstaden", admin))["areas"]
        if a["area"] == "0101"
    )
    assert copenhagen["goals"] == [
        {
            "goal": "50-64",
            "target": 0.5,
            "vaccinated": 7,
            "population": 1000,
            "uptake": 0.007,
            "met": False,
            "missing": 493,
        }
    ]


def test_bad_population_rows_are_refused_per_field(client, admin):
    bad = {"rows": [{"municipality_code": "9999", "group": "teen", "population": -3}]}
    response = client.put(f"{API}/population", headers=admin, json=bad)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {
        "rows.0.municipality_code",
        "rows.0.group",
        "rows.0.population",
    }


def test_the_public_aggregate_suppresses_counts_below_five(client, admin):
    ok(give(client, admin, flu_at(client, admin, CENTRE), 4, "pregnant"))
    ok(give(client, admin, flu_at(client, admin, CENTRE, 50), 6, "staff"))
    ok(give(client, admin, flu_at(client, admin, OTHER_REGION_CENTRE), 5, "staff"))
    data = client.get("/public/uptake.json").get_json()
    regions = {r["region"]: r for r in data["regions"]}
    assert regions["Hovedstaden"]["by_group"]["pregnant"] is None
    assert regions["Hovedstaden"]["by_group"]["staff"] == 6
    assert regions["Sjaelland"]["by_group"]["staff"] == 5
    assert regions["Nordjylland"]["by_group"]["staff"] is None
    assert data["suppressed_below"] == 5
    assert PHARMACY not in client.get("/public/uptake.json").get_data(as_text=True)


def test_the_cli_replaces_population_from_a_csv_file_or_reports_bad_lines(
    app, seeded, db, tmp_path
):
    from inventory.db.uptake import Population

    path = tmp_path / "folk1a.csv"
    path.write_text("# FOLK1A 2025\nmunicipality_code,group,population\n0101,85+,12345\n")
    result = app.test_cli_runner().invoke(args=["import-population", str(path)])
    assert result.exit_code == 0 and "1 rows stored" in result.output
    with db() as session:
        assert session.get(Population, ("0101", "85+")).population == 12345
    path.write_text("municipality_code,group,population\n0101,85+,12\n0102,85+,x\n")
    result = app.test_cli_runner().invoke(args=["import-population", str(path)])
    assert result.exit_code == 1 and "line 3" in result.output
    with db() as session:
        assert session.get(Population, ("0101", "85+")).population == 12345
