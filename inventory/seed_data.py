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


# --- where citizens find the sites ---------------------------------------------------------
#
# Vaccination centres at the public addresses of the regions' centres and hospitals, GP
# practices and nursing-home teams at plausible addresses in their towns; coordinates rounded
# to about 100 m. (address, postcode, town, municipality code, lat, lon)

Place = tuple[str, str, str, str, float, float]

CENTRE_PLACES: dict[str, Place] = {
    "RH-VC-BELLA": ("Center Boulevard 5", "2300", "København S", "0101", 55.638, 12.578),
    "RH-VC-OKSNE": ("Halmtorvet 11", "1700", "København V", "0101", 55.669, 12.560),
    "RH-VC-BALL": ("Ballerup Idrætsby 4", "2750", "Ballerup", "0151", 55.731, 12.378),
    "RH-VC-BORN": ("Ullasvej 8", "3700", "Rønne", "0400", 55.096, 14.716),
    "RH-VC-HILL": ("Dyrehavevej 29", "3400", "Hillerød", "0219", 55.926, 12.297),
    "RH-VC-HELS": ("Esrumvej 145", "3000", "Helsingør", "0217", 56.025, 12.579),
    "RS-VC-ROSK": ("Møllehusvej 15", "4000", "Roskilde", "0265", 55.640, 12.066),
    "RS-VC-KOGE": ("Lykkebækvej 1", "4600", "Køge", "0259", 55.461, 12.166),
    "RS-VC-HOLB": ("Smedelundsgade 60", "4300", "Holbæk", "0316", 55.713, 11.717),
    "RS-VC-SLAG": ("Ingemannsvej 18", "4200", "Slagelse", "0330", 55.403, 11.363),
    "RS-VC-NAES": ("Ringstedgade 61", "4700", "Næstved", "0370", 55.236, 11.769),
    "RSD-VC-ODEN": ("J. B. Winsløws Vej 4", "5000", "Odense C", "0461", 55.385, 10.367),
    "RSD-VC-SVEN": ("Valdemarsgade 53", "5700", "Svendborg", "0479", 55.055, 10.602),
    "RSD-VC-VEJL": ("Beriderbakken 4", "7100", "Vejle", "0630", 55.705, 9.538),
    "RSD-VC-KOLD": ("Sygehusvej 24", "6000", "Kolding", "0621", 55.492, 9.466),
    "RSD-VC-ESBJ": ("Finsensgade 35", "6700", "Esbjerg", "0561", 55.477, 8.456),
    "RSD-VC-SOND": ("Sydvang 1", "6400", "Sønderborg", "0540", 54.908, 9.772),
    "RM-VC-AARH": ("Palle Juul-Jensens Boulevard 99", "8200", "Aarhus N", "0751", 56.191, 10.168),
    "RM-VC-RAND": ("Skovlyvej 15", "8930", "Randers NØ", "0730", 56.470, 10.052),
    "RM-VC-HORS": ("Sundvej 30", "8700", "Horsens", "0615", 55.866, 9.853),
    "RM-VC-HERN": ("Vardevej 1", "7400", "Herning", "0657", 56.118, 8.951),
    "RM-VC-VIBO": ("Heibergs Allé 4", "8800", "Viborg", "0791", 56.458, 9.418),
    "RM-VC-HOLS": ("Lægårdvej 12", "7500", "Holstebro", "0661", 56.354, 8.635),
    "RN-VC-AALB": ("Willy Brandts Vej 31", "9220", "Aalborg Øst", "0851", 57.040, 9.970),
    "RN-VC-HJOR": ("Bispensgade 37", "9800", "Hjørring", "0860", 57.456, 9.985),
    "RN-VC-FRED": ("Barfredshøjvej 32", "9900", "Frederikshavn", "0813", 57.439, 10.520),
    "RN-VC-THIS": ("Højtoftevej 2", "7700", "Thisted", "0787", 56.952, 8.689),
}

