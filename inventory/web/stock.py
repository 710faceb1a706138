"""Stock on hand by storage unit (first expiry first out), a carton's page and its labels."""

from __future__ import annotations

from itertools import groupby

import segno
from flask import current_app, g, render_template, request, url_for
from markupsafe import Markup

from inventory.services import custody, paging, stock
from inventory.web.core import is_htmx, render_block, staff_blueprint
from inventory.web_db import get_session, now, settings

bp = staff_blueprint("stock", __name__)

FILTERS = ("site", "storage_unit", "product", "status", "state")


@bp.get("/stock")
def index():
    session = get_session()
    chosen = {name: request.args.get(name) or None for name in FILTERS}
    # a person with a site starts at their own site's stock; "all" is everything they see
    if "site" not in request.args:
        chosen["site"] = g.actor.site_code
    elif chosen["site"] in ("all", "alle"):
        chosen["site"] = None
    asked = paging.page_request(request.args.get("limit"), request.args.get("cursor"))
    page = stock.list_cartons(session, g.actor, **chosen, page=asked)
    totals = {t.storage_unit or "": t for t in stock.stock_totals(session, g.actor, **chosen)}
    at = now()
    by_unit = [
        (unit, list(group))
        for unit, group in groupby(
            sorted(page, key=lambda c: (_unit_code(c), c.bud, c.id)), key=_unit_code
        )
    ]
    context = {
        "by_unit": by_unit,
        "totals": totals,
        "chosen": chosen,
        "shown": len(page),
        "count": sum(t.cartons for t in totals.values()),
        "next_url": _next_page_url(page.next_cursor),
        "first_url": url_for("stock.index", **_filter_args()) if asked.cursor else None,
        "marks": {c.id: custody.stock_marks(c, at, _soon_days()) for c in page},
        "statuses": stock.CARTON_STATUSES,
        "states": stock.STATES,
    }
    if is_htmx():
        return render_block("stock/index.html", "results", **context)
    return render_template("stock/index.html", **context)


def _filter_args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k in (*FILTERS, "limit") and v}


def _next_page_url(cursor: str | None) -> str | None:
    """The same list from after this page's last carton (keyset paging, as the API's)."""
    if cursor is None:
        return None
    return url_for("stock.index", **_filter_args(), cursor=cursor)


def _unit_code(carton) -> str:
    return carton.storage_unit.code if carton.storage_unit else ""


def _soon_days() -> int:
    return settings().expiring_soon_days


@bp.get("/cartons/<id:carton_id>")
def carton(carton_id: int):
    session = get_session()
    item = stock.get_carton(session, g.actor, carton_id)
    sites, units = stock.place_codes(session)
    history = stock.history(session, item)
    return render_template(
        "stock/carton.html",
        carton=item,
        marks=custody.stock_marks(item, now(), _soon_days()),
        history=history,
        stays=stock.stays(history, now()),
        unit_page="units.unit" in current_app.view_functions,
        may_hold=g.actor.may("hold")
        and g.actor.acts_at(item.site, "hold")
        and item.status in ("available", "expired"),
        hold_error=request.args.get("hold") == "reason",
        ancestors=stock.ancestors(item),
        sites=sites,
        units=units,
    )


@bp.get("/cartons/<id:carton_id>/label")
def label(carton_id: int):
    item = stock.get_carton(get_session(), g.actor, carton_id)
    return render_template("stock/labels.html", cartons=[item], codes={item.id: _code(item)})


@bp.get("/labels")
def labels():
    """Several cartons' labels on one print: /labels?carton=2&carton=3."""
    session = get_session()
    ids = [int(v) for v in request.args.getlist("carton") if v.isdigit()][:200]
    items = [stock.get_carton(session, g.actor, i) for i in ids]
    return render_template(
        "stock/labels.html", cartons=items, codes={c.id: _code(c) for c in items}
    )


def _code(carton) -> Markup:
    """A QR code of the carton's page, so the next scan opens the carton."""
    target = url_for("stock.carton", carton_id=carton.id, _external=True)
    qr = segno.make(target, error="m")
    return Markup(qr.svg_inline(scale=3, border=2, dark="#000", light="#fff", omitsize=False))
