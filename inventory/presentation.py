"""How things look on the wire, for the JSON API and the web pages alike. Plain dicts built
from rows, and pages of lists; no logic beyond presentation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

from flask import request

from inventory.db.models import (
    Carton,
    Product,
    Shipment,
    Site,
    StockRequest,
    StorageUnit,
)
from inventory.db.values import Values
from inventory.domain import geo
from inventory.domain.custody import GONE_STATUSES, CartonStatus
from inventory.services import catalogue, paging, stock
from inventory.services.custody import days_left, open_vial_bud, open_vial_bud_with
from inventory.services.paging import Page, PageRequest


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def product_json(p: Product) -> dict:
    return catalogue.product_snapshot(p)


def site_json(s: Site) -> dict:
    municipality = geo.municipalities().get(s.municipality_code or "")
    return {
        **catalogue.site_snapshot(s),
        "municipality_name": municipality.name if municipality else None,
    }


def storage_unit_json(u: StorageUnit) -> dict:
    return {
        "code": u.code,
        "site": u.site.code,
        "kind": u.kind,
        "min_c": u.min_c,
        "max_c": u.max_c,
        "capacity_vials": u.capacity_vials,
    }


def hold_json(h) -> dict:
    return {
        "id": h.id,
        "kind": h.kind,
        "reason": h.reason,
        "excursion": h.excursion_id,
        "placed_at": iso(h.placed_at),
        "placed_by": h.placed_by,
        "decision": h.decision,
        "decision_reason": h.decision_reason,
        "decided_at": iso(h.decided_at),
        "decided_by": h.decided_by,
    }


def carton_json(c: Carton, now: datetime) -> dict:
    return _carton(
        c,
        now,
        c.product.code,
        c.product.name,
        c.product.doses_per_vial,
        c.lot.number,
        c.lot.expiry,
        c.site.code,
        c.storage_unit.code if c.storage_unit else None,
        [child.id for child in c.children],
        [h for h in c.holds if h.decision is None],
        open_vial_bud(c),
    )


def carton_values_json(
    c: Values, children: list[int], open_holds: list[Values], now: datetime
) -> dict:
    """`carton_json` of a carton read as values (inventory.services.stock.CartonValues)."""
    return _carton(
        c,
        now,
        c.product,
        c.product_name,
        c.doses_per_vial,
        c.lot,
        c.expiry,
        c.site,
        c.storage_unit,
        children,
        open_holds,
        open_vial_bud_with(c, c.storage_profile),
    )


def cartons_json(found: stock.CartonValues, now: datetime) -> list[dict]:
    children, holds = found.children, found.holds
    return [carton_values_json(c, children[c.id], holds.get(c.id, []), now) for c in found]


def _carton(
    c,
    now: datetime,
    product: str,
    product_name: str,
    doses_per_vial: int,
    lot: str,
    expiry: date,
    site: str,
    storage_unit: str | None,
    children: list[int],
    open_holds: list,
    vial_bud: datetime | None,
) -> dict:
    """A carton (its own columns on `c`: an ORM row or a row of values) as the API shows it,
    with its lot, product and places."""
    return {
        "id": c.id,
        "product": product,
        "product_name": product_name,
        "lot": lot,
        "lot_id": c.lot_id,
        "expiry": iso(expiry),
        "state": c.state,
        "status": c.status,
        "vials": c.vials,
        "doses": c.doses,
        "doses_per_vial": doses_per_vial,
        "site": site,
        "storage_unit": storage_unit,
        "in_transit": c.in_transit,
        "shipment": c.shipment_id,
        "thawed_at": iso(c.thawed_at),
        "bud": iso(c.bud),
        "days_left": days_left(c, now) if c.status not in GONE_STATUSES else None,
        "open_vial": (
            {
                "doses": c.open_vial_doses,
                "opened_at": iso(c.open_vial_opened_at),
                "bud": iso(vial_bud),
            }
            if c.open_vial_doses
            else None
        ),
        "room_temp_hours": round(c.room_temp_hours, 3),
        "exposure": {
            "out_of_range_s": round(c.exposure_s, 1),
            "min_c": c.exposure_min_c,
            "max_c": c.exposure_max_c,
        },
        "hold": hold_json(open_holds[-1]) if open_holds else None,
        "holds": [hold_json(h) for h in open_holds],
        "parent": c.parent_id,
        "children": children,
        "serial": c.serial,
    }


def event_json(e: Values) -> dict:
    """A ledger event with the codes of the places it moved stock between
    (inventory.services.stock.CartonDetail.history)."""
    return {
        "id": e.id,
        "at": iso(e.at),
        "actor": e.actor,
        "kind": e.kind,
        "carton": e.carton_id,
        "doses": e.doses,
        "change": e.change,
        "bucket": e.bucket,
        "from_site": e.from_site,
        "to_site": e.to_site,
        "from_storage_unit": e.from_storage_unit,
        "to_storage_unit": e.to_storage_unit,
        "reason": e.reason,
        "details": e.details,
    }


def carton_detail_json(detail: stock.CartonDetail, now: datetime) -> dict:
    """One carton with its history and lineage both ways (ancestors up to the SSI tray,
    every descendant down to the last small carton). `hold` is its open hold, `holds` all
    it ever had."""
    c = detail.carton
    below: dict[int, list] = {}
    for kin in detail.lineage.descendants:  # by id, so each level keeps the children's order
        below.setdefault(kin.parent_id, []).append(kin)

    def descendants(carton_id: int) -> list[dict]:
        return [
            {
                "id": ch.id,
                "site": ch.site,
                "vials": ch.vials,
                "doses": ch.doses,
                "status": ch.status,
                "children": descendants(ch.id),
            }
            for ch in below.get(carton_id, ())
        ]

    open_holds = [h for h in detail.holds if h.decision is None]
    return {
        **carton_values_json(c, detail.children, open_holds, now),
        "holds": [hold_json(h) for h in detail.holds],
        "history": [event_json(row) for row in detail.history],
        "lineage": {
            "ancestors": [
                {"id": a.id, "site": a.site, "vials": a.vials, "status": a.status}
                for a in detail.lineage.ancestors
            ],
            "descendants": descendants(c.id),
        },
    }


def request_json(r: StockRequest) -> dict:
    return {
        "id": r.id,
        "site": r.site.code,
        "product": r.product.code,
        "doses": r.doses,
        "needed_on": iso(r.needed_on),
        "status": r.status,
        "approved_doses": r.approved_doses,
        "reason": r.reason,
        "note": r.note,
        "created_at": iso(r.created_at),
        "created_by": r.created_by,
        "decided_at": iso(r.decided_at),
        "decided_by": r.decided_by,
    }


def shipment_json(s: Shipment) -> dict:
    return {
        "id": s.id,
        "from_site": s.from_site.code,
        "to_site": s.to_site.code,
        "request": s.request_id,
        "status": s.status,
        "created_at": iso(s.created_at),
        "created_by": s.created_by,
        "dispatched_at": iso(s.dispatched_at),
        "dispatched_by": s.dispatched_by,
        "cartons": [i.carton_id for i in s.items],
        "doses": sum(i.doses for i in s.items),
        "expected": s.expected,
        "note": s.note,
        "cool_box": s.cool_box.code if s.cool_box else None,
        "proof_of_delivery": None
        if s.status != "received"
        else {
            "received_at": iso(s.received_at),
            "received_by": s.received_by,
            "items": [
                {
                    "carton": i.carton_id,
                    "doses": i.doses,
                    "accepted": i.accepted,
                    "reason": i.reason,
                }
                for i in s.items
            ],
        },
    }


# ---------------------------------------------------------------- pages of a list


def page_of(args: Mapping[str, Any] | None = None) -> PageRequest:
    """The page a list request asks for: `limit` and `cursor` from its (loaded) query, or
    from the request's query string."""
    args = request.args if args is None else args
    return paging.page_request(args.get("limit"), args.get("cursor"))


