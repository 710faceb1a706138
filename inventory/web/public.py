"""The public, no-login overview of free vaccination appointments per site and day, each
dose promised once (``inventory.services.availability``), and uptake by region and group.

Aggregated figures only (free appointments per site, day and product; uptake counts below five
suppressed): no booking references, no stock detail. Computed at most once a minute per
process and served with ``Cache-Control: public, max-age=60``, so a rush of citizens costs one
query a minute.
"""

from __future__ import annotations

import time
from html import escape

from flask import Blueprint, Response, current_app

from inventory.api import responses
from inventory.api.contract import Reply, operation
from inventory.api.schemas import RegionQuery
from inventory.services import uptake
from inventory.services.availability import DAYS, public_overview
from inventory.web_db import get_session, now, transactional

bp = Blueprint("public", __name__, url_prefix="/public")
transactional(bp)

CACHE_SECONDS = 60
CACHE_CONTROL = f"public, max-age={CACHE_SECONDS}"
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
    """Sites with stock or bookings, each dose promised once across the days shown."""
    session = get_session()
    try:
        payload = public_overview(session, now(), DAYS)
    finally:
        session.rollback()
    sites = [
        {k: v for k, v in site.items() if k not in ("listed", "free_next_7_days")}
        for site in payload["sites"]
        if site["listed"]
    ]
    return {**payload, "sites": sites}


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
