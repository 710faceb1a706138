"""The seed catalogue and a Danish-shaped distribution network, as plain data.

Used by the demo seed and by tests. Nothing here talks to a database: the loader turns these
dicts into rows.

Storage figures follow the public product labels of season 2022-23 (see DOMAIN.md, section 2).
Where sources disagree the shorter, EU-label figure is used and marked "check": confirm against
the current label before relying on it. Labels change during a season, which is why these figures
are data, never constants in code.

GTINs: the real ones are not public here. All GTINs below are invented under the fictitious
company prefix 2099120 (the GS1 200-299 range is never issued to companies, so they cannot
collide with a real pack); their check digits are valid. Indicator digit 0 is the vial carton,
1 the larger tray where a product ships in both.
"""

from __future__ import annotations

from typing import Any

FRIDGE = {"min_c": 2, "max_c": 8}

# --- products -------------------------------------------------------------------------------

PRODUCTS: list[dict[str, Any]] = [
    {
        "code": "comirnaty-30-purple",
        "name": "Comirnaty 30 micrograms/dose, purple cap (dilute before use)",
        "programme": "covid-19",
        "doses_per_vial": 6,
        "gtins": ["02099120001019", "12099120001016"],
        "storage_profile": {
            "states": {
                "ultra_frozen": {"min_c": -90, "max_c": -60},
                # A single period of up to 2 weeks; may return to ultra-frozen once.
                "frozen": {"min_c": -25, "max_c": -15, "max_hours": 14 * 24},
                "thawed": {**FRIDGE, "max_hours": 31 * 24},
                "punctured": {"min_c": 2, "max_c": 30},
            },
            "in_use_hours": 6,  # after dilution, at up to 30 C
            "room_temp_budget_hours": 2,
            "room_temp_max_c": 30,
            "refreeze_allowed": True,
        },
        "thaw_lead_hours": 3,  # a 195-vial tray in the fridge
    },
    {
        "code": "comirnaty-grey-bivalent",
        "name": "Comirnaty Original/Omicron BA.4-5, grey cap (ready to use)",
        "programme": "covid-19",
        "doses_per_vial": 6,
        "gtins": ["02099120002016", "12099120002013"],
        "storage_profile": {
            "states": {
                # 12 months from manufacture: that is the printed expiry.
                "ultra_frozen": {"min_c": -90, "max_c": -60},
                "thawed": {**FRIDGE, "max_hours": 10 * 7 * 24},
                "punctured": {"min_c": 2, "max_c": 30},
            },
            "in_use_hours": 12,
            "room_temp_budget_hours": 12,  # check: EU 12 h, UK label 24 h
            "room_temp_max_c": 30,
        },
        "thaw_lead_hours": 6,  # a 10-vial carton in the fridge
    },
    {
        "code": "comirnaty-10-orange",
        "name": "Comirnaty 10 micrograms/dose, orange cap, children 5-11 (dilute before use)",
        "programme": "covid-19",
        "doses_per_vial": 10,
        "gtins": ["02099120003013", "12099120003010"],
        "storage_profile": {
            "states": {
                "ultra_frozen": {"min_c": -90, "max_c": -60},
                "thawed": {**FRIDGE, "max_hours": 10 * 7 * 24},
                "punctured": {"min_c": 2, "max_c": 30},
            },
            "in_use_hours": 12,
            "room_temp_budget_hours": 12,  # check: some sources say 24 h; EU label 12 h
            "room_temp_max_c": 30,
        },
        "thaw_lead_hours": 4,  # a 10-vial carton in the fridge
    },
    {
        "code": "spikevax-bivalent-5-dose",
        "name": "Spikevax bivalent Original/Omicron BA.4-5, 2.5 mL vial (5 doses)",
        "programme": "covid-19",
        "doses_per_vial": 5,
        "gtins": ["02099120004010"],
        "storage_profile": {
            "states": {
                # -50..-15 for 9 months: the printed expiry.
                "frozen": {"min_c": -50, "max_c": -15},
                # 30 days; 14 days if the frozen shelf life was extended past 9 months.
                "thawed": {
                    **FRIDGE,
                    "max_hours": 30 * 24,
                    "reduced_max_hours": 14 * 24,
                    "reduced_if_frozen_over_days": 270,
                },
                "punctured": {"min_c": 2, "max_c": 25},
            },
            "in_use_hours": 6,  # check: the EU label may allow 19 h
            "room_temp_budget_hours": 24,  # at 8..25 C
            "room_temp_max_c": 25,
        },
        "thaw_lead_hours": 2,  # check: a 2.5 mL vial carton in the fridge
    },
    {
        "code": "spikevax-bivalent-10-dose",
        "name": "Spikevax bivalent Original/Omicron BA.4-5, 5 mL vial (10 doses)",
        "programme": "covid-19",
        "doses_per_vial": 10,
        "gtins": ["02099120005017"],
        "storage_profile": {
            "states": {
                "frozen": {"min_c": -50, "max_c": -15},
                "thawed": {
                    **FRIDGE,
                    "max_hours": 30 * 24,
                    "reduced_max_hours": 14 * 24,
                    "reduced_if_frozen_over_days": 270,
                },
                "punctured": {"min_c": 2, "max_c": 25},
            },
            "in_use_hours": 6,  # check: the EU label may allow 19 h
            "room_temp_budget_hours": 24,
            "room_temp_max_c": 25,
        },
        "thaw_lead_hours": 2.5,  # a 5 mL vial carton in the fridge
    },
    {
        "code": "vaxigriptetra",
        "name": "VaxigripTetra, prefilled syringe",
        "programme": "influenza",
        "doses_per_vial": 1,
        "gtins": ["02099120006014"],
        # Never frozen: to printed expiry in the fridge. No room-temperature data (check).
        "storage_profile": {"states": {"thawed": dict(FRIDGE)}},
        "thaw_lead_hours": 0,
    },
    {
        "code": "influvactetra",
        "name": "InfluvacTetra, prefilled syringe",
        "programme": "influenza",
        "doses_per_vial": 1,
        "gtins": ["02099120007011"],
        "storage_profile": {"states": {"thawed": dict(FRIDGE)}},  # as VaxigripTetra (check)
        "thaw_lead_hours": 0,
    },
    {
        "code": "fluenz-tetra",
        "name": "Fluenz Tetra, nasal spray, children 2-6",
        "programme": "influenza",
        "doses_per_vial": 1,
        "gtins": ["02099120008018"],
        # The 18-week, season-bound shelf life is the printed expiry.
        "storage_profile": {
            "states": {"thawed": dict(FRIDGE)},
            "room_temp_budget_hours": 12,  # check: once, up to 12 h at 25 C or below
            "room_temp_max_c": 25,
        },
        "thaw_lead_hours": 0,
    },
    {
        "code": "prevenar-13",
        "name": "Prevenar 13, prefilled syringe",
        "programme": "pneumococcal",
        "doses_per_vial": 1,
        "gtins": ["02099120009015"],
        "storage_profile": {
            "states": {"thawed": dict(FRIDGE)},  # never freeze; discard if frozen
            "room_temp_budget_hours": 96,  # cumulative, at 8..25 C
            "room_temp_max_c": 25,
        },
        "thaw_lead_hours": 0,
    },
    {
        "code": "prevenar-20",
        "name": "Prevenar 20, prefilled syringe",
        "programme": "pneumococcal",
        "doses_per_vial": 1,
        "gtins": ["02099120010011"],
        "storage_profile": {
            "states": {"thawed": dict(FRIDGE)},
            "room_temp_budget_hours": 96,
            "room_temp_max_c": 25,
        },
        "thaw_lead_hours": 0,
    },
    {
        "code": "pneumovax-23",
        "name": "Pneumovax 23, vial",
        "programme": "pneumococcal",
        "doses_per_vial": 1,
        "gtins": ["02099120011018"],
        # No room-temperature data: ask the manufacturer, so no budget at all.
        "storage_profile": {"states": {"thawed": dict(FRIDGE)}},
        "thaw_lead_hours": 0,
    },
]

