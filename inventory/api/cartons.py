"""Receipts and everything done to a carton."""

from __future__ import annotations

from flask import g
from werkzeug.wrappers import Response

from inventory.api import api, body, responses
from inventory.api.contract import Reply, operation
from inventory.api.schemas import (
    AdministerSchema,
    CartonQuery,
    ReasonSchema,
    ReceiptSchema,
    RepackSchema,
    ThawSchema,
    WasteSchema,
)
from inventory.presentation import (
    carton_detail_json,
    carton_json,
    cartons_json,
    label_html,
    next_page_headers,
    page_of,
)
from inventory.services import custody, stock
from inventory.web_db import get_session, now


def _carton(carton):
    return carton_json(carton, now())


# what a change to a carton can run into (409 codes)
CARTON_CONFLICTS = ("held", "in_transit", "bud_passed", "expired", "insufficient_doses")


@api.post("/receipts")
@operation(
    responses.Carton,
    status=201,
    conflicts=("exists", "expiry_mismatch", "gtin_mismatch", "state_not_allowed", "wrong_storage"),
)
@body(ReceiptSchema)
def receive(data):
    """Receive vials of a lot into a storage unit, from fields or a GS1 DataMatrix scan."""
    carton = custody.receive(get_session(), g.actor, now(), custody.ReceiptInput(**data))
    return carton_json(carton, now())


@api.get("/cartons")
@operation(responses.Carton, many=True, query=CartonQuery)
def list_cartons(args):
    """Stock on hand, expiring soonest first (FEFO)."""
    found = stock.list_carton_values(
        get_session(),
        g.actor,
        site=args.get("site"),
        storage_unit=args.get("storage_unit"),
        product=args.get("product"),
        status=args.get("status"),
        state=args.get("state"),
        page=page_of(args),
    )
    return Reply(cartons_json(found, now()), headers=next_page_headers(found.page))


@api.get("/cartons/<id:carton_id>")
@operation(responses.CartonDetail)
def get_carton(carton_id):
    """One carton with its history and lineage."""
    return carton_detail_json(stock.carton_detail(get_session(), g.actor, carton_id), now())


@api.get("/cartons/<id:carton_id>/label")
@operation(html=True)
def carton_label(carton_id):
    """A printable carton label (HTML)."""
    carton = stock.get_carton(get_session(), g.actor, carton_id)
    return Response(label_html(carton, now()), mimetype="text/html")


@api.post("/cartons/<id:carton_id>/thaw")
@operation(
    responses.Carton, conflicts=("already_thawed", "refreeze_not_allowed", *CARTON_CONFLICTS)
)
@body(ThawSchema)
def thaw(carton_id, data):
    """Move a carton from frozen to thawed (never back); optionally into a fridge."""
    return _carton(custody.thaw(get_session(), g.actor, now(), carton_id, **data))


@api.post("/cartons/<id:carton_id>/repack")
@operation(responses.Repacked, status=201, conflicts=("insufficient_vials", *CARTON_CONFLICTS))
@body(RepackSchema)
def repack(carton_id, data):
    """Split a carton into cartons of N vials each; returns the new cartons."""
    parts = [(p["vials"], p["storage_unit"]) for p in data["cartons"]]
    children = custody.repack(get_session(), g.actor, now(), carton_id, parts)
    at = now()
    parent = stock.get_carton(get_session(), g.actor, carton_id)
    return {"parent": carton_json(parent, at), "cartons": [carton_json(c, at) for c in children]}


@api.post("/cartons/<id:carton_id>/administer")
@operation(responses.Carton, conflicts=CARTON_CONFLICTS)
@body(AdministerSchema)
def administer(carton_id, data):
    """Record doses administered from a carton, counted for uptake under the person's target
    group (``group``; the site's default group, else ``other``, when left out)."""
    return _carton(
        custody.administer(
            get_session(), g.actor, now(), carton_id, data["doses"], group=data.get("group")
        )
    )


@api.post("/cartons/<id:carton_id>/waste")
@operation(responses.Carton, conflicts=CARTON_CONFLICTS)
@body(WasteSchema)
def waste(carton_id, data):
    """Record doses wasted, with a reason."""
    return _carton(
        custody.waste(
            get_session(), g.actor, now(), carton_id, data["doses"], data["reason"], data["note"]
        )
    )


@api.post("/cartons/<id:carton_id>/hold")
@operation(responses.Carton, conflicts=CARTON_CONFLICTS)
@body(ReasonSchema)
def hold(carton_id, data):
    """Put a carton on hold (quarantine: DO NOT USE)."""
    return _carton(custody.hold(get_session(), g.actor, now(), carton_id, data["reason"]))


@api.post("/cartons/<id:carton_id>/release")
@operation(responses.Carton, conflicts=CARTON_CONFLICTS)
@body(ReasonSchema)
def release(carton_id, data):
    """Release a held carton (pharmacist), with a reason."""
    return _carton(custody.release(get_session(), g.actor, now(), carton_id, data["reason"]))


@api.post("/cartons/<id:carton_id>/discard")
@operation(responses.Carton, conflicts=CARTON_CONFLICTS)
@body(ReasonSchema)
def discard(carton_id, data):
    """Discard a carton (pharmacist), with a reason: its doses leave the chain as discarded."""
    return _carton(custody.discard(get_session(), g.actor, now(), carton_id, data["reason"]))
