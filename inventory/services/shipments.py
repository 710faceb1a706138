"""Stock requests and shipments with proof of delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.db.models import Carton, Shipment, ShipmentItem, Site, StockRequest
from inventory.db.planning import PlanShipment
from inventory.domain.custody import CartonStatus, require_usable, status_after_change
from inventory.domain.errors import Conflict, InvalidInput, NotFound
from inventory.domain.stability import State
from inventory.services.access import Actor, require
from inventory.services.common import (
    audit,
    carton_for_update,
    product_by_code,
    record,
    site_by_code,
    storage_unit_by_code,
)
from inventory.services.custody import (
    check_unit_holds_state,
    place_hold,
    profile_of,
)
from inventory.services.paging import FIRST_PAGE, Page, PageRequest, asc, desc, paged

# ---------------------------------------------------------------- stock requests


def create_request(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    site: str,
    product: str,
    doses: int,
    needed_on: date,
    note: str | None = None,
) -> StockRequest:
    at = site_by_code(session, site)
    require(actor, "request.create", at)
    if needed_on < now.date():
        raise InvalidInput("the date has passed", fields={"needed_on": ["must be today or later"]})
    request = StockRequest(
        site=at,
        product=product_by_code(session, product),
        doses=doses,
        needed_on=needed_on,
        status="open",
        note=note,
        created_at=now,
        created_by=actor.label,
    )
    session.add(request)
    session.flush()
    audit(
        session,
        actor,
        now,
        "stock_request.create",
        "stock_request",
        request.id,
        after={
            "site": site,
            "product": product,
            "doses": doses,
            "needed_on": needed_on.isoformat(),
        },
    )
    return request


def get_request(
    session: Session, actor: Actor, request_id: int, *, for_update: bool = False
) -> StockRequest:
    query = select(StockRequest).where(StockRequest.id == request_id)
    request = session.scalar(query.with_for_update() if for_update else query)
    if request is None or not actor.sees(request.site):
        raise NotFound(f"no stock request {request_id}")
    return request


def approve_request(
    session: Session, actor: Actor, now: datetime, request_id: int, doses: int | None
) -> StockRequest:
    request = get_request(session, actor, request_id, for_update=True)
    require(actor, "request.decide")
    if request.status != "open":
        raise Conflict(
            f"stock request {request.id} is {request.status}", code=f"request_{request.status}"
        )
    doses = request.doses if doses is None else doses
    if doses > request.doses:
        raise InvalidInput(
            "approve at most what was requested", fields={"doses": [f"at most {request.doses}"]}
        )
    before = {"status": request.status}
    request.status, request.approved_doses = "approved", doses
    request.decided_at, request.decided_by = now, actor.label
    audit(
        session,
        actor,
        now,
        "stock_request.approve",
        "stock_request",
        request.id,
        before=before,
        after={"status": "approved", "approved_doses": doses},
    )
    return request


def reject_request(
    session: Session, actor: Actor, now: datetime, request_id: int, reason: str
) -> StockRequest:
    request = get_request(session, actor, request_id, for_update=True)
    require(actor, "request.decide")
    if request.status not in ("open", "approved"):
        raise Conflict(
            f"stock request {request.id} is {request.status}", code=f"request_{request.status}"
        )
    before = {"status": request.status}
    request.status, request.reason = "rejected", reason
    request.decided_at, request.decided_by = now, actor.label
    audit(
        session,
        actor,
        now,
        "stock_request.reject",
        "stock_request",
        request.id,
        before=before,
        after={"status": "rejected", "reason": reason},
    )
    return request


def list_requests(
    session: Session,
    actor: Actor,
    *,
    site: str | None = None,
    status: str | None = None,
    page: PageRequest = FIRST_PAGE,
) -> Page[StockRequest]:
    query = select(StockRequest).where(actor.sees_site_id(StockRequest.site_id))
    if site:
        query = query.where(StockRequest.site_id == site_by_code(session, site).id)
    if status:
        query = query.where(StockRequest.status == status)
    return paged(session, query, (asc(StockRequest.needed_on), asc(StockRequest.id)), page)


# ---------------------------------------------------------------- shipments


def get_shipment(
    session: Session, actor: Actor, shipment_id: int, *, for_update: bool = False
) -> Shipment:
    query = select(Shipment).where(Shipment.id == shipment_id)
    shipment = session.scalar(query.with_for_update() if for_update else query)
    if shipment is None or not (actor.sees(shipment.from_site) or actor.sees(shipment.to_site)):
        raise NotFound(f"no shipment {shipment_id}")
    return shipment


def create_shipment(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    from_site: str,
    to_site: str,
    cartons: list[int],
    request: int | None = None,
    expected: list | None = None,
    note: str | None = None,
    cool_box: str | None = None,
) -> Shipment:
    """Pick cartons for a shipment (a draft until dispatched). A shipment from the supplier
    may carry no cartons: it is SSI's advance notice, closed by a receipt."""
    sender, receiver = (
        site_by_code(session, from_site, field="from_site"),
        site_by_code(session, to_site, field="to_site"),
    )
    if sender.id == receiver.id:
        raise InvalidInput(
            "a shipment goes to another site", fields={"to_site": ["same as from_site"]}
        )
    require(actor, "ship", sender)
    if not cartons and sender.kind != "supplier":
        raise InvalidInput("pick at least one carton", fields={"cartons": ["empty"]})
    if len(set(cartons)) != len(cartons):
        raise InvalidInput("a carton is listed twice", fields={"cartons": ["duplicates"]})
    stock_request = (
        _request_to_serve(session, actor, request, receiver) if request is not None else None
    )
    box = _cool_box(session, cool_box) if cool_box else None
    shipment = Shipment(
        from_site=sender,
        to_site=receiver,
        request=stock_request,
        status="draft",
        created_at=now,
        created_by=actor.label,
        expected=expected,
        note=note,
        cool_box=box,
    )
    session.add(shipment)
    session.flush()
    for carton_id in sorted(cartons):  # a fixed lock order: two pickers cannot deadlock
        carton = carton_for_update(session, carton_id)
        if not actor.sees(carton.site):
            raise NotFound(f"no carton {carton_id}")
        if carton.site_id != sender.id:
            raise Conflict(f"carton {carton_id} is not at {sender.code}", code="wrong_site")
        require_usable(carton, carton.lot.expiry, now)
        carton.shipment_id = shipment.id
        session.add(ShipmentItem(shipment=shipment, carton=carton, doses=carton.doses))
    if stock_request is not None and stock_request.status == "open":
        stock_request.status, stock_request.approved_doses = "approved", stock_request.doses
        stock_request.decided_at, stock_request.decided_by = now, actor.label
    return shipment


