"""Thaw and repack: a frozen tray thawed into a fridge, then split into cartons for the
centres, with their labels printed together."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from inventory.domain.errors import DomainError
from inventory.services import custody, planning, stock
from inventory.services.access import require
from inventory.services.paging import LARGEST_PAGE
from inventory.web.core import (
    earlier_submission,
    new_form_key,
    remember_submission,
    staff_blueprint,
)
from inventory.web.messages import message_of
from inventory.web_db import get_session, now

bp = staff_blueprint("repack", __name__)

FROZEN = ("ultra_frozen", "frozen")
MAX_PARTS = 20


@bp.get("/repack")
def index():
    """The worklist: frozen stock to thaw, thawed stock to split (first expiry first)."""
    require(g.actor, "repack")
    session = get_session()
    site = g.actor.site_code
    available = stock.list_cartons(
        session, g.actor, site=site, status="available", page=LARGEST_PAGE
    )
    return render_template(
        "repack/index.html",
        more=available.next_cursor is not None,
        frozen=[c for c in available if c.state in FROZEN and c.shipment_id is None],
        thawed=[c for c in available if c.state == "thawed" and c.shipment_id is None],
    )


def _fridges(carton) -> list:
    return [u for u in carton.site.storage_units if u.kind != "cool_box"]


@bp.route("/cartons/<id:carton_id>/thaw", methods=["GET", "POST"])
def thaw(carton_id: int):
    session = get_session()
    carton = stock.get_carton(session, g.actor, carton_id)
    require(g.actor, "thaw", carton.site)
    error = None
    if request.method == "POST":
        done = earlier_submission(request.form.get("key"))
        if done:
            return redirect(done, 303)
        task = request.form.get("task", type=int)
        try:
            if task:  # a plan's thaw task: thawing it closes the task too
                planning.complete_thaw_task(
                    session, g.actor, now(), task, storage_unit=request.form.get("storage_unit")
                )
            else:
                custody.thaw(
                    session,
                    g.actor,
                    now(),
                    carton_id,
                    storage_unit=request.form.get("storage_unit"),
                )
        except DomainError as exc:
            error = message_of(exc)
        else:
            location = (
                url_for("stock.carton", carton_id=carton_id)
                if task
                else url_for("repack.repack", carton_id=carton_id)
            )
            remember_submission(request.form.get("key"), location)
            return redirect(location, 303)
    units = [u for u in _fridges(carton) if u.min_c >= 0]
    return render_template(
        "repack/thaw.html",
        carton=carton,
        units=units,
        error=error,
        key=new_form_key(),
        task=request.values.get("task", type=int),
    ), (422 if error else 200)


@bp.route("/cartons/<id:carton_id>/repack", methods=["GET", "POST"])
def repack(carton_id: int):
    session = get_session()
    carton = stock.get_carton(session, g.actor, carton_id)
    require(g.actor, "repack", carton.site)
    error, rows = None, []
    if request.method == "POST":
        done = earlier_submission(request.form.get("key"))
        if done:
            return redirect(done, 303)
        rows = _rows(request.form)
        parts = [(vials, unit) for vials, unit in rows if vials]
        try:
            children = custody.repack(session, g.actor, now(), carton_id, parts)
        except DomainError as exc:
            error = message_of(exc)
        else:
            location = url_for("stock.labels", carton=[c.id for c in children])
            remember_submission(request.form.get("key"), location)
            return redirect(location, 303)
    return render_template(
        "repack/repack.html",
        carton=carton,
        units=_fridges(carton),
        rows=rows or [(None, carton.storage_unit.code if carton.storage_unit else "")] * 3,
        error=error,
        key=new_form_key(),
    ), (422 if error else 200)


def _rows(form) -> list[tuple[int | None, str]]:
    """The split as typed: one row per new carton (vials, storage unit); empty rows skipped."""
    vials, units = form.getlist("vials")[:MAX_PARTS], form.getlist("storage_unit")[:MAX_PARTS]
    rows = []
    for count, unit in zip(vials, units, strict=False):
        count = count.strip()
        rows.append((int(count) if count.isdigit() else None, unit.strip()))
    return rows
