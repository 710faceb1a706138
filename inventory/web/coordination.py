"""Coordinators' pages: uptake against the programme's goals (with a choropleth of
municipalities on the map of Denmark), and waste and stock figures. Read-only; a coordinator
sees their own region. Each figure links to the list behind it."""

from __future__ import annotations

from datetime import date

from flask import Response, g, render_template, request, url_for

from inventory.domain import geo
from inventory.services import availability, dashboards, uptake
from inventory.services.appointments import local_today
from inventory.web import public, svgmap
from inventory.web.core import staff_blueprint, target_group_names
from inventory.web_db import get_session, now

bp = staff_blueprint("coordination", __name__)

# uptake as a share of the goal's target -> a band of the choropleth
BANDS = ((0.5, "band-0"), (0.8, "band-1"), (1.0, "band-2"))


def band(uptake_share: float | None, target: float) -> str:
    if uptake_share is None:
        return "band-none"
    ratio = uptake_share / target
    return next((name for upper, name in BANDS if ratio < upper), "band-3")


@bp.get("/region/uptake")
def uptake_page():
    session = get_session()
    region = request.args.get("region") or None
    report = uptake.report(session, g.actor, by="municipality", region=region)
    goals = report["goals"]
    chosen = request.args.get("goal") or (goals[0]["name"] if goals else None)
    goal = next((x for x in goals if x["name"] == chosen), goals[0] if goals else None)
    classes, titles = {}, {}
    for area in report["areas"]:
        standing = next((s for s in area["goals"] if goal and s["goal"] == goal["name"]), None)
        if standing is None:
            continue
        classes[area["area"]] = band(standing["uptake"], goal["target"])
        shown = "–" if standing["uptake"] is None else f"{standing['uptake'] * 100:.1f} %"
        titles[area["area"]] = f"{area['name']}: {shown}"
    overview = public.overview().payload
    shown = report["region"]  # a coordinator's own region, or the one asked for
    sites = [s for s in overview["sites"] if shown is None or s["region"] == shown]
    text = public.map_text()
    text.municipality_titles = titles
    svg = svgmap.draw(
        [public.marker(s, None) for s in sites if s["lat"] is not None],
        text,
        municipality_classes=classes,
    )
    weekly = uptake.report(session, g.actor, by="region", region=region)
    return render_template(
        "coordination/uptake.html",
        report=report,
        weekly=weekly,
        goal=goal,
        goals=goals,
        map_svg=svg,
        attribution=public.attribution(),
        regions=sorted(geo.regions()),
        region=report["region"],
        groups=uptake.TARGET_GROUPS,
        group_names=target_group_names(),
    )


@bp.get("/region/uptake.csv")
def uptake_csv():
    by = request.args.get("by", "municipality")
    text = uptake.report_csv(get_session(), g.actor, by=by, region=request.args.get("region"))
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="uptake.csv"'},
    )


@bp.get("/region/waste")
def waste_page():
    session = get_session()
    region = request.args.get("region") or None
    by = request.args.get("by", "site")
    at = now()
    return render_template(
        "coordination/waste.html",
        waste=dashboards.waste(session, g.actor, at, by=by, region=region),
        expiring=dashboards.expiring(session, g.actor, at, region=region),
        cover=dashboards.cover(session, g.actor, at, region=region),
        by=by,
        region=region,
        regions=sorted(geo.regions()),
        stock_url=lambda **args: url_for("stock.index", **args),
        soon=availability.SOON_DAYS,
    )


@bp.get("/region/waste/events")
def waste_events():
    args = request.args
    by, value = args.get("by", "site"), args.get("value", "")
    since = date.fromisoformat(args["since"]) if args.get("since") else local_today(now())
    events = dashboards.waste_events(
        get_session(), g.actor, by=by, value=value, since=since, region=args.get("region")
    )
    return render_template(
        "coordination/waste_events.html",
        events=events,
        by=by,
        value=value,
        region=args.get("region"),
    )
