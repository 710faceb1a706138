"""Holds: the worklist of held cartons with why (the excursion and its chart where one caused
it), released or discarded with a reason by a pharmacist."""

from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, url_for

from inventory.domain.errors import DomainError, InvalidInput
from inventory.services import custody, stock
from inventory.web.core import staff_blueprint
from inventory.web.i18n import gettext as _
from inventory.web.messages import message_of
from inventory.web_db import get_session, now

bp = staff_blueprint("holds", __name__)


@bp.get("/holds")
def index(errors: dict | None = None, status: int = 200):
    cartons, excursions = stock.hold_worklist(get_session(), g.actor)
    return render_template(
        "holds/index.html",
        cartons=cartons,
        excursions=excursions,
        may_decide={c.id: g.actor.acts_at(c.site, "decide_hold") for c in cartons}
        if g.actor.may("decide_hold")
        else {},
        unit_page="units.unit" in current_app.view_functions,
        errors=errors or {},
    ), status


@bp.post("/cartons/<id:carton_id>/decide")
def decide(carton_id: int):
    """Release or discard a held carton; the reason is required."""
    reason = (request.form.get("reason") or "").strip()
    action = {"release": custody.release, "discard": custody.discard}.get(
        request.form.get("decision", "")
    )
    try:
        if action is None:
            raise InvalidInput("choose release or discard", fields={"decision": ["required"]})
        if not reason:
            raise InvalidInput(_("Give a reason."), fields={"reason": ["required"]})
        action(get_session(), g.actor, now(), carton_id, reason)
    except DomainError as exc:
        get_session().rollback()
        return index(errors={carton_id: message_of(exc)}, status=422)
    return redirect(url_for("holds.index"), 303)


@bp.post("/cartons/<id:carton_id>/hold")
def hold(carton_id: int):
    """Put a carton on hold (quarantine: do not use), with a reason."""
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        return redirect(url_for("stock.carton", carton_id=carton_id, hold="reason"), 303)
    custody.hold(get_session(), g.actor, now(), carton_id, reason)
    return redirect(url_for("stock.carton", carton_id=carton_id), 303)
