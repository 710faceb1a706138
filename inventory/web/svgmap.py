"""Denmark as a server-side SVG: municipalities, region borders, Bornholm in an inset, and a
marker per vaccination site.

Pure: no Flask, no database. It projects longitude/latitude onto a plane (equirectangular,
scaled for Denmark's latitude, which keeps shapes true enough at this size), rounds to whole
pixels (about 400 m, the boundaries' own precision) and writes relative path data, so the
whole country weighs a few tens of kilobytes. Text arrives translated.

Every marker is a focusable group: hover shows its ``<title>``, focus or tap opens a small
card (CSS ``:focus-within``) with the site's name, address, hours, free appointments and a
booking link that is reachable by keyboard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from html import escape

from inventory.domain import geo

WIDTH = 800
# the main map: Jutland, the islands and Zealand; Bornholm drawn in the inset
LON0, LON1, LAT0, LAT1 = 8.0, 12.85, 54.53, 57.78
BORNHOLM = ("0400", "0411")
INSET_LON0, INSET_LON1, INSET_LAT0, INSET_LAT1 = 14.65, 15.25, 54.97, 55.36
INSET_X, INSET_Y = 600, 40  # where the inset's box starts, top right (the Kattegat side)
_KX = math.cos(math.radians(56.0))
SCALE = WIDTH / ((LON1 - LON0) * _KX)
HEIGHT = round((LAT1 - LAT0) * SCALE)
INSET_SCALE = SCALE * 1.3
INSET_W = round((INSET_LON1 - INSET_LON0) * _KX * INSET_SCALE)
INSET_H = round((INSET_LAT1 - INSET_LAT0) * INSET_SCALE)

KIND_SHAPES = ("vaccination_centre", "gp_practice", "mobile_unit")
# free appointments in the next 7 days -> class; colours and shapes are in the stylesheet
LEVELS = ((0, "none"), (1, "few"), (50, "many"))


def in_inset(lon: float, lat: float) -> bool:
    return lon > 14.0


def project(lon: float, lat: float) -> tuple[float, float]:
    """Pixel position of a point on the map (Bornholm's points land in the inset)."""
    if in_inset(lon, lat):
        x = INSET_X + (lon - INSET_LON0) * _KX * INSET_SCALE
        y = INSET_Y + (INSET_LAT1 - lat) * INSET_SCALE
    else:
        x = (lon - LON0) * _KX * SCALE
        y = (LAT1 - lat) * SCALE
    return x, y


def _path(polygons: tuple[geo.Polygon, ...]) -> str:
    """Relative path data in whole pixels; points that round onto the last one are dropped."""
    parts = []
    for polygon in polygons:
        for ring in polygon:
            points = []
            for lon, lat in ring:
                x, y = project(lon, lat)
                point = (round(x), round(y))
                if not points or point != points[-1]:
                    points.append(point)
            if len(points) < 4:
                continue  # an islet smaller than a pixel
            (x0, y0), steps = points[0], []
            px, py = x0, y0
            for x, y in points[1:-1]:
                steps.append(f"{x - px} {y - py}")
                px, py = x, y
            parts.append(f"M{x0} {y0}l" + " ".join(steps).replace(" -", "-") + "z")
    return "".join(parts)


@cache
def base_paths() -> tuple[tuple[str, str, str, str], ...]:
    """(code, name, region, path) per municipality, projected once per process."""
    return tuple(
        (m.code, m.name, m.region, _path(m.polygons))
        for m in sorted(geo.municipalities().values(), key=lambda m: m.code)
    )


@cache
def region_paths() -> tuple[tuple[str, str], ...]:
    return tuple((r.name, _path(r.polygons)) for r in geo.regions().values())


@dataclass(frozen=True)
class Marker:
    code: str
    kind: str
    lon: float
    lat: float
    free_7d: int
    title: str  # one line for the hover title
    lines: tuple[str, ...]  # the card's lines: name first
    link: str | None = None  # the booking link
    link_text: str = ""
    href: str | None = None  # where the marker itself leads (the site in the list)


@dataclass
class MapText:
    label: str
    attribution: str
    inset_label: str = "Bornholm"
    municipality_titles: dict[str, str] = field(default_factory=dict)


def level(free_7d: int) -> str:
    return [name for floor, name in LEVELS if free_7d >= floor][-1]


def _shape(kind: str, x: float, y: float) -> str:
    if kind == "gp_practice":
        return f'<rect class="shape" x="{x - 6:.0f}" y="{y - 6:.0f}" width="12" height="12"/>'
    if kind == "mobile_unit":
        return f'<path class="shape" d="M{x:.0f} {y - 8:.0f}l8 14h-16z"/>'  # a triangle
    return f'<circle class="shape" cx="{x:.0f}" cy="{y:.0f}" r="7"/>'


LINE_H, CHAR_W, CARD_MAX = 17, 7.2, 400  # 13 px text: about 7 px a character


def _card(marker: Marker, x: float, y: float) -> str:
    lines = list(marker.lines) + ([marker.link_text] if marker.link else [])
    height = LINE_H * len(lines) + 10
    # the name is bold: a tenth wider
    widest = max([len(lines[0]) * 1.1] + [len(line) for line in lines[1:]])
    width = min(CARD_MAX, round(widest * CHAR_W) + 18)
    # open towards the map's middle so the card stays on the map
    cx = x + 12 if x < WIDTH - width - 20 else x - width - 12
    cy = min(max(y - height / 2, 2), HEIGHT - height - 2)
    texts = []
    for i, line in enumerate(marker.lines):
        cls = ' class="name"' if i == 0 else ""
        texts.append(
            f'<text{cls} x="{cx + 8:.0f}" y="{cy + 20 + i * LINE_H:.0f}">{escape(line)}</text>'
        )
    if marker.link:
        ly = cy + 20 + len(marker.lines) * LINE_H
        texts.append(
            f'<a class="book" href="{escape(marker.link)}">'
            f'<text x="{cx + 8:.0f}" y="{ly:.0f}">{escape(marker.link_text)}</text></a>'
        )
    return (
        f'<g class="card"><rect x="{cx:.0f}" y="{cy:.0f}" width="{width}" height="{height}"'
        f' rx="4"/>{"".join(texts)}</g>'
    )


def _marker(marker: Marker) -> str:
    x, y = project(marker.lon, marker.lat)
    return (
        f'<g class="site {marker.kind} {level(marker.free_7d)}" id="m-{escape(marker.code)}"'
        f' tabindex="0" role="button" aria-label="{escape(marker.title)}"'
        f' data-lon="{marker.lon}" data-lat="{marker.lat}">'
        f"<title>{escape(marker.title)}</title>{_shape(marker.kind, x, y)}"
        f"{_card(marker, x, y)}</g>"
    )


def draw(
    markers: list[Marker],
    text: MapText,
    *,
    municipality_classes: dict[str, str] | None = None,
) -> str:
    """The map as an inline ``<svg>`` element. ``municipality_classes`` gives a municipality
    (by code) a class, e.g. a choropleth band; the others are drawn by their region."""
    classes = municipality_classes or {}
    municipalities = "".join(
        f'<path class="mun {classes.get(code, "r-" + region.lower())}" d="{path}">'
        f"<title>{escape(text.municipality_titles.get(code, name))}</title></path>"
        for code, name, region, path in base_paths()
    )
    regions = "".join(f'<path class="reg" d="{path}"/>' for _, path in region_paths())
    inset = (
        f'<rect class="inset" x="{INSET_X - 8}" y="{INSET_Y - 8}" width="{INSET_W + 16}"'
        f' height="{INSET_H + 16}"/><text class="inset-label" x="{INSET_X}"'
        f' y="{INSET_Y + INSET_H + 26}">{escape(text.inset_label)}</text>'
    )
    sites = "".join(_marker(m) for m in sorted(markers, key=lambda m: -m.lat))
    return (
        f'<svg class="dkmap" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg"'
        f' role="group" aria-label="{escape(text.label)}">'
        f'{inset}<g class="land">{municipalities}</g><g class="regions">{regions}</g>'
        f'<g class="sites">{sites}</g>'
        f'<text class="attribution" x="{WIDTH - 6}" y="{HEIGHT - 6}" text-anchor="end">'
        f"{escape(text.attribution)}</text></svg>"
    )
