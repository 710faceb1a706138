"""The public pages: free vaccination appointments, the map of vaccination sites, and uptake
by region and group. No login, Danish first (English at ``?lang=en``), times in
Europe/Copenhagen.

Aggregated figures only (free appointments per site, day and product; uptake per region and
group with counts below five suppressed): no booking reference, no stock detail. The overview
is computed at most once a minute per process; each answer built from it (the JSON, a page in
one language for one search) is kept until the next computation, with an ``ETag`` so a
browser that has it gets a 304.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime

from babel.dates import format_date, get_day_names
from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from flask_babel import get_locale, lazy_gettext
from werkzeug.http import parse_etags
from werkzeug.utils import get_content_type

from inventory import metrics
from inventory.api import responses
from inventory.api.contract import operation
from inventory.api.schemas import PublicPageQuery, RegionQuery
from inventory.domain import geo
from inventory.domain.sites import WEEKDAYS
from inventory.services import availability, uptake
from inventory.web import browser_language, select_language, svgmap
from inventory.web.i18n import gettext
from inventory.web_db import get_session, now, transactional

bp = Blueprint("public", __name__, url_prefix="/public")
transactional(bp)

CACHE_SECONDS = 60
CACHE_CONTROL = f"public, max-age={CACHE_SECONDS}"
DAYS = availability.DAYS
_CACHE_KEY = "inventory.public_availability"
_RENDERED_MAX = 512  # answers kept per computation (searches are few: postcodes x filters)
LIST_SIZE = 24  # sites listed before "show all"

KIND_NAMES = {
    "vaccination_centre": lazy_gettext("Vaccination centre"),
    "gp_practice": lazy_gettext("GP practice"),
    "mobile_unit": lazy_gettext("Nursing-home team (mobile)"),
}


class _Overview:
    """One computation and the answers made from it."""

    def __init__(self, payload: dict):
        self.at = time.monotonic()
        self.payload = payload
        self.rendered: dict[tuple, tuple[bytes, str]] = {}
        # the same answers by the request that asked (see KeptAnswers)
        self.sent: dict[tuple[str, str, str], _Sent] = {}
        self.lock = threading.Lock()

    def fresh(self) -> bool:
        return time.monotonic() - self.at < CACHE_SECONDS

    def remember(self, environ: dict, sent: _Sent) -> None:
        with self.lock:
            if len(self.sent) < 2 * _RENDERED_MAX:
                self.sent[_asked(environ)] = sent

    def answer(self, key: tuple, make) -> tuple[bytes, str]:
        found = self.rendered.get(key)
        if found is None:
            body = make()
            found = (body, hashlib.blake2b(body, digest_size=12).hexdigest())
            with self.lock:
                if len(self.rendered) < _RENDERED_MAX:
                    self.rendered[key] = found
        return found


def overview() -> _Overview:
    """The overview for every vaccination site, from the per-process cache when fresh."""
    cached = current_app.extensions.get(_CACHE_KEY)
    if cached is not None and cached.fresh():
        return cached
    session = get_session()
    try:
        computed = _Overview(availability.public_overview(session, now(), DAYS))
    finally:
        session.rollback()
    current_app.extensions[_CACHE_KEY] = computed
    return computed


def availability_payload() -> dict:
    """The overview as ``/public/availability.json`` has it (for tests and the JSON)."""
    return _json(overview().payload, None)


def _json(payload: dict, region: str | None) -> dict:
    """The sites that have stock or bookings (optionally of one region), as the JSON lists
    them."""
    sites = [
        {k: v for k, v in s.items() if k not in ("listed", "free_next_7_days")}
        for s in payload["sites"]
        if s["listed"] and (region is None or s["region"] == region)
    ]
    data = {**payload, "sites": sites}
    if region is not None:
        data["region"] = region
    return data


@dataclass(frozen=True)
class _Sent:
    """An answer as it went out, for the next request that asks the same."""

    body: bytes
    etag: str
    content_type: str
    headers: tuple[tuple[str, str], ...]  # those a 304 repeats
    rule: str  # the URL rule, as the request figures count it

    @classmethod
    def of(cls, body: bytes, etag: str, mimetype: str, language: str | None) -> _Sent:
        headers = [("ETag", f'"{etag}"'), ("Cache-Control", CACHE_CONTROL)]
        if language is not None:
            headers += [("Content-Language", language), ("Vary", "Accept-Language")]
        rule = request.url_rule.rule if request.url_rule is not None else request.path
        return cls(body, etag, get_content_type(mimetype, "utf-8"), tuple(headers), rule)

    def unchanged_for(self, if_none_match: str | None) -> bool:
        return bool(if_none_match) and parse_etags(if_none_match).contains_weak(self.etag)

    def response(self) -> Response:
        if self.unchanged_for(request.headers.get("If-None-Match")):
            return Response(status=304, headers=self.headers)
        return Response(self.body, content_type=self.content_type, headers=self.headers)


def _asked(environ: dict) -> tuple[str, str, str]:
    """What a public answer depends on besides the computation: the path, the query and
    the browser's language (``?lang=`` is in the query)."""
    return (
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        browser_language(environ.get("HTTP_ACCEPT_LANGUAGE", "")),
    )


