"""Denmark's regions and municipalities, as the map and the search see them.

The boundaries are package data (``inventory/data/geo``: DAGI 1:500,000, Geodatastyrelsen,
2014, rounded to 4 decimals and simplified to about 300 m; see its README). Coordinates are
longitude, latitude (WGS 84). A municipality's region is the region its centroid lies in;
its centroid (of its largest polygon, so an island does not pull it into the sea) is where a
search by municipality measures distances from.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

ATTRIBUTION = "Contains data from the Danish Agency for Data Supply and Infrastructure (DAGI)"
# the region codes of DAGI, named as the network names its regions
REGION_NAMES = {
    "1081": "Nordjylland",
    "1082": "Midtjylland",
    "1083": "Syddanmark",
    "1084": "Hovedstaden",
    "1085": "Sjaelland",
}

Ring = list[tuple[float, float]]  # (lon, lat), closed
Polygon = list[Ring]  # outer ring first, then holes


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    region: str
    polygons: tuple[Polygon, ...]
    lat: float
    lon: float


def _load(name: str) -> dict:
    return json.loads(resources.files("inventory.data.geo").joinpath(name).read_text("utf-8"))


def _polygons(geometry: dict) -> tuple[Polygon, ...]:
    coordinates = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        coordinates = [coordinates]
    return tuple([[(x, y) for x, y in ring] for ring in polygon] for polygon in coordinates)


def ring_area_centroid(ring: Ring) -> tuple[float, float, float]:
    """Signed area and centroid (lon, lat) of a ring, in degrees (good enough at this scale)."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    area /= 2
    if area == 0:
        return 0.0, ring[0][0], ring[0][1]
    return area, cx / (6 * area), cy / (6 * area)


def _centroid(polygons: tuple[Polygon, ...]) -> tuple[float, float]:
    largest = max(polygons, key=lambda p: abs(ring_area_centroid(p[0])[0]))
    _, lon, lat = ring_area_centroid(largest[0])
    return lon, lat


def in_ring(lon: float, lat: float, ring: Ring) -> bool:
    inside = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def in_polygons(lon: float, lat: float, polygons: tuple[Polygon, ...]) -> bool:
    """Whether the point lies in one of the polygons (inside its outer ring, in no hole)."""
    return any(
        in_ring(lon, lat, p[0]) and not any(in_ring(lon, lat, hole) for hole in p[1:])
        for p in polygons
    )


@cache
def regions() -> dict[str, Area]:
    """The five regions by the network's region name."""
    found = {}
    for feature in _load("regions.geojson")["features"]:
        name = REGION_NAMES[feature["properties"]["region_code"]]
        polygons = _polygons(feature["geometry"])
        lon, lat = _centroid(polygons)
        found[name] = Area(feature["properties"]["region_code"], name, name, polygons, lat, lon)
    return found


def region_at(lon: float, lat: float) -> str | None:
    """The region a point lies in, None outside Denmark's land (at this scale)."""
    return next((r.name for r in regions().values() if in_polygons(lon, lat, r.polygons)), None)


def _region_of(polygons: tuple[Polygon, ...], lon: float, lat: float) -> str:
    found = region_at(lon, lat)
    if found:
        return found
    # a small island whose centroid misses the simplified coast: any of its corners will do,
    # else the nearest region centre
    for polygon in polygons:
        for x, y in polygon[0]:
            found = region_at(x, y)
            if found:
                return found
    return min(regions().values(), key=lambda r: distance_km(lat, lon, r.lat, r.lon)).name


@cache
def municipalities() -> dict[str, Area]:
    """The 98 municipalities and Christiansø by their four-digit code ("0101")."""
    found = {}
    for feature in _load("municipalities.geojson")["features"]:
        props = feature["properties"]
        polygons = _polygons(feature["geometry"])
        lon, lat = _centroid(polygons)
        code = props["municipality_code"]
        found[code] = Area(
            code, props["municipality"], _region_of(polygons, lon, lat), polygons, lat, lon
        )
    return found


def municipality_named(name: str) -> Area | None:
    """A municipality by its name, ignoring case and a trailing " Kommune"."""
    wanted = name.strip().lower().removesuffix(" kommune")
    return next((m for m in municipalities().values() if m.name.lower() == wanted), None)


def distance_km(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    """Great-circle distance (haversine)."""
    p0, p1 = math.radians(lat0), math.radians(lat1)
    dp, dl = p1 - p0, math.radians(lon1 - lon0)
    a = math.sin(dp / 2) ** 2 + math.cos(p0) * math.cos(p1) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Place:
    """Where a citizen searched from: a postcode or a municipality, with the point distances
    are measured from (the municipality's centroid)."""

    label: str
    municipality_code: str
    lat: float
    lon: float
    postcode: str | None = None


@cache
def postcodes() -> dict[str, tuple[str, str]]:
    """Postcode -> (town, municipality code), from the package's postcodes.csv."""
    text = resources.files("inventory.data").joinpath("postcodes.csv").read_text("utf-8")
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith("#")]
    return {code: (town, municipality) for code, town, municipality in rows[1:]}


def place_for(query: str) -> Place | None:
    """A postcode ("2300"), a town of the postcode list ("Hellerup") or a municipality's name
    ("Aarhus", "Aarhus Kommune"); None when it is none of them."""
    text = query.strip()
    if text[:4].isdigit() and len(text) >= 4:
        code = text[:4]
        listed = sorted(c for c in postcodes() if c <= code and c[0] == code[0])
        if not listed:
            return None
        town, municipality_code = postcodes()[listed[-1]]
        area = municipalities()[municipality_code]
        return Place(f"{code} {town}", municipality_code, area.lat, area.lon, code)
    named = municipality_named(text)
    if named is None:
        wanted = text.lower()
        found = next(((c, t, m) for c, (t, m) in postcodes().items() if t.lower() == wanted), None)
        if found is None:
            return None
        code, town, municipality_code = found
        area = municipalities()[municipality_code]
        return Place(f"{code} {town}", municipality_code, area.lat, area.lon, code)
    return Place(named.name, named.code, named.lat, named.lon)
