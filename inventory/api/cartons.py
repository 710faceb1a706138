"""Receipts and everything done to a carton."""

from __future__ import annotations

from flask import g, jsonify, request
from werkzeug.wrappers import Response

from inventory.api import api, body, created
from inventory.api.render import carton_detail_json, carton_json
from inventory.api.schemas import (
    DosesSchema,
    ReasonSchema,
    ReceiptSchema,
    RepackSchema,
    ThawSchema,
    WasteSchema,
)
from inventory.services import custody, stock
from inventory.web import labels
from inventory.web_db import get_session, now


def _carton(carton):
    return jsonify(carton_json(carton, now()))


@api.post("/receipts")
@body(ReceiptSchema)
def receive(data):
    """Receive vials of a lot into a storage unit, from fields or a GS1 DataMatrix scan."""
    carton = custody.receive(get_session(), g.actor, now(), custody.ReceiptInput(**data))
    return created(carton_json(carton, now()))


@api.get("/cartons")
def list_cartons():
    """Stock on hand, expiring soonest first (FEFO)."""
    args = request.args
    cartons = stock.list_cartons(
        get_session(),
        g.actor,
        site=args.get("site"),
        storage_unit=args.get("storage_unit"),
        product=args.get("product"),
        status=args.get("status"),
        state=args.get("state"),
    )
    at = now()
    return jsonify([carton_json(c, at) for c in cartons])


@api.get("/cartons/<id:carton_id>")
def get_carton(carton_id):
    """One carton with its history and lineage."""
    session = get_session()
    return jsonify(
        carton_detail_json(session, stock.get_carton(session, g.actor, carton_id), now())
    )


@api.get("/cartons/<id:carton_id>/label")
def carton_label(carton_id):
    """A printable carton label (HTML)."""
    carton = stock.get_carton(get_session(), g.actor, carton_id)
    return Response(labels.render(carton, now()), mimetype="text/html")


@api.post("/cartons/<id:carton_id>/thaw")
@body(ThawSchema)
def thaw(carton_id, data):
    """Move a carton from frozen to thawed (never back); optionally into a fridge."""
    return _carton(custody.thaw(get_session(), g.actor, now(), carton_id, **data))


@api.post("/cartons/<id:carton_id>/repack")
@body(RepackSchema)
def repack(carton_id, data):
    """Split a carton into cartons of N vials each; returns the new cartons."""
    parts = [(p["vials"], p["storage_unit"]) for p in data["cartons"]]
    children = custody.repack(get_session(), g.actor, now(), carton_id, parts)
    at = now()
    parent = stock.get_carton(get_session(), g.actor, carton_id)
    return created(
        {"parent": carton_json(parent, at), "cartons": [carton_json(c, at) for c in children]}
    )


@api.post("/cartons/<id:carton_id>/administer")
@body(DosesSchema)
def administer(carton_id, data):
    """Record doses administered from a carton."""
    return _carton(custody.administer(get_session(), g.actor, now(), carton_id, data["doses"]))


@api.post("/cartons/<id:carton_id>/waste")
@body(WasteSchema)
def waste(carton_id, data):
    """Record doses wasted, with a reason."""
    return _carton(
        custody.waste(
            get_session(), g.actor, now(), carton_id, data["doses"], data["reason"], data["note"]
        )
    )


@api.post("/cartons/<id:carton_id>/hold")
@body(ReasonSchema)
def hold(carton_id, data):
    """Put a carton on hold (quarantine: DO NOT USE)."""
    return _carton(custody.hold(get_session(), g.actor, now(), carton_id, data["reason"]))


@api.post("/cartons/<id:carton_id>/release")
@body(ReasonSchema)
def release(carton_id, data):
    """Release a held carton (pharmacist), with a reason."""
    return _carton(custody.release(get_session(), g.actor, now(), carton_id, data["reason"]))


@api.post("/cartons/<id:carton_id>/discard")
@body(ReasonSchema)
def discard(carton_id, data):
    """Discard a carton (pharmacist), with a reason: its doses leave the chain as discarded."""
    return _carton(custody.discard(get_session(), g.actor, now(), carton_id, data["reason"]))