def _send(
    body: bytes, etag: str, mimetype: str, language: str | None = None, found=None
) -> Response:
    """The answer, or 304 when the browser has it; kept with ``found``'s computation for
    the next request that asks the same."""
    sent = _Sent.of(body, etag, mimetype, language)
    if found is not None:
        found.remember(request.environ, sent)
    return sent.response()


class KeptAnswers:
    """WSGI, in front of the app: a GET that the current computation has already answered
    is answered from the bytes it got, before the app is entered (no request context,
    session, hooks or database); anything else goes to the app."""

    def __init__(self, app: Flask):
        self.app = app
        self.wsgi_app = app.wsgi_app

    def __call__(self, environ: dict, start_response):
        started = time.perf_counter()
        sent = self._kept(environ)
        if sent is None:
            return self.wsgi_app(environ, start_response)
        if sent.unchanged_for(environ.get("HTTP_IF_NONE_MATCH")):
            status, body = "304 NOT MODIFIED", b""
            start_response(status, list(sent.headers))
        else:
            status, body = "200 OK", sent.body
            start_response(
                status,
                [
                    ("Content-Type", sent.content_type),
                    ("Content-Length", str(len(body))),
                    *sent.headers,
                ],
            )
        metrics.request_answered(sent.rule, "GET", status[:3], time.perf_counter() - started)
        return [body]

    def _kept(self, environ: dict) -> _Sent | None:
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        if not environ.get("PATH_INFO", "").startswith(bp.url_prefix or "/"):
            return None
        found = self.app.extensions.get(_CACHE_KEY)
        if found is None or not found.fresh():
            return None
        return found.sent.get(_asked(environ))


@bp.record_once
def _answer_kept_requests_first(state) -> None:
    state.app.wsgi_app = KeptAnswers(state.app)


def _dumped(schema, payload: dict) -> bytes:
    """The answer as its declared schema serialises it, once per computation."""
    return json.dumps(schema().dump(payload), ensure_ascii=False, separators=(",", ":")).encode()


@bp.get("/availability.json")
@operation(
    responses.Availability,
    public=True,
    query=RegionQuery,
    headers={"Cache-Control": CACHE_CONTROL, "ETag": "of this answer (304 to If-None-Match)"},
)
def availability_json(args):
    """Free appointments per site, day and product for the next two weeks, each dose
    promised once (no login)."""
    region = args.get("region")
    found = overview()
    body, etag = found.answer(
        ("json", region), lambda: _dumped(responses.Availability, _json(found.payload, region))
    )
    return _send(body, etag, "application/json", found=found)


@bp.get("/uptake.json")
@operation(responses.PublicUptake, public=True, headers={"Cache-Control": CACHE_CONTROL})
def uptake_json():
    """Doses given per region and target group, against the goals (no login); counts below
    five are suppressed."""
    session = get_session()
    try:
        body = _dumped(responses.PublicUptake, uptake.public_aggregate(session))
    finally:
        session.rollback()
    return _send(body, hashlib.blake2b(body, digest_size=12).hexdigest(), "application/json")


# ---------------------------------------------------------------- pages


def _query(args: dict) -> dict:
    return {
        "q": (args.get("q") or "").strip()[:60] or None,
        "vaccine": args.get("vaccine") or None,
        "kind": args.get("kind") if args.get("kind") in KIND_NAMES else None,
        "all": args.get("all") == "1",
    }


def _page(template: str, args: dict) -> Response:
    query = _query(args)
    language = select_language()  # as Flask-Babel will, without making its locale here
    found = overview()
    key = (template, language, query["q"], query["vaccine"], query["kind"], query["all"])
    body, etag = found.answer(key, lambda: _render(template, found.payload, query).encode())
    return _send(body, etag, "text/html", language, found)


def _render(template: str, payload: dict, query: dict) -> str:
    if query["vaccine"] not in payload["products"]:
        query = {**query, "vaccine": None}
    place = geo.place_for(query["q"]) if query["q"] else None
    sites = availability.select_sites(
        payload, near=place, product=query["vaccine"], kind=query["kind"]
    )
    context = {
        "query": query,
        "place": place,
        "sites": sites if query["all"] else sites[:LIST_SIZE],
        "found": len(sites),
        "days": payload["days"],
        "generated_at": datetime.fromisoformat(payload["generated_at"].replace("Z", "+00:00")),
        "products": sorted(payload["products"].items(), key=lambda p: p[1]),
        "products_by_code": payload["products"],
        "kinds": [(k, str(v)) for k, v in KIND_NAMES.items()],
        "map_args": {
            k: v for k, v in {**query, "all": None, "lang": str(get_locale())}.items() if v
        },
    }
    if template == "public/map.html":
        context["map_svg"] = _map(sites, query["vaccine"])
        context["sites"] = sites  # every marker has its entry in the list
        context["attribution"] = attribution()
    return render_template(template, **context)