def next_page_headers(page: Page) -> dict[str, str]:
    """When more rows follow a page: the next page's cursor in `X-Next-Cursor` and its whole
    URL in `Link: <...>; rel="next"`. The body stays the JSON array of the page's rows."""
    if page.next_cursor is None:
        return {}
    args = request.args.to_dict(flat=False)
    args["cursor"] = [page.next_cursor]
    url = request.base_url + "?" + urlencode(args, doseq=True)
    return {"X-Next-Cursor": page.next_cursor, "Link": f'<{url}>; rel="next"'}


# ---------------------------------------------------------------- carton labels

STATE_NAMES = {
    "ultra_frozen": "ULTRA-FROZEN",
    "frozen": "FROZEN",
    "thawed": "THAWED (2-8 C)",
    "punctured": "OPEN VIAL",
}


def label_html(carton: Carton, now: datetime) -> str:
    """A printable carton label. After repacking, the BUD goes on the carton, not on each vial."""
    held = carton.status == CartonStatus.HELD
    bud = carton.bud.strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        ("Product", carton.product.name),
        ("Lot", carton.lot.number),
        ("Expiry", carton.lot.expiry.isoformat()),
        ("State", STATE_NAMES.get(carton.state, carton.state)),
        ("Vials", str(carton.vials)),
        ("Doses", str(carton.doses)),
        ("Thawed at", carton.thawed_at.strftime("%Y-%m-%d %H:%M UTC") if carton.thawed_at else "-"),
        ("Carton", f"#{carton.id}" + (f" (from #{carton.parent_id})" if carton.parent_id else "")),
    ]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    warning = '<p class="hold">DO NOT USE: ON HOLD</p>' if held else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Carton {carton.id}</title>
<style>
 body {{ font-family: sans-serif; }}
 .label {{ width: 9cm; border: 2px solid #000; padding: 0.4cm; }}
 .bud {{ font-size: 1.4em; font-weight: bold; border: 2px solid #000;
         padding: 0.2cm; margin: 0.2cm 0; }}
 .hold {{ color: #fff; background: #b00; font-weight: bold; padding: 0.2cm; }}
 th {{ text-align: left; padding-right: 0.4cm; }}
 @media print {{ button {{ display: none; }} }}
</style></head>
<body><div class="label">
<h2>{escape(carton.product.name)}</h2>
{warning}
<div class="bud">Use before: {escape(bud)}</div>
<table>{body}</table>
</div><button onclick="window.print()">Print</button></body></html>"""
