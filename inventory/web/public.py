"""The public, no-login overview of free vaccination capacity per site and day.

Aggregated figures only (free appointments per site, day and product): no booking references,
no stock detail. Computed at most once a minute per process and served with
``Cache-Control: public, max-age=60``, so a rush of citizens costs one query a minute.
"""

from __future__ import annotations

import time
from datetime import timedelta
from html import escape

from flask import Blueprint, Response, current_app
from sqlalchemy import select

from inventory.api import responses
from inventory.api.contract import Reply, operation
from inventory.api.render import iso
from inventory.api.schemas import RegionQuery
from inventory.db.models import Product
from inventory.services import capacity, uptake
from inventory.services.appointments import local_today
from inventory.web_db import get_session, now, transactional

bp = Blueprint("public", __name__, url_prefix="/public")
transactional(bp)

CACHE_SECONDS = 60
CACHE_CONTROL = f"public, max-age={CACHE_SECONDS}"
DAYS = 14
_CACHE_KEY = "inventory.public_availability"


def availability() -> dict:
    """The overview for every vaccination site, from the per-process cache when fresh."""
    cached = current_app.extensions.get(_CACHE_KEY)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    payload = _compute()
    current_app.extensions[_CACHE_KEY] = (time.monotonic(), payload)
    return payload


def _compute() -> dict:
    session = get_session()
    try:
        at = now()
        first = local_today(at)
        last = first + timedelta(days=DAYS - 1)
        sites = capacity.sites_in_scope(session, None)
        result = capacity.capacity(session, at, sites, first, last)
        names = {s.code: s for s in sites}
        products = dict(session.execute(select(Product.code, Product.name)).all())
        days = [first + timedelta(days=i) for i in range(DAYS)]
        free: dict[str, dict[str, dict[str, int]]] = {}
        for line in result.lines:
            free.setdefault(line.site, {}).setdefault(iso(line.day), {})[line.product] = line.free
        listed = []
        for code in sorted(free):
            site = names[code]
            listed.append(
                {
                    "site": code,
                    "name": site.name,
                    "region": site.region,
                    "kind": site.kind,
                    "days": [
                        {
                            "day": iso(d),
                            "free": free[code].get(iso(d), {}),
                            "total": sum(free[code].get(iso(d), {}).values()),
                        }
                        for d in days
                    ],
                }
            )
        used = sorted({p for s in free.values() for day in s.values() for p in day})
        return {
            "generated_at": iso(at),
            "from": iso(first),
            "to": iso(last),
            "days": [iso(d) for d in days],
            "products": {p: products.get(p, p) for p in used},
            "sites": listed,
        }
    finally:
        session.rollback()


def _filtered(payload: dict, region: str | None) -> dict:
    if not region:
        return payload
    return {
        **payload,
        "region": region,
        "sites": [s for s in payload["sites"] if s["region"] == region],
    }


@bp.get("/availability.json")
@operation(
    responses.Availability,
    public=True,
    query=RegionQuery,
    headers={"Cache-Control": CACHE_CONTROL},
)
def availability_json(args):
    """Free appointments per site, day and product for the next two weeks (no login)."""
    return Reply(
        _filtered(availability(), args.get("region")), headers={"Cache-Control": CACHE_CONTROL}
    )


@bp.get("/uptake.json")
@operation(responses.PublicUptake, public=True, headers={"Cache-Control": CACHE_CONTROL})
def uptake_json():
    """Doses given per region and target group, against the goals (no login); counts below
    five are suppressed."""
    session = get_session()
    try:
        return Reply(uptake.public_aggregate(session), headers={"Cache-Control": CACHE_CONTROL})
    finally:
        session.rollback()


@bp.get("/availability")
@operation(html=True, public=True, query=RegionQuery)
def availability_page(args):
    """Free appointments per site and day for the next two weeks, as a page (no login)."""
    data = _filtered(availability(), args.get("region"))
    response = Response(render(data), mimetype="text/html")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def render(data: dict) -> str:
    days = data["days"]
    head = "".join(f"<th>{escape(d[5:])}</th>" for d in days)
    sections = []
    for region in sorted({s["region"] for s in data["sites"]}):
        rows = []
        for site in (s for s in data["sites"] if s["region"] == region):
            products = sorted({p for d in site["days"] for p in d["free"]})
            for index, product in enumerate(products):
                cells = "".join(
                    f'<td class="{"none" if not d["free"].get(product) else "some"}">{d["free"].get(product, 0)}</td>'
                    for d in site["days"]
                )
                name = (
                    f'<th rowspan="{len(products)}">{escape(site["name"])}</th>'
                    if index == 0
                    else ""
                )
                rows.append(
                    f"<tr>{name}<td>{escape(data['products'].get(product, product))}</td>{cells}</tr>"
                )
        sections.append(
            f"<h2>{escape(region)}</h2><table><tr><th>Site</th><th>Vaccine</th>{head}</tr>"
            + "".join(rows)
            + "</table>"
        )
    body = "".join(sections) or "<p>No vaccination site has free capacity to show.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Free vaccination appointments</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body {{ font-family: sans-serif; margin: 1em; }}
 table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
 th, td {{ border: 1px solid #ccc; padding: .25em .5em; text-align: right; }}
 th:first-child, td:nth-child(2) {{ text-align: left; }}
 td.none {{ color: #999; }} td.some {{ background: #e8f5e9; font-weight: bold; }}
</style></head><body>
<h1>Free vaccination appointments</h1>
<p>Appointments the vaccine in stock and on its way can still serve, per site and day,
from {escape(data["from"])} to {escape(data["to"])}. Updated {escape(data["generated_at"])}
(at most a minute old). Also as <a href="availability.json">JSON</a>.</p>
{body}
</body></html>"""