@bp.get("/availability")
@operation(html=True, public=True, query=PublicPageQuery)
def availability_page(args):
    """Free appointments per site for the next two weeks: search by postcode or
    municipality, filter by vaccine and type of site (no login; Danish, ``lang=en``)."""
    return _page("public/availability.html", args)


@bp.get("/map")
@operation(html=True, public=True, query=PublicPageQuery)
def map_page(args):
    """Every vaccination site on a map of Denmark, coloured by its free appointments in the
    next 7 days, with the same sites listed beside it (no login; Danish, ``lang=en``)."""
    return _page("public/map.html", args)


def _map(sites: list[dict], product: str | None) -> str:
    return svgmap.draw(
        [marker(s, product) for s in sites if s["lat"] is not None],
        map_text(),
    )


def attribution() -> str:
    """The map data's credit in the page's language (the map itself carries the wording its
    source asks for)."""
    return gettext("Contains data from the Danish Agency for Data Supply and Infrastructure (DAGI)")


def map_text() -> svgmap.MapText:
    return svgmap.MapText(
        label=str(lazy_gettext("Map of Denmark with the vaccination sites")),
        attribution=geo.ATTRIBUTION,
    )


def marker(site: dict, product: str | None) -> svgmap.Marker:
    """A site's marker: its card says what the list says, in one line each."""
    soon = site["free_next_7_days"] if product is None else _soon(site, product)
    free_text = str(
        lazy_gettext("%(num)s free in the next 7 days", num=soon)
        if soon
        else lazy_gettext("None free in the next 7 days")
    )
    address = f"{site['address']}, {site['postcode']} {site['town']}" if site["address"] else ""
    return svgmap.Marker(
        code=site["site"],
        kind=site["kind"],
        lon=site["lon"],
        lat=site["lat"],
        free_7d=soon,
        title=f"{site['name']} – {free_text}",
        lines=tuple(
            line
            for line in (
                site["name"],
                address,
                opening_hours(site["opening_hours"]),
                free_text,
            )
            if line
        ),
        link=site["booking_url"] if site["kind"] != "mobile_unit" else None,
        link_text=str(lazy_gettext("Book an appointment")),
        href=f"#site-{site['site']}",
    )


def _soon(site: dict, product: str) -> int:
    return sum(d["free"].get(product, 0) for d in site["days"][: availability.SOON_DAYS])


# ---------------------------------------------------------------- formatting


def opening_hours(hours: dict | None) -> str:
    """Opening hours in one line, weekdays with the same hours run together:
    "man.–fre. 08.00–19.00; lør.–søn. 09.00–16.00"."""
    if not hours:
        return str(lazy_gettext("Not given"))
    locale = str(get_locale() or "da")
    names = get_day_names("abbreviated", locale=locale)  # 0 = Monday
    separator = "." if locale == "da" else ":"
    runs: list[tuple[int, int, str]] = []
    for index, day in enumerate(WEEKDAYS):
        text = ", ".join(
            f"{a.replace(':', separator)}–{b.replace(':', separator)}"
            for a, b in hours.get(day, [])
        )
        if runs and runs[-1][2] == text and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index, text)
        else:
            runs.append((index, index, text))
    parts = []
    for first, last, text in runs:
        if not text:
            continue
        days = names[first] if first == last else f"{names[first]}–{names[last]}"
        parts.append(f"{days} {text}")
    return "; ".join(parts) or str(lazy_gettext("Closed"))


def weekday_date(value: str | date | None, long: bool = False) -> str:
    """ "lør. 21. nov." (or in full, for a sentence: "lørdag 21. november")."""
    if value is None:
        return "–"
    day = date.fromisoformat(value) if isinstance(value, str) else value
    locale = str(get_locale() or "da")
    weekday, month = ("EEEE", "MMMM") if long else ("EEE", "MMM")
    pattern = f"{weekday} d. {month}" if locale == "da" else f"{weekday} d {month}"
    return format_date(day, pattern, locale=locale)


def switch_language(language: str) -> str:
    return url_for(request.endpoint, **{**request.args.to_dict(), "lang": language})


@bp.app_context_processor
def _helpers() -> dict:
    return {
        "kind_name": lambda kind: str(KIND_NAMES.get(kind, kind)),
        "opening_hours": opening_hours,
        "free_of": availability.free_of,
        "switch_language": switch_language,
    }


@bp.app_template_filter("weekday_date")
def _weekday_date(value, long: bool = False) -> str:
    return weekday_date(value, long)