# --- the network ----------------------------------------------------------------------------

REGIONS = ("Hovedstaden", "Sjaelland", "Syddanmark", "Midtjylland", "Nordjylland")

_STORAGE_RANGES = {
    "ultra_low_freezer": (-90, -60),
    "freezer": (-25, -15),
    "fridge": (2, 8),
    "cool_box": (2, 8),
}
_UNIT_CODE = {"ultra_low_freezer": "ULT", "freezer": "FRZ", "fridge": "F", "cool_box": "CB"}

# Per region: code prefix, hospital pharmacies, vaccination centres, GP practices and
# nursing-home teams. Each site names the pharmacy that serves it.
_REGIONAL_SITES: list[dict[str, Any]] = [
    {
        "prefix": "RH",
        "region": "Hovedstaden",
        "pharmacies": [
            ("RH-APO", "Region Hovedstadens Apotek, Herlev"),
            ("RH-APO-HIL", "Region Hovedstadens Apotek, Hillerød"),
        ],
        "centres": [
            ("BELLA", "Vaccinationscenter Bella Center, København", "RH-APO"),
            ("OKSNE", "Vaccinationscenter Øksnehallen, København", "RH-APO"),
            ("BALL", "Vaccinationscenter Ballerup", "RH-APO"),
            ("BORN", "Vaccinationscenter Bornholm, Rønne", "RH-APO"),
            ("HILL", "Vaccinationscenter Hillerød", "RH-APO-HIL"),
            ("HELS", "Vaccinationscenter Helsingør", "RH-APO-HIL"),
        ],
        "gp_towns": [
            ("København K", "RH-APO"),
            ("Frederiksberg", "RH-APO"),
            ("Valby", "RH-APO"),
            ("Amager", "RH-APO"),
            ("Nørrebro", "RH-APO"),
            ("Gentofte", "RH-APO"),
            ("Rønne", "RH-APO"),
            ("Lyngby", "RH-APO-HIL"),
            ("Helsingør", "RH-APO-HIL"),
            ("Hillerød", "RH-APO-HIL"),
        ],
        "mobile_units": [("København", "RH-APO"), ("Gribskov", "RH-APO-HIL")],
    },
    {
        "prefix": "RS",
        "region": "Sjaelland",
        "pharmacies": [("RS-APO", "Sygehusapoteket Region Sjælland, Roskilde")],
        "centres": [
            ("ROSK", "Vaccinationscenter Roskilde", "RS-APO"),
            ("KOGE", "Vaccinationscenter Køge", "RS-APO"),
            ("HOLB", "Vaccinationscenter Holbæk", "RS-APO"),
            ("SLAG", "Vaccinationscenter Slagelse", "RS-APO"),
            ("NAES", "Vaccinationscenter Næstved", "RS-APO"),
        ],
        "gp_towns": [
            ("Roskilde", "RS-APO"),
            ("Køge", "RS-APO"),
            ("Holbæk", "RS-APO"),
            ("Kalundborg", "RS-APO"),
            ("Slagelse", "RS-APO"),
            ("Næstved", "RS-APO"),
            ("Vordingborg", "RS-APO"),
            ("Nykøbing Falster", "RS-APO"),
        ],
        "mobile_units": [("Roskilde", "RS-APO"), ("Guldborgsund", "RS-APO")],
    },
    {
        "prefix": "RSD",
        "region": "Syddanmark",
        "pharmacies": [
            ("RSD-APO", "Sygehusapotek Fyn, Odense"),
            ("RSD-APO-KOL", "Sygehusapoteket Region Syddanmark, Kolding"),
        ],
        "centres": [
            ("ODEN", "Vaccinationscenter Odense", "RSD-APO"),
            ("SVEN", "Vaccinationscenter Svendborg", "RSD-APO"),
            ("VEJL", "Vaccinationscenter Vejle", "RSD-APO-KOL"),
            ("KOLD", "Vaccinationscenter Kolding", "RSD-APO-KOL"),
            ("ESBJ", "Vaccinationscenter Esbjerg", "RSD-APO-KOL"),
            ("SOND", "Vaccinationscenter Sønderborg", "RSD-APO-KOL"),
        ],
        "gp_towns": [
            ("Odense", "RSD-APO"),
            ("Svendborg", "RSD-APO"),
            ("Nyborg", "RSD-APO"),
            ("Middelfart", "RSD-APO"),
            ("Vejle", "RSD-APO-KOL"),
            ("Fredericia", "RSD-APO-KOL"),
            ("Esbjerg", "RSD-APO-KOL"),
            ("Sønderborg", "RSD-APO-KOL"),
        ],
        "mobile_units": [("Odense", "RSD-APO"), ("Esbjerg", "RSD-APO-KOL")],
    },
    {
        "prefix": "RM",
        "region": "Midtjylland",
        "pharmacies": [
            ("RM-APO", "Hospitalsapoteket Region Midtjylland, Aarhus"),
            ("RM-APO-GOD", "Hospitalsapoteket Region Midtjylland, Gødstrup"),
        ],
        "centres": [
            ("AARH", "Vaccinationscenter Aarhus", "RM-APO"),
            ("RAND", "Vaccinationscenter Randers", "RM-APO"),
            ("HORS", "Vaccinationscenter Horsens", "RM-APO"),
            ("HERN", "Vaccinationscenter Herning", "RM-APO-GOD"),
            ("VIBO", "Vaccinationscenter Viborg", "RM-APO-GOD"),
            ("HOLS", "Vaccinationscenter Holstebro", "RM-APO-GOD"),
        ],
        "gp_towns": [
            ("Aarhus C", "RM-APO"),
            ("Aarhus N", "RM-APO"),
            ("Randers", "RM-APO"),
            ("Silkeborg", "RM-APO"),
            ("Horsens", "RM-APO"),
            ("Herning", "RM-APO-GOD"),
            ("Viborg", "RM-APO-GOD"),
            ("Holstebro", "RM-APO-GOD"),
            ("Skive", "RM-APO-GOD"),
        ],
        "mobile_units": [("Aarhus", "RM-APO"), ("Viborg", "RM-APO-GOD")],
    },
    {
        "prefix": "RN",
        "region": "Nordjylland",
        "pharmacies": [("RN-APO", "Sygehusapoteket Region Nordjylland, Aalborg")],
        "centres": [
            ("AALB", "Vaccinationscenter Aalborg", "RN-APO"),
            ("HJOR", "Vaccinationscenter Hjørring", "RN-APO"),
            ("FRED", "Vaccinationscenter Frederikshavn", "RN-APO"),
            ("THIS", "Vaccinationscenter Thisted", "RN-APO"),
        ],
        "gp_towns": [
            ("Aalborg", "RN-APO"),
            ("Nørresundby", "RN-APO"),
            ("Hjørring", "RN-APO"),
            ("Frederikshavn", "RN-APO"),
            ("Thisted", "RN-APO"),
            ("Hobro", "RN-APO"),
        ],
        "mobile_units": [("Aalborg", "RN-APO"), ("Brønderslev", "RN-APO")],
    },
]


