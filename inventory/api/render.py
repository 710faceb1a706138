"""How things look on the wire. Plain dicts built from rows; no logic beyond presentation."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from inventory.db.models import (
    Carton,
    CustodyEvent,
    Product,
    Shipment,
    Site,
    StockRequest,
    StorageUnit,
)
from inventory.domain import geo
from inventory.domain.custody import GONE_STATUSES
from inventory.services import catalogue
from inventory.services.custody import days_left, open_vial_bud


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def product_json(p: Product) -> dict:
    return {
        "code": p.code,
        "name": p.name,
        "programme": p.programme,
        "doses_per_vial": p.doses_per_vial,
        "gtins": [g.gtin for g in p.gtins],
        "storage_profile": p.storage_profile,
        "thaw_lead_hours": p.thaw_lead_hours,
    }


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
    open_holds = [h for h in c.holds if h.decision is None]
    vial_bud = open_vial_bud(c)
    return {
        "id": c.id,
        "product": c.product.code,
        "product_name": c.product.name,
        "lot": c.lot.number,
        "lot_id": c.lot_id,
        "expiry": iso(c.lot.expiry),
        "state": c.state,
        "status": c.status,
        "vials": c.vials,
        "doses": c.doses,
        "doses_per_vial": c.product.doses_per_vial,
        "site": c.site.code,
        "storage_unit": c.storage_unit.code if c.storage_unit else None,
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
        "children": [child.id for child in c.children],
        "serial": c.serial,
    }


def event_json(e: CustodyEvent, sites: dict[int, str], units: dict[int, str]) -> dict:
    return {
        "id": e.id,
        "at": iso(e.at),
        "actor": e.actor,
        "kind": e.kind,
        "carton": e.carton_id,
        "doses": e.doses,
        "change": e.change,
        "bucket": e.bucket,
        "from_site": sites.get(e.from_site_id),
        "to_site": sites.get(e.to_site_id),
        "from_storage_unit": units.get(e.from_storage_unit_id),
        "to_storage_unit": units.get(e.to_storage_unit_id),
        "reason": e.reason,
        "details": e.details,
    }


def carton_detail_json(session, c: Carton, now: datetime) -> dict:
    """One carton with its history and lineage both ways (ancestors up to the SSI tray,
    every descendant down to the last small carton)."""
    events = session.scalars(
        select(CustodyEvent).where(CustodyEvent.carton_id == c.id).order_by(CustodyEvent.id)
    ).all()
    sites = dict(session.execute(select(Site.id, Site.code)).all())
    units = dict(session.execute(select(StorageUnit.id, StorageUnit.code)).all())
    ancestors = []
    node = c.parent
    while node is not None:
        ancestors.append(
            {"id": node.id, "site": node.site.code, "vials": node.vials, "status": node.status}
        )
        node = node.parent

    def descendants(carton: Carton) -> list[dict]:
        return [
            {
                "id": ch.id,
                "site": ch.site.code,
                "vials": ch.vials,
                "doses": ch.doses,
                "status": ch.status,
                "children": descendants(ch),
            }
            for ch in carton.children
        ]

    return {
        **carton_json(c, now),
        "holds": [hold_json(h) for h in c.holds],
        "history": [event_json(e, sites, units) for e in events],
        "lineage": {"ancestors": ancestors, "descendants": descendants(c)},
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
