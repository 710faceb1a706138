"""Shipments from the pharmacy: a draft from chosen cartons (or made by an approved plan,
or for a stock request), a printable pick list, dispatch, and cancelling a draft."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from inventory.domain.errors import DomainError
from inventory.services import planning, shipments, stock
from inventory.services.access import require
from inventory.services.common import site_by_code
from inventory.services.paging import LARGEST_PAGE
from inventory.web.core import (
    earlier_submission,
    new_form_key,
    remember_submission,
    staff_blueprint,
)
from inventory.web.messages import message_of
from inventory.web_db import get_session, now

bp = staff_blueprint("shipments", __name__)


def _home_site():
    if g.actor.site_code is None:
        return None
    return site_by_code(get_session(), g.actor.site_code)


@bp.get("/shipments")
def index():
    session = get_session()
    home = _home_site()
    listed = shipments.list_shipments(
        session, g.actor, site=home.code if home else None, status=request.args.get("status")
    )
    return render_template(
        "shipments/index.html",
        drafts=[s for s in listed if s.status == "draft"],
        dispatched=[s for s in listed if s.status == "dispatched"],
        received=[s for s in listed if s.status == "received"][:50],
        may_ship=g.actor.may("ship"),
    )


@bp.route("/shipments/new", methods=["GET", "POST"])
def new():
    """Pick cartons for a site (first expiry first); a stock request may be named."""
    session = get_session()
    require(g.actor, "ship")
    home = _home_site()
    error = None
    if request.method == "POST":
        done = earlier_submission(request.form.get("key"))
        if done:
            return redirect(done, 303)
        try:
            shipment = shipments.create_shipment(
                session,
                g.actor,
                now(),
                from_site=request.form.get("from_site") or (home.code if home else ""),
                to_site=request.form.get("to_site", ""),
                cartons=[int(c) for c in request.form.getlist("carton") if c.isdigit()],
                request=request.form.get("request", type=int),
                note=request.form.get("note") or None,
            )
        except DomainError as exc:
            error = message_of(exc)
        else:
            location = url_for("shipments.show", shipment_id=shipment.id)
            remember_submission(request.form.get("key"), location)
            return redirect(location, 303)
    stock_request = None
    if request.values.get("request", "").isdigit():
        stock_request = shipments.get_request(session, g.actor, int(request.values["request"]))
    available = (
        stock.list_cartons(session, g.actor, site=home.code, status="available", page=LARGEST_PAGE)
        if home
        else None
    )
    cartons = [c for c in available or () if c.shipment_id is None]
    return render_template(
        "shipments/new.html",
        home=home,
        sites=planning.served_sites(session, home) if home else [],
        cartons=cartons,
        more=available is not None and available.next_cursor is not None,
        stock_request=stock_request,
        chosen=set(request.form.getlist("carton")),
        to_site=request.values.get("to_site") or (stock_request.site.code if stock_request else ""),
        error=error,
        key=new_form_key(),
    ), (422 if error else 200)


@bp.get("/shipments/<id:shipment_id>")
def show(shipment_id: int):
    shipment = shipments.get_shipment(get_session(), g.actor, shipment_id)
    return render_template(
        "shipments/show.html",
        shipment=shipment,
        may_ship=g.actor.may("ship") and g.actor.acts_at(shipment.from_site, "ship"),
    )


@bp.get("/shipments/<id:shipment_id>/pick-list")
def pick_list(shipment_id: int):
    shipment = shipments.get_shipment(get_session(), g.actor, shipment_id)
    # in the order a picker walks: storage unit by storage unit
    items = sorted(
        shipment.items,
        key=lambda i: (i.carton.storage_unit.code if i.carton.storage_unit else "", i.carton_id),
    )
    return render_template("shipments/pick_list.html", shipment=shipment, items=items)


@bp.post("/shipments/<id:shipment_id>/dispatch")
def dispatch(shipment_id: int):
    shipments.dispatch(get_session(), g.actor, now(), shipment_id)
    return redirect(url_for("shipments.show", shipment_id=shipment_id), 303)


@bp.post("/shipments/<id:shipment_id>/cancel")
def cancel(shipment_id: int):
    shipments.cancel_draft(get_session(), g.actor, now(), shipment_id)
    return redirect(url_for("shipments.index"), 303)