def network() -> list[dict[str, Any]]:
    """Every site of the seed network, the national supplier first. Same result on every call."""
    sites = [
        _site(
            "SSI",
            "Statens Serum Institut",
            "supplier",
            "Hovedstaden",
            [("ultra_low_freezer", 4, 100_000), ("freezer", 2, 20_000), ("fridge", 4, 20_000)],
        )
    ]
    for region in _REGIONAL_SITES:
        prefix, name = region["prefix"], region["region"]
        for code, title in region["pharmacies"]:
            units = [("ultra_low_freezer", 2, 40_000), ("freezer", 1, 10_000), ("fridge", 3, 8_000)]
            # Hospital pharmacies are stocked by the national supplier.
            sites.append(_site(code, title, "hospital_pharmacy", name, units, supplied_by="SSI"))
        for slug, title, pharmacy in region["centres"]:
            sites.append(
                _site(
                    f"{prefix}-VC-{slug}",
                    title,
                    "vaccination_centre",
                    name,
                    [("fridge", 2, 2_500)],
                    supplied_by=pharmacy,
                )
            )
        for number, (town, pharmacy) in enumerate(region["gp_towns"], start=1):
            sites.append(
                _site(
                    f"{prefix}-GP-{number:03d}",
                    f"Lægehuset {town}",
                    "gp_practice",
                    name,
                    [("fridge", 1, 400)],
                    supplied_by=pharmacy,
                )
            )
        for number, (municipality, pharmacy) in enumerate(region["mobile_units"], start=1):
            sites.append(
                _site(
                    f"{prefix}-MU-{number:02d}",
                    f"Plejehjemsteam {municipality}",
                    "mobile_unit",
                    name,
                    [("cool_box", 1, 60)],
                    supplied_by=pharmacy,
                )
            )
    return sites


def _site(
    code: str,
    name: str,
    kind: str,
    region: str,
    units: list[tuple[str, int, int]],
    *,
    supplied_by: str | None = None,
) -> dict[str, Any]:
    site: dict[str, Any] = {
        "code": code,
        "name": name,
        "kind": kind,
        "region": region,
        "storage_units": [
            _storage_unit(code, unit_kind, number, capacity)
            for unit_kind, count, capacity in units
            for number in range(1, count + 1)
        ],
    }
    if supplied_by is not None:
        site["supplied_by"] = supplied_by
    return site


def _storage_unit(site_code: str, kind: str, number: int, capacity_vials: int) -> dict[str, Any]:
    min_c, max_c = _STORAGE_RANGES[kind]
    return {
        "code": f"{site_code}-{_UNIT_CODE[kind]}{number}",
        "kind": kind,
        "min_c": min_c,
        "max_c": max_c,
        "capacity_vials": capacity_vials,
    }
