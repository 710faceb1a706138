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
