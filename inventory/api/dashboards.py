"""Coordinators' figures: waste against WHO's indicative rates, doses expiring soon, days of
cover. Read-only; a coordinator or pharmacist sees their own region."""

from __future__ import annotations

from flask import g, jsonify, request

from inventory.api import api
from inventory.domain.errors import InvalidInput
from inventory.services import dashboards
from inventory.web_db import get_session, now


def _int(name: str, default: int, most: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise InvalidInput(f"bad {name}", fields={name: [f"a whole number from 1 to {most}"]})
    return int(raw)


@api.get("/dashboards/waste")
def waste_dashboard():
    """Waste rate per region, site, product or reason (``by``), week by week, against WHO's
    indicative rate for the vial sizes used."""
    return jsonify(
        dashboards.waste(
            get_session(),
            g.actor,
            now(),
            by=request.args.get("by", "region"),
            region=request.args.get("region"),
            weeks=_int("weeks", 8, 52),
        )
    )


@api.get("/dashboards/expiring")
def expiring_dashboard():
    """Doses whose beyond-use date falls within ``days`` (default 7), per site and product."""
    return jsonify(
        dashboards.expiring(
            get_session(),
            g.actor,
            now(),
            days=_int("days", 7, 92),
            region=request.args.get("region"),
        )
    )


@api.get("/dashboards/cover")
def cover_dashboard():
    """Days of cover per vaccination site: usable doses over appointments booked per day."""
    return jsonify(
        dashboards.cover(
            get_session(),
            g.actor,
            now(),
            days=_int("days", 14, 92),
            region=request.args.get("region"),
        )
    )