def _request_to_serve(session: Session, actor: Actor, request: int, receiver: Site) -> StockRequest:
    stock_request = get_request(session, actor, request, for_update=True)
    if stock_request.site_id != receiver.id:
        raise InvalidInput("the request is for another site", fields={"request": ["another site"]})
    if stock_request.status not in ("open", "approved"):
        raise Conflict(
            f"stock request {request} is {stock_request.status}",
            code=f"request_{stock_request.status}",
        )
    return stock_request


def _cool_box(session: Session, code: str):
    box = storage_unit_by_code(session, code, field="cool_box")
    if box.kind != "cool_box":
        raise InvalidInput("not a cool box", fields={"cool_box": [f"{box.code} is a {box.kind}"]})
    return box


def draft_shipment(session: Session, actor: Actor, now: datetime, **fields) -> Shipment:
    """A shipment picked by hand: as create_shipment, and refused when picked, not when it
    arrives, if the destination has nowhere to keep a carton in the state it is in (an
    ultra-frozen tray goes to a site with a freezer). A plan's drafts are not held to this:
    their frozen cartons are thawed by the plan's thaw tasks before they leave."""
    shipment = create_shipment(session, actor, now, **fields)
    for item in shipment.items:
        _require_storage_at(shipment.to_site, item.carton)
    return shipment


