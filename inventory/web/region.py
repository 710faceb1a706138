"""A region at a glance, a row per site (doses, cover, held stock, open excursions and
alerts, waste), each figure linking to the list behind it; and a lot's trace: every carton of
the lot, where it is, what became of its doses and the shipments it travelled on."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from inventory.domain import geo
from inventory.domain.errors import DomainError
from inventory.services import overview as figures
from inventory.services.access import require
from inventory.web.core import staff_blueprint
from inventory.web.messages import message_of
from inventory.web.recall import lots_for
from inventory.web_db import get_session, now

bp = staff_blueprint("region", __name__)


@bp.get("/region", endpoint="overview")
def overview_page():
    """Coordinators see their own region; auditors and admins choose one."""
    regions = sorted(geo.regions())
    region = request.args.get("region") or g.actor.region or regions[0]
    found = figures.region_sites(get_session(), g.actor, now(), region)
    return render_template(
        "region/overview.html",
        found=found,
        regions=regions,
        may_choose=g.actor.role in ("admin", "auditor") or not g.actor.region,
    )


@bp.get("/lots")
def lots():
    """Find a lot by its number or by scanning a vial or tray."""
    require(g.actor, "trace")
    query = (request.args.get("q") or "").strip()
    found, error = [], None
    if query:
        try:
            found = list(lots_for(get_session(), query, request.args.get("separator") or None))
        except DomainError as exc:
            error = message_of(exc)
    if len(found) == 1 and not error:
        return redirect(url_for("region.lot_trace", lot_id=found[0].id), 303)
    return render_template("region/lots.html", query=query, found=found, error=error)


@bp.get("/lots/<id:lot_id>/trace")
def lot_trace(lot_id: int):
    traced = figures.lot_tree(get_session(), g.actor, lot_id)
    return render_template(
        "region/trace.html",
        lot=traced["lot"],
        trace=traced,
        may_recall=g.actor.may("recall"),
    )
