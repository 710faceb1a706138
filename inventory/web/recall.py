"""Recall: find a lot by scanning a vial or tray or by its number, recall it with a reason,
and see every carton it reached (each held wherever it is, in transit included)."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from inventory.domain import gs1
from inventory.domain.errors import DomainError
from inventory.services import custody, lots
from inventory.services.access import require
from inventory.services.common import lot_by_id
from inventory.web.core import staff_blueprint
from inventory.web.messages import message_of
from inventory.web_db import get_session, now

bp = staff_blueprint("recall", __name__)


@bp.get("/recall")
def index():
    """Search by a scan (its lot and product) or by a lot number."""
    require(g.actor, "trace")
    session = get_session()
    query = (request.args.get("q") or "").strip()
    found, error = [], None
    if query:
        try:
            found = lots_for(session, query, request.args.get("separator") or None)
        except DomainError as exc:
            error = message_of(exc)
    if len(found) == 1 and not error:
        return redirect(url_for("recall.lot", lot_id=found[0].id), 303)
    return render_template("recall/index.html", query=query, found=found, error=error)


def lots_for(session, query: str, separator: str | None):
    """The lots a scan (its product and lot) or a typed lot number names."""
    if query.startswith(("(", "]", "01", gs1.GS)) and any(ch.isdigit() for ch in query[:4]):
        scanned = custody.read_scan(session, now(), gs1.with_separators(query, separator))
        return lots.find_lots(session, product=scanned.product.code, number=scanned.lot)
    return lots.find_lots(session, number=query.upper()) or lots.find_lots(session, number=query)


@bp.route("/lots/<id:lot_id>/recall", methods=["GET", "POST"])
def lot(lot_id: int):
    session = get_session()
    error = None
    if request.method == "POST":
        reason = (request.form.get("reason") or "").strip()
        if not reason:
            error = "reason"
        else:
            try:
                lots.recall(session, g.actor, now(), lot_id, reason)
            except DomainError as exc:
                error = message_of(exc)
            else:
                return redirect(url_for("recall.lot", lot_id=lot_id), 303)
    traced = lots.trace(session, g.actor, lot_id)
    return render_template(
        "recall/lot.html",
        lot=lot_by_id(session, lot_id),
        trace=traced,
        may_recall=g.actor.may("recall"),
        error=error,
    ), (422 if error else 200)