def _require_storage_at(receiver: Site, carton: Carton) -> None:
    profile, state = profile_of(carton.product), State(carton.state)
    for unit in receiver.storage_units:
        if unit.kind == "cool_box":
            continue
        try:
            check_unit_holds_state(profile, unit, state)
            return
        except InvalidInput:
            continue
    raise Conflict(
        f"{receiver.code} has no storage unit for {state.value} {carton.product.code} "
        f"(carton {carton.id})",
        code="no_storage_at_destination",
    )


def cancel(session: Session, actor: Actor, now: datetime, shipment_id: int) -> list[int]:
    """Cancel a draft shipment (a dispatched one is on the road): as a plan's withdrawal does,
    its cartons are free to be picked again and the draft goes, audited. Returns the cartons
    released."""
    shipment = get_shipment(session, actor, shipment_id, for_update=True)
    require(actor, "ship", shipment.from_site)
    return withdraw_draft_shipment(session, actor, now, shipment, "shipment.cancel")


def withdraw_draft_shipment(
    session: Session,
    actor: Actor,
    now: datetime,
    shipment: Shipment,
    action: str = "shipment.withdraw",
) -> list[int]:
    """Un-pick a draft shipment: its cartons stay where they are, free again, the draft is
    deleted (and unlinked from any plan that proposed it), audited as `action`. Returns the
    cartons released."""
    if shipment.status != "draft":
        raise Conflict(
            f"shipment {shipment.id} is {shipment.status}", code=f"shipment_{shipment.status}"
        )
    released = []
    for item in sorted(shipment.items, key=lambda i: i.carton_id):
        carton = carton_for_update(session, item.carton_id)
        if carton.shipment_id == shipment.id:
            carton.shipment_id = None
        released.append(carton.id)
    session.flush()
    for link in session.scalars(
        select(PlanShipment).where(PlanShipment.shipment_id == shipment.id)
    ):
        link.shipment_id, link.withdrawn_at = None, now
    session.delete(shipment)  # its items go with it
    session.flush()
    audit(
        session,
        actor,
        now,
        action,
        "shipment",
        shipment.id,
        before={"status": "draft", "to_site": shipment.to_site.code, "cartons": released},
        after=None,
    )
    return released


def dispatch(session: Session, actor: Actor, now: datetime, shipment_id: int) -> Shipment:
    """Stock leaves the sender's count and is in transit."""
    shipment = get_shipment(session, actor, shipment_id, for_update=True)
    require(actor, "ship", shipment.from_site)
    if shipment.status != "draft":
        raise Conflict(
            f"shipment {shipment.id} is {shipment.status}", code=f"shipment_{shipment.status}"
        )
    for item in shipment.items:
        carton = carton_for_update(session, item.carton_id)
        if carton.status == CartonStatus.HELD:
            raise Conflict(f"carton {carton.id} went on hold after it was picked", code="held")
        _require_usable_for_transit(carton, now)
        from_unit = carton.storage_unit_id
        # in transit the cartons follow their cool box's logger, when they travel in one
        carton.in_transit, carton.storage_unit_id = True, shipment.cool_box_id
        carton.status = status_after_change(carton, now)
        item.doses = carton.doses
        record(
            session,
            actor,
            now,
            "dispatch",
            carton,
            doses=carton.doses,
            from_site_id=shipment.from_site_id,
            to_site_id=shipment.to_site_id,
            from_storage_unit_id=from_unit,
            details={"shipment": shipment.id},
        )
    shipment.status, shipment.dispatched_at, shipment.dispatched_by = "dispatched", now, actor.label
    if shipment.request is not None:
        shipment.request.status = "fulfilled"
    return shipment


def _require_usable_for_transit(carton: Carton, now: datetime) -> None:
    if now >= carton.bud:
        raise Conflict(f"carton {carton.id} passed its beyond-use date", code="bud_passed")