GP_PLACES: dict[str, Place] = {
    "København K": ("Store Kongensgade 40", "1264", "København K", "0101", 55.684, 12.588),
    "Frederiksberg": ("Falkoner Allé 7", "2000", "Frederiksberg", "0147", 55.681, 12.533),
    "Valby": ("Valby Langgade 79", "2500", "Valby", "0101", 55.662, 12.512),
    "Amager": ("Amagerbrogade 150", "2300", "København S", "0101", 55.658, 12.604),
    "Nørrebro": ("Nørrebrogade 52", "2200", "København N", "0101", 55.693, 12.549),
    "Gentofte": ("Gentoftegade 50", "2820", "Gentofte", "0157", 55.750, 12.548),
    "Rønne": ("Store Torvegade 20", "3700", "Rønne", "0400", 55.101, 14.704),
    "Lyngby": ("Lyngby Hovedgade 45", "2800", "Kongens Lyngby", "0173", 55.771, 12.503),
    "Helsingør": ("Stengade 40", "3000", "Helsingør", "0217", 56.032, 12.605),
    "Hillerød": ("Slotsgade 20", "3400", "Hillerød", "0219", 55.929, 12.300),
    "Roskilde": ("Algade 30", "4000", "Roskilde", "0265", 55.642, 12.083),
    "Køge": ("Nørregade 20", "4600", "Køge", "0259", 55.459, 12.182),
    "Holbæk": ("Ahlgade 30", "4300", "Holbæk", "0316", 55.717, 11.713),
    "Kalundborg": ("Kordilgade 20", "4400", "Kalundborg", "0326", 55.680, 11.088),
    "Slagelse": ("Løvegade 10", "4200", "Slagelse", "0330", 55.403, 11.354),
    "Næstved": ("Axeltorv 5", "4700", "Næstved", "0370", 55.230, 11.760),
    "Vordingborg": ("Algade 60", "4760", "Vordingborg", "0390", 55.009, 11.911),
    "Nykøbing Falster": ("Jernbanegade 20", "4800", "Nykøbing F", "0376", 54.768, 11.875),
    "Odense": ("Vestergade 40", "5000", "Odense C", "0461", 55.396, 10.383),
    "Svendborg": ("Gerritsgade 20", "5700", "Svendborg", "0479", 55.059, 10.608),
    "Nyborg": ("Nørregade 10", "5800", "Nyborg", "0450", 55.312, 10.790),
    "Middelfart": ("Algade 30", "5500", "Middelfart", "0410", 55.506, 9.730),
    "Vejle": ("Søndergade 20", "7100", "Vejle", "0630", 55.708, 9.534),
    "Fredericia": ("Gothersgade 20", "7000", "Fredericia", "0607", 55.566, 9.752),
    "Esbjerg": ("Kongensgade 50", "6700", "Esbjerg", "0561", 55.468, 8.452),
    "Sønderborg": ("Perlegade 30", "6400", "Sønderborg", "0540", 54.912, 9.789),
    "Aarhus C": ("Søndergade 40", "8000", "Aarhus C", "0751", 56.153, 10.207),
    "Aarhus N": ("Randersvej 150", "8200", "Aarhus N", "0751", 56.177, 10.195),
    "Randers": ("Torvegade 10", "8900", "Randers C", "0730", 56.461, 10.038),
    "Silkeborg": ("Vestergade 20", "8600", "Silkeborg", "0740", 56.169, 9.548),
    "Horsens": ("Søndergade 30", "8700", "Horsens", "0615", 55.860, 9.848),
    "Herning": ("Bredgade 20", "7400", "Herning", "0657", 56.138, 8.976),
    "Viborg": ("Sankt Mathias Gade 40", "8800", "Viborg", "0791", 56.451, 9.403),
    "Holstebro": ("Nørregade 20", "7500", "Holstebro", "0661", 56.360, 8.617),
    "Skive": ("Adelgade 20", "7800", "Skive", "0779", 56.565, 9.028),
    "Aalborg": ("Boulevarden 20", "9000", "Aalborg", "0851", 57.046, 9.920),
    "Nørresundby": ("Torvet 5", "9400", "Nørresundby", "0851", 57.059, 9.923),
    "Hjørring": ("Østergade 20", "9800", "Hjørring", "0860", 57.461, 9.983),
    "Frederikshavn": ("Danmarksgade 40", "9900", "Frederikshavn", "0813", 57.441, 10.537),
    "Thisted": ("Storegade 20", "7700", "Thisted", "0787", 56.956, 8.693),
    "Hobro": ("Adelgade 30", "9500", "Hobro", "0846", 56.639, 9.792),
}

