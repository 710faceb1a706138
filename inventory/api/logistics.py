"""Lots (recall, trace), stock requests, shipments, stock views."""

from __future__ import annotations

from flask import g

from inventory.api import api, body, responses
from inventory.api.contract import Reply, operation
from inventory.api.schemas import (
    ApproveSchema,
    LotQuery,
    ReasonSchema,
    ShipmentQuery,
    ShipmentReceiveSchema,
    ShipmentSchema,
    StockQuery,
    StockRequestQuery,
    StockRequestSchema,
)
from inventory.presentation import (
    carton_json,
    iso,
    next_page_headers,
    page_of,
    request_json,
    shipment_json,
)
from inventory.services import lots, shipments, stock
from inventory.web_db import get_session, now


def lot_json(lot) -> dict:
    return {
        "id": lot.id,
        "product": lot.product.code,
        "number": lot.number,
        "expiry": iso(lot.expiry),
        "manufactured_on": iso(lot.manufactured_on),
        "recalled_at": iso(lot.recalled_at),
        "recall_reason": lot.recall_reason,
    }


@api.get("/lots")
@operation(responses.Lot, many=True, query=LotQuery)
def list_lots(args):
    """Find lots by product and number."""
    found = lots.find_lots(
        get_session(), product=args.get("product"), number=args.get("number"), page=page_of(args)
    )
    return Reply([lot_json(lot) for lot in found], headers=next_page_headers(found))


@api.post("/lots/<id:lot_id>/recall")
@operation(responses.Recalled, conflicts=("already_recalled",))
@body(ReasonSchema)
def recall(lot_id, data):
    """Recall a lot: hold every unit descended from it, everywhere, in transit included."""
    result = lots.recall(get_session(), g.actor, now(), lot_id, data["reason"])
    return {**lot_json(result["lot"]), "cartons_held": result["cartons_held"]}


@api.get("/lots/<id:lot_id>/trace")
@operation(responses.Trace)
def trace(lot_id):
    """Every unit of a lot, where it is, its state, and the doses administered where."""
    result = lots.trace(get_session(), g.actor, lot_id)
    at = now()
    return {
        "lot": lot_json(result["lot"]),
        "doses_received": result["doses_received"],
        "doses_on_hand": result["doses_on_hand"],
        "doses_in_transit": result["doses_in_transit"],
        "administered_by_site": result["administered_by_site"],
        "wasted_by_site": result["wasted_by_site"],
        "discarded_by_site": result["discarded_by_site"],
        "cartons": [carton_json(c, at) for c in result["cartons"]],
    }


@api.get("/stock-requests")
@operation(responses.StockRequest, many=True, query=StockRequestQuery)
def list_requests(args):
    """Stock requests; filter by site and status."""
    found = shipments.list_requests(
        get_session(), g.actor, site=args.get("site"), status=args.get("status"), page=page_of(args)
    )
    return Reply([request_json(r) for r in found], headers=next_page_headers(found))


@api.post("/stock-requests")
@operation(responses.StockRequest, status=201)
@body(StockRequestSchema)
def create_request(data):
    """Request doses of a product for a date at one's own site."""
    return request_json(shipments.create_request(get_session(), g.actor, now(), **data))


@api.get("/stock-requests/<id:request_id>")
@operation(responses.StockRequest)
def get_request(request_id):
    """One stock request."""
    return request_json(shipments.get_request(get_session(), g.actor, request_id))


@api.post("/stock-requests/<id:request_id>/approve")
@operation(responses.StockRequest)
@body(ApproveSchema)
def approve_request(request_id, data):
    """Approve a request, possibly for fewer doses."""
    return request_json(
        shipments.approve_request(get_session(), g.actor, now(), request_id, data["doses"])
    )


@api.post("/stock-requests/<id:request_id>/reject")
@operation(responses.StockRequest)
@body(ReasonSchema)
def reject_request(request_id, data):
    """Reject a request with a reason."""
    return request_json(
        shipments.reject_request(get_session(), g.actor, now(), request_id, data["reason"])
    )


@api.get("/shipments")
@operation(responses.Shipment, many=True, query=ShipmentQuery)
def list_shipments(args):
    """Shipments from or to a site."""
    found = shipments.list_shipments(
        get_session(), g.actor, site=args.get("site"), status=args.get("status"), page=page_of(args)
    )
    return Reply([shipment_json(s) for s in found], headers=next_page_headers(found))


@api.post("/shipments")
@operation(
    responses.Shipment,
    status=201,
    conflicts=("held", "in_transit", "picked", "wrong_site", "no_storage_at_destination"),
)
@body(ShipmentSchema)
def create_shipment(data):
    """Pick cartons for a shipment (a draft until dispatched); a carton the destination has
    nowhere to keep in its state is refused here."""
    return shipment_json(shipments.draft_shipment(get_session(), g.actor, now(), **data))


@api.get("/shipments/<id:shipment_id>")
@operation(responses.Shipment)
def get_shipment(shipment_id):
    """One shipment with its proof of delivery."""
    return shipment_json(shipments.get_shipment(get_session(), g.actor, shipment_id))


@api.post("/shipments/<id:shipment_id>/cancel")
@operation(responses.Cancelled, conflicts=("shipment_dispatched", "shipment_received"))
def cancel_shipment(shipment_id):
    """Cancel a draft shipment: its cartons are available to pick again (audited)."""
    released = shipments.cancel(get_session(), g.actor, now(), shipment_id)
    return {"id": shipment_id, "status": "cancelled", "cartons_released": released}


@api.delete("/shipments/<id:shipment_id>")
@operation(responses.Cancelled, conflicts=("shipment_dispatched", "shipment_received"))
def delete_shipment(shipment_id):
    """Cancel a draft shipment, as POST .../cancel does."""
    return cancel_shipment(shipment_id)


@api.post("/shipments/<id:shipment_id>/dispatch")
@operation(responses.Shipment, conflicts=("shipment_closed", "held", "bud_passed"))
def dispatch(shipment_id):
    """Dispatch: the stock leaves the sender's count and is in transit."""
    return shipment_json(shipments.dispatch(get_session(), g.actor, now(), shipment_id))


@api.post("/shipments/<id:shipment_id>/receive")
@operation(responses.Shipment, conflicts=("shipment_closed", "wrong_storage"))
@body(ShipmentReceiveSchema)
def receive_shipment(shipment_id, data):
    """Receive at the destination with proof of delivery, carton by carton."""
    items = [shipments.DeliveryItem(**item) for item in data["items"]]
    shipment = shipments.receive(
        get_session(), g.actor, now(), shipment_id, storage_unit=data["storage_unit"], items=items
    )
    return shipment_json(shipment)


@api.get("/stock")
@operation((responses.Stock, responses.RegionStock), query=StockQuery)
def stock_view(args):
    """Doses on hand per product and state at a site, with in-transit both ways; or, with
    `region`, at every site of the region the caller sees."""
    if args.get("region"):
        found = stock.stock_in_region(get_session(), g.actor, args["region"])
        sites = [{"site": r["site"].code, "lines": r["lines"]} for r in found]
        payload = {"region": args["region"], "at": now(), "sites": sites}
        return Reply(payload, schema=responses.RegionStock)
    result = stock.stock_on_hand(get_session(), g.actor, args["site"])
    return {"site": result["site"], "at": now(), "lines": result["lines"]}
