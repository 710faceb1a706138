"""Coordinators' figures: waste against WHO's indicative rates, doses expiring soon, days of
cover. Read-only; a coordinator or pharmacist sees their own region."""

from __future__ import annotations

from flask import g

from inventory.api import api, responses
from inventory.api.contract import operation
from inventory.api.schemas import CoverQuery, ExpiringQuery, WasteQuery
from inventory.services import dashboards
from inventory.web_db import get_session, now


@api.get("/dashboards/waste")
@operation(responses.Waste, query=WasteQuery)
def waste_dashboard(args):
    """Waste rate per region, site, product or reason (``by``), week by week, against WHO's
    indicative rate for the vial sizes used."""
    return dashboards.waste(
        get_session(),
        g.actor,
        now(),
        by=args.get("by", "region"),
        region=args.get("region"),
        weeks=args.get("weeks", 8),
    )


@api.get("/dashboards/expiring")
@operation(responses.Expiring, query=ExpiringQuery)
def expiring_dashboard(args):
    """Doses whose beyond-use date falls within ``days`` (default 7), per site and product."""
    return dashboards.expiring(
        get_session(),
        g.actor,
        now(),
        days=args.get("days", 7),
        region=args.get("region"),
    )


@api.get("/dashboards/cover")
@operation(responses.Cover, query=CoverQuery)
def cover_dashboard(args):
    """Days of cover per vaccination site: usable doses over appointments booked per day."""
    return dashboards.cover(
        get_session(),
        g.actor,
        now(),
        days=args.get("days", 14),
        region=args.get("region"),
    )
