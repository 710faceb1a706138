"""The pharmacy's inbox of stock requests from the sites it supplies: approve (possibly
fewer doses), reject with a reason, fulfil with a shipment."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from inventory.domain.errors import DomainError, InvalidInput
from inventory.services import shipments
from inventory.web.core import staff_blueprint
from inventory.web.i18n import gettext as _
from inventory.web.messages import message_of
from inventory.web_db import get_session, now

bp = staff_blueprint("requests", __name__)


@bp.get("/requests")
def index(errors: dict | None = None, status: int = 200):
    listed = shipments.list_requests(get_session(), g.actor)
    return render_template(
        "requests/index.html",
        open_requests=[r for r in listed if r.status == "open"],
        approved=[r for r in listed if r.status == "approved"],
        closed=[r for r in listed if r.status in ("rejected", "fulfilled")][-50:],
        may_decide=g.actor.may("request.decide"),
        errors=errors or {},
    ), status


@bp.post("/requests/<id:request_id>/decide")
def decide(request_id: int):
    session = get_session()
    decision = request.form.get("decision")
    try:
        if decision == "approve":
            doses = (request.form.get("doses") or "").strip()
            if doses and not doses.isdigit():
                raise InvalidInput(_("A whole number of doses."), fields={"doses": ["number"]})
            shipments.approve_request(
                session, g.actor, now(), request_id, int(doses) if doses else None
            )
        elif decision == "reject":
            reason = (request.form.get("reason") or "").strip()
            if not reason:
                raise InvalidInput(_("Give a reason."), fields={"reason": ["required"]})
            shipments.reject_request(session, g.actor, now(), request_id, reason)
        else:
            raise InvalidInput("approve or reject", fields={"decision": ["required"]})
    except DomainError as exc:
        session.rollback()
        return index(errors={request_id: message_of(exc)}, status=422)
    return redirect(url_for("requests.index"), 303)