# nursing-home teams: where the team sets out from (they vaccinate in the homes)
MOBILE_PLACES: dict[str, Place] = {
    "København": ("Rådhuspladsen 1", "1550", "København V", "0101", 55.676, 12.569),
    "Gribskov": ("Rådhusvej 3", "3200", "Helsinge", "0270", 56.023, 12.197),
    "Roskilde": ("Rådhusbuen 1", "4000", "Roskilde", "0265", 55.642, 12.080),
    "Guldborgsund": ("Parkvej 37", "4800", "Nykøbing F", "0376", 54.766, 11.877),
    "Odense": ("Flakhaven 2", "5000", "Odense C", "0461", 55.396, 10.388),
    "Esbjerg": ("Torvegade 74", "6700", "Esbjerg", "0561", 55.466, 8.452),
    "Aarhus": ("Rådhuspladsen 2", "8000", "Aarhus C", "0751", 56.152, 10.203),
    "Viborg": ("Prinsens Allé 5", "8800", "Viborg", "0791", 56.450, 9.402),
    "Aalborg": ("Boulevarden 13", "9000", "Aalborg", "0851", 57.047, 9.920),
    "Brønderslev": ("Ny Rådhusplads 1", "9700", "Brønderslev", "0810", 57.270, 9.944),
}

NATIONAL_BOOKING_URL = "https://vacciner.dk"

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
_WEEKEND = ("sat", "sun")


def _hours(weekdays: list[list[str]], weekend: list[list[str]]) -> dict[str, list[list[str]]]:
    return {**{d: weekdays for d in _WEEKDAYS}, **{d: weekend for d in _WEEKEND}}


# how each kind of site receives people (large centres see more per hour)
SERVICE = {
    "vaccination_centre": {
        "opening_hours": _hours([["08:00", "19:00"]], [["09:00", "16:00"]]),
        "slots_per_hour": 60,
        "drop_in": True,
        "accessibility": "Niveaufri adgang, handicapparkering og handicaptoilet.",
    },
    "gp_practice": {
        "opening_hours": _hours([["08:00", "12:00"], ["12:30", "15:30"]], []),
        "slots_per_hour": 6,
        "drop_in": False,
        "booking_url": "https://www.minlaege.dk",
        "accessibility": "Elevator til praksis på 1. sal.",
    },
    "mobile_unit": {
        # vaccinates nursing-home residents where they live; no public booking
        "opening_hours": _hours([["08:00", "15:00"]], []),
        "slots_per_hour": 10,
        "drop_in": False,
        "accessibility": "Vaccinerer beboere på plejehjemmene; ingen tidsbestilling.",
    },
}
LARGE_CENTRES = {"RH-VC-BELLA": 240, "RH-VC-OKSNE": 120, "RM-VC-AARH": 120, "RSD-VC-ODEN": 120}


def _findable(site: dict[str, Any], place: Place) -> dict[str, Any]:
    address, postcode, town, municipality, lat, lon = place
    site.update(
        address=address,
        postcode=postcode,
        town=town,
        municipality=municipality,
        lat=lat,
        lon=lon,
        **SERVICE[site["kind"]],
    )
    if site["code"] in LARGE_CENTRES:
        site["slots_per_hour"] = LARGE_CENTRES[site["code"]]
    return site


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
            code = f"{prefix}-VC-{slug}"
            centre = _site(
                code,
                title,
                "vaccination_centre",
                name,
                [("fridge", 2, 2_500)],
                supplied_by=pharmacy,
            )
            sites.append(_findable(centre, CENTRE_PLACES[code]))
        for number, (town, pharmacy) in enumerate(region["gp_towns"], start=1):
            practice = _site(
                f"{prefix}-GP-{number:03d}",
                f"Lægehuset {town}",
                "gp_practice",
                name,
                [("fridge", 1, 400)],
                supplied_by=pharmacy,
            )
            sites.append(_findable(practice, GP_PLACES[town]))
        for number, (municipality, pharmacy) in enumerate(region["mobile_units"], start=1):
            team = _site(
                f"{prefix}-MU-{number:02d}",
                f"Plejehjemsteam {municipality}",
                "mobile_unit",
                name,
                [("cool_box", 1, 60)],
                supplied_by=pharmacy,
            )
            sites.append(_findable(team, MOBILE_PLACES[municipality]))
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
