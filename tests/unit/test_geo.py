from collections import Counter

import pytest

from inventory.domain import geo
from inventory.seed_data import REGIONS, network

FINDABLE = [
    s for s in network() if s["kind"] in ("vaccination_centre", "gp_practice", "mobile_unit")
]


def test_the_98_municipalities_and_christianso_fall_in_the_five_regions():
    municipalities = geo.municipalities()
    assert len(municipalities) == 99
    assert Counter(m.region for m in municipalities.values()) == {
        "Hovedstaden": 30,
        "Syddanmark": 22,
        "Midtjylland": 19,
        "Sjaelland": 17,
        "Nordjylland": 11,
    }
    assert set(geo.regions()) == set(REGIONS)


def test_municipalities_whose_codes_look_like_the_capitals_belong_to_zealand():
    for code in ("0253", "0259", "0265", "0269"):
        assert geo.municipalities()[code].region == "Sjaelland"


def test_a_municipality_is_found_by_name_with_or_without_kommune():
    assert geo.municipality_named("Aarhus Kommune").code == "0751"
    assert geo.municipality_named("  københavn ").code == "0101"
    assert geo.municipality_named("Atlantis") is None


@pytest.mark.parametrize("site", FINDABLE, ids=lambda s: s["code"])
def test_every_seeded_vaccination_site_lies_in_its_municipality_and_region(site):
    municipality = geo.municipalities()[site["municipality"]]
    assert geo.in_polygons(site["lon"], site["lat"], municipality.polygons)
    assert geo.region_at(site["lon"], site["lat"]) == site["region"] == municipality.region
    assert site["address"] and len(site["postcode"]) == 4 and site["opening_hours"]


def test_distances_are_great_circle_kilometres():
    # Copenhagen town hall to Aarhus town hall: about 157 km as the crow flies
    assert 150 < geo.distance_km(55.676, 12.569, 56.152, 10.203) < 165


def test_a_postcode_finds_its_municipality_and_an_unlisted_one_the_nearest_below():
    assert geo.place_for("2300").municipality_code == "0101"
    assert geo.place_for("8000 Aarhus C").label == "8000 Aarhus C"
    assert geo.place_for("9991").municipality_code == "0813"  # 9990 Skagen
    assert geo.place_for("0999") is None


def test_a_municipality_or_town_name_finds_the_place_to_measure_from():
    aarhus = geo.place_for("Aarhus kommune")
    assert aarhus.municipality_code == "0751" and aarhus.postcode is None
    assert geo.place_for("Hellerup").municipality_code == "0157"
    assert geo.place_for("Narnia") is None


def test_every_listed_postcode_names_a_real_municipality():
    assert len(geo.postcodes()) > 500
    assert all(m in geo.municipalities() for _, m in geo.postcodes().values())
