from collections import Counter

import pytest

from inventory.domain.gs1 import is_valid_gtin
from inventory.domain.stability import State, StorageProfile
from inventory.seed_data import PRODUCTS, REGIONS, network

SITES = network()
SITES_BY_CODE = {site["code"]: site for site in SITES}
STORAGE_UNITS = [unit for site in SITES for unit in site["storage_units"]]


def sites_of_kind(kind: str) -> list[dict]:
    return [site for site in SITES if site["kind"] == kind]


# --- products -------------------------------------------------------------------------------


@pytest.mark.parametrize("product", PRODUCTS, ids=lambda product: product["code"])
def test_every_product_profile_is_a_valid_storage_profile(product):
    profile = StorageProfile.from_dict(product["storage_profile"])

    assert profile.allows(State.THAWED)


def test_catalogue_holds_every_presentation_of_the_season():
    assert len(PRODUCTS) == 11
    assert Counter(product["programme"] for product in PRODUCTS) == {
        "covid-19": 5,
        "influenza": 3,
        "pneumococcal": 3,
    }


def test_product_codes_are_unique():
    codes = [product["code"] for product in PRODUCTS]

    assert len(codes) == len(set(codes))


def test_every_gtin_is_valid_and_belongs_to_one_product():
    gtins = [gtin for product in PRODUCTS for gtin in product["gtins"]]

    assert gtins and all(len(gtin) == 14 and is_valid_gtin(gtin) for gtin in gtins)
    assert len(gtins) == len(set(gtins))


def test_only_multi_dose_vials_have_an_in_use_window():
    for product in PRODUCTS:
        profile = StorageProfile.from_dict(product["storage_profile"])
        assert (profile.in_use_hours is not None) == (product["doses_per_vial"] > 1)


def test_never_frozen_products_need_no_thawing():
    for product in PRODUCTS:
        profile = StorageProfile.from_dict(product["storage_profile"])
        frozen = profile.allows(State.ULTRA_FROZEN) or profile.allows(State.FROZEN)
        assert (product["thaw_lead_hours"] > 0) == frozen


def test_only_comirnaty_purple_may_return_to_ultra_frozen():
    refreezable = [
        product["code"]
        for product in PRODUCTS
        if product["storage_profile"].get("refreeze_allowed")
    ]

    assert refreezable == ["comirnaty-30-purple"]


# --- network --------------------------------------------------------------------------------


def test_network_is_the_same_on_every_call():
    assert network() == SITES


def test_site_and_storage_unit_codes_are_unique():
    site_codes = [site["code"] for site in SITES]
    unit_codes = [unit["code"] for unit in STORAGE_UNITS]

    assert len(site_codes) == len(set(site_codes))
    assert len(unit_codes) == len(set(unit_codes))


def test_storage_unit_codes_start_with_their_site_code():
    for site in SITES:
        for unit in site["storage_units"]:
            assert unit["code"].startswith(site["code"] + "-")


def test_the_national_supplier_is_ssi_with_ultra_low_freezers():
    [supplier] = sites_of_kind("supplier")

    assert supplier["code"] == "SSI"
    assert supplier["region"] == "Hovedstaden"
    assert "supplied_by" not in supplier
    assert {unit["kind"] for unit in supplier["storage_units"]} >= {"ultra_low_freezer", "fridge"}


def test_network_spans_the_five_regions():
    assert {site["region"] for site in SITES} == set(REGIONS)
    assert len(REGIONS) == 5


def test_each_region_has_one_or_two_hospital_pharmacies_that_can_thaw():
    per_region = Counter(site["region"] for site in sites_of_kind("hospital_pharmacy"))

    assert set(per_region) == set(REGIONS)
    assert all(1 <= count <= 2 for count in per_region.values())
    for pharmacy in sites_of_kind("hospital_pharmacy"):
        kinds = {unit["kind"] for unit in pharmacy["storage_units"]}
        assert kinds == {"ultra_low_freezer", "freezer", "fridge"}
        assert pharmacy["supplied_by"] == "SSI"


def test_at_least_22_vaccination_centres_and_four_per_region():
    centres = sites_of_kind("vaccination_centre")
    per_region = Counter(site["region"] for site in centres)

    assert len(centres) >= 22
    assert all(per_region[region] >= 4 for region in REGIONS)


def test_about_forty_gp_practices_and_ten_mobile_units_each_with_a_cool_box():
    assert 35 <= len(sites_of_kind("gp_practice")) <= 45
    mobile_units = sites_of_kind("mobile_unit")
    assert len(mobile_units) == 10
    for unit in mobile_units:
        assert [storage["kind"] for storage in unit["storage_units"]] == ["cool_box"]


def test_every_delivery_point_is_served_by_a_hospital_pharmacy_in_its_region():
    for site in SITES:
        if site["kind"] in ("supplier", "hospital_pharmacy"):
            continue
        pharmacy = SITES_BY_CODE[site["supplied_by"]]
        assert pharmacy["kind"] == "hospital_pharmacy", site["code"]
        assert pharmacy["region"] == site["region"], site["code"]


def test_storage_unit_ranges_match_their_kind():
    expected = {
        "ultra_low_freezer": (-90, -60),
        "freezer": (-25, -15),
        "fridge": (2, 8),
        "cool_box": (2, 8),
    }
    for unit in STORAGE_UNITS:
        assert (unit["min_c"], unit["max_c"]) == expected[unit["kind"]], unit["code"]
        assert unit["capacity_vials"] > 0


def test_every_product_has_somewhere_to_be_stored_in_its_first_state():
    # Each product's coldest state must fit inside some storage unit of the supplier.
    supplier_ranges = [
        (unit["min_c"], unit["max_c"]) for unit in SITES_BY_CODE["SSI"]["storage_units"]
    ]
    for product in PRODUCTS:
        profile = StorageProfile.from_dict(product["storage_profile"])
        coldest = next(iter(profile.windows))
        low, high = profile.range_for(coldest)
        assert any(low <= unit_min and unit_max <= high for unit_min, unit_max in supplier_ranges)