@dataclass(frozen=True)
class DeliveryItem:
    carton: int
    accepted: bool
    reason: str | None = None


def _require_every_carton_once(on_board: dict, items: list[DeliveryItem]) -> None:
    listed = [i.carton for i in items]
    errors = {}
    for index, item in enumerate(items):
        if item.carton not in on_board:
            errors[f"items.{index}.carton"] = ["not on this shipment"]
        if not item.accepted and not (item.reason or "").strip():
            errors[f"items.{index}.reason"] = ["a rejected carton needs a reason"]
    if len(set(listed)) != len(listed):
        errors["items"] = ["a carton is listed twice"]
    missing = sorted(set(on_board) - set(listed))
    if missing:
        errors.setdefault("items", []).append(f"cartons not accounted for: {missing}")
    if errors:
        raise InvalidInput(
            "the proof of delivery must account for every carton once", fields=errors
        )


def receive(
    session: Session,
    actor: Actor,
    now: datetime,
    shipment_id: int,
    *,
    storage_unit: str,
    items: list[DeliveryItem],
) -> Shipment:
    """Proof of delivery: each carton accepted or rejected with a reason. Rejected stock is
    held at the receiving site, never silently dropped."""
    shipment = get_shipment(session, actor, shipment_id, for_update=True)
    require(actor, "receive_shipment", shipment.to_site)
    if shipment.status != "dispatched":
        raise Conflict(
            f"shipment {shipment.id} is {shipment.status}", code=f"shipment_{shipment.status}"
        )
    unit = storage_unit_by_code(session, storage_unit)
    if unit.site_id != shipment.to_site_id:
        raise InvalidInput(
            "receive into a unit at the destination",
            fields={"storage_unit": ["not at the destination"]},
        )
    on_board = {item.carton_id: item for item in shipment.items}
    _require_every_carton_once(on_board, items)
    for item in sorted(items, key=lambda i: i.carton):
        carton = carton_for_update(session, item.carton)
        line = on_board[item.carton]
        line.accepted, line.reason = item.accepted, item.reason
        carton.site_id, carton.storage_unit = shipment.to_site_id, unit
        carton.in_transit, carton.shipment_id = False, None
        if item.accepted:
            check_unit_holds_state(profile_of(carton.product), unit, State(carton.state))
        record(
            session,
            actor,
            now,
            "receive_shipment",
            carton,
            doses=carton.doses,
            from_site_id=shipment.from_site_id,
            to_site_id=shipment.to_site_id,
            to_storage_unit_id=unit.id,
            reason=item.reason,
            details={"shipment": shipment.id, "accepted": item.accepted},
        )
        if not item.accepted:
            place_hold(
                session, actor, now, carton, f"rejected at delivery: {item.reason}", kind="delivery"
            )
        carton.status = status_after_change(carton, now)
    shipment.status, shipment.received_at, shipment.received_by = "received", now, actor.label
    shipment.receiving_storage_unit_id = unit.id
    return shipment


def list_shipments(
    session: Session,
    actor: Actor,
    *,
    site: str | None = None,
    status: str | None = None,
    page: PageRequest = FIRST_PAGE,
) -> Page[Shipment]:
    """Newest first, those from or to a site the actor sees."""
    query = select(Shipment).where(
        actor.sees_site_id(Shipment.from_site_id) | actor.sees_site_id(Shipment.to_site_id)
    )
    if site:
        at = site_by_code(session, site)
        query = query.where((Shipment.from_site_id == at.id) | (Shipment.to_site_id == at.id))
    if status:
        query = query.where(Shipment.status == status)
    return paged(session, query, (desc(Shipment.id),), page)


def cancel_draft(session: Session, actor: Actor, now: datetime, shipment_id: int) -> list[int]:
    """Cancel a shipment that has not left (the staff pages' name for `cancel`)."""
    return cancel(session, actor, now, shipment_id)
