"""Custody of cartons: receive, thaw, repack, administer, waste, hold, release, discard.

Every quantity change is written to the custody ledger in the same transaction as the
carton row, so doses on hand always equal the sum of the ledger's changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.db.models import Carton, Hold, Lot, Product, Shipment, StorageUnit
from inventory.domain import custody as rules
from inventory.domain import gs1, stability
from inventory.domain.custody import WASTE_REASONS, CartonStatus, status_after_change

# the carton's rules, for the services and views that handle stored cartons
from inventory.domain.custody import days_left as days_left
from inventory.domain.custody import expire_if_due as expire_if_due
from inventory.domain.custody import unopened_vials as unopened_vials
from inventory.domain.errors import Conflict, InvalidInput
from inventory.domain.stability import (
    FROZEN_STATES,
    State,
    StorageProfile,
    UnitClock,
    beyond_use_date,
    expiry_end,
)
from inventory.services import uptake
from inventory.services.access import Actor, require
from inventory.services.common import (
    audit,
    carton_for_update,
    product_by_code,
    product_by_gtin,
    record,
    storage_unit_by_code,
)

# ---------------------------------------------------------------- stability clock


@lru_cache(maxsize=256)
def _profile_from_json(profile_json: str) -> StorageProfile:
    return StorageProfile.from_dict(json.loads(profile_json))


def profile_of(product: Product) -> StorageProfile:
    return _profile_from_json(json.dumps(product.storage_profile, sort_keys=True))


def clock_of(carton: Carton) -> UnitClock:
    return UnitClock(
        state=State(carton.state if carton.state != State.PUNCTURED else State.THAWED),
        expiry=carton.lot.expiry,
        thawed_at=carton.thawed_at,
        frozen_since=carton.frozen_since,
        manufactured_on=carton.lot.manufactured_on,
        room_temp_hours=carton.room_temp_hours,
        room_temp_exhausted_at=carton.room_temp_exhausted_at,
    )


def set_clock(carton: Carton, clock: UnitClock, profile: StorageProfile) -> None:
    """Write a unit clock onto the carton and recompute its beyond-use date.
    The carton's BUD is that of its unopened vials; an open vial has its own (open_vial_bud)."""
    carton.thawed_at = clock.thawed_at
    carton.frozen_since = clock.frozen_since
    carton.room_temp_hours = clock.room_temp_hours
    carton.room_temp_exhausted_at = clock.room_temp_exhausted_at
    if carton.state != State.PUNCTURED or clock.state != State.THAWED:
        carton.state = clock.state.value
    carton.bud = beyond_use_date(profile, clock)


def open_vial_bud(carton: Carton) -> datetime | None:
    if not carton.open_vial_doses:  # no open vial: no need of the product's profile
        return None
    return rules.open_vial_bud(carton, profile_of(carton.product).in_use_hours)


def open_vial_bud_with(carton: Any, storage_profile: dict | None) -> datetime | None:
    """`open_vial_bud` of a carton read as values, with its product's storage profile (which
    only a carton with an open vial needs)."""
    if not carton.open_vial_doses:
        return None
    profile = _profile_from_json(json.dumps(storage_profile, sort_keys=True))
    return rules.open_vial_bud(carton, profile.in_use_hours)


# ---------------------------------------------------------------- receipt


@dataclass(frozen=True)
class ReceiptInput:
    storage_unit: str
    vials: int
    state: str | None  # None: the state the storage unit keeps the product in
    product: str | None = None
    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    scan: str | None = None
    serial: str | None = None
    manufactured_on: date | None = None
    thawed_at: datetime | None = None
    shipment: int | None = None


def receive(session: Session, actor: Actor, now: datetime, data: ReceiptInput) -> Carton:
    """Receive vials of a lot into a storage unit, from typed fields or a scanner string.
    Scanned data fills what it has; it never blanks a field it lacks."""
    unit = storage_unit_by_code(session, data.storage_unit)
    site = unit.site
    _check_receiver(actor, site)
    given = _receipt_fields(data, now)
    product = _product_received(session, data, given)
    lot = _lot_received(session, product, given, now)
    profile = profile_of(product)
    state = _parse_state(data.state) if data.state else _state_kept_in(profile, unit)
    check_unit_holds_state(profile, unit, state)
    if data.thawed_at is not None and data.thawed_at > now:
        raise InvalidInput(
            "a thaw cannot have started in the future", fields={"thawed_at": ["in the future"]}
        )
    clock = UnitClock(
        state=state,
        expiry=lot.expiry,
        thawed_at=(data.thawed_at or now)
        if state == State.THAWED and _has_frozen_states(profile)
        else None,
        frozen_since=now if state == State.FROZEN else None,
        manufactured_on=lot.manufactured_on,
    )
    doses = data.vials * product.doses_per_vial
    carton = Carton(
        lot=lot,
        product=product,
        site=site,
        storage_unit=unit,
        state=state.value,
        status=CartonStatus.AVAILABLE,
        vials=data.vials,
        doses=doses,
        received_doses=doses,
        serial=given.serial,
        room_temp_hours=0.0,
        open_vial_doses=0,
        exposure_s=0.0,
        created_at=now,
        in_transit=False,
        bud=expiry_end(lot.expiry),
    )
    set_clock(carton, clock, profile)
    session.add(carton)
    session.flush()
    if now >= carton.bud:
        raise Conflict(
            f"the stock is already past its beyond-use date {carton.bud:%Y-%m-%d %H:%M}Z",
            code="bud_passed",
        )
    details: dict[str, object] = {
        "gtin": given.gtin,
        "serial": given.serial,
        "scan": bool(data.scan),
    }
    if data.shipment is not None:
        details["shipment"] = _close_supplier_shipment(session, actor, now, data.shipment, site)
    record(
        session,
        actor,
        now,
        "receive",
        carton,
        doses=doses,
        change=doses,
        to_site_id=site.id,
        to_storage_unit_id=unit.id,
        details=details,
    )
    if lot.recalled_at is not None:
        # the stock is here and must be accounted for, but it is never usable
        place_hold(session, actor, now, carton, f"recall: {lot.recall_reason}", kind="recall")
    return carton


def _check_receiver(actor: Actor, site) -> None:
    require(actor, "receive", site)
    if actor.role == "centre_manager" and not (
        site.supplied_by and site.supplied_by.kind == "supplier"
    ):
        raise InvalidInput(
            "this site is supplied by a hospital pharmacy: receive its stock as a shipment",
            code="not_supplied_by_ssi",
            fields={"storage_unit": ["site does not receive from SSI"]},
        )


@dataclass(frozen=True)
class _ReceiptFields:
    gtin: str | None
    lot: str | None
    expiry: date | None
    serial: str | None
    manufactured_on: date | None


def _receipt_fields(data: ReceiptInput, now: datetime) -> _ReceiptFields:
    """The typed fields, with what a scan carries in place of them."""
    typed = _ReceiptFields(data.gtin, data.lot, data.expiry, data.serial, data.manufactured_on)
    if data.scan is None:
        return typed
    scanned = gs1.parse(data.scan, today=now.date())
    return _ReceiptFields(
        scanned.gtin or typed.gtin,
        scanned.lot or typed.lot,
        scanned.expiry or typed.expiry,
        scanned.serial or typed.serial,
        scanned.production_date or typed.manufactured_on,
    )


def _product_received(session: Session, data: ReceiptInput, fields: _ReceiptFields) -> Product:
    gtin = fields.gtin
    if data.product:
        product = product_by_code(session, data.product)
        if gtin and gtin not in {g.gtin for g in product.gtins}:
            raise InvalidInput(
                f"GTIN {gtin} is not a GTIN of {product.code}",
                code="gtin_mismatch",
                fields={"gtin": ["does not belong to the product"]},
            )
        return product
    if gtin:
        return product_by_gtin(session, gtin, field="scan" if data.scan else "gtin")
    raise InvalidInput(
        "say which product", fields={"product": ["product, gtin or scan is required"]}
    )


def _lot_received(session: Session, product: Product, fields: _ReceiptFields, now: datetime) -> Lot:
    """The lot as recorded (a new lot is recorded now); its expiry must agree and not have
    passed."""
    lot_number, expiry = fields.lot, fields.expiry
    if not lot_number:
        raise InvalidInput("lot number missing", fields={"lot": ["required (not in the scan)"]})
    lot = session.scalar(select(Lot).where(Lot.product_id == product.id, Lot.number == lot_number))
    if lot is None:
        if expiry is None:
            raise InvalidInput(
                "expiry missing for a lot seen for the first time",
                fields={"expiry": ["required: the lot is new and the scan carries no expiry"]},
            )
        lot = Lot(
            product=product,
            number=lot_number,
            expiry=expiry,
            manufactured_on=fields.manufactured_on,
        )
        session.add(lot)
    else:
        if expiry is not None and expiry != lot.expiry:
            raise Conflict(
                f"lot {lot_number} is recorded with expiry {lot.expiry}, the receipt says {expiry}",
                code="expiry_mismatch",
            )
        if fields.manufactured_on and lot.manufactured_on is None:
            lot.manufactured_on = fields.manufactured_on
    if lot.expiry < now.date():
        raise Conflict(f"lot {lot_number} expired on {lot.expiry}", code="expired")
    return lot


def _close_supplier_shipment(
    session: Session, actor: Actor, now: datetime, shipment_id: int, site
) -> int:
    shipment = session.get(Shipment, shipment_id)
    if shipment is None or not actor.sees(shipment.to_site):
        raise InvalidInput(f"no shipment {shipment_id}", fields={"shipment": ["unknown shipment"]})
    if shipment.to_site_id != site.id or shipment.from_site.kind != "supplier":
        raise InvalidInput(
            "not a shipment from the supplier to this site",
            fields={"shipment": ["must be a supplier shipment to this site"]},
        )
    if shipment.status == "received":
        raise Conflict(f"shipment {shipment_id} is already closed", code="shipment_closed")
    shipment.status = "received"
    shipment.received_at = now
    shipment.received_by = actor.label
    return shipment.id


def _parse_state(value: str) -> State:
    try:
        return State(value)
    except ValueError:
        raise InvalidInput(
            f"unknown state {value!r}",
            fields={"state": [f"one of {', '.join(s.value for s in State)}"]},
        ) from None


def _state_kept_in(profile: StorageProfile, unit: StorageUnit) -> State:
    """The coldest state of the product whose range the unit keeps (a receipt that does not
    say: an ultra-low freezer holds ultra-frozen trays, a fridge thawed vials)."""
    for state in (State.ULTRA_FROZEN, State.FROZEN, State.THAWED):
        if profile.allows(state):
            lo, hi = profile.range_for(state)
            if lo <= unit.min_c and unit.max_c <= hi:
                return state
    raise InvalidInput(
        f"storage unit {unit.code} keeps {unit.min_c}..{unit.max_c} C, no state of the product",
        code="wrong_storage",
        fields={"storage_unit": ["its range does not suit the product"]},
    )


@dataclass(frozen=True)
class ScannedItem:
    product: Product
    lot: str | None
    expiry: date | None
    serial: str | None
    known_expiry: date | None  # the lot's recorded expiry, when the lot is known


def read_scan(session: Session, now: datetime, scan: str) -> ScannedItem:
    """What a scan names, before anything is received (the receiving screen's preview)."""
    scanned = gs1.parse(scan, today=now.date())
    if not scanned.gtin:
        raise InvalidInput("the scan has no GTIN (01)", fields={"scan": ["no GTIN (01)"]})
    product = product_by_gtin(session, scanned.gtin, field="scan")
    lot = (
        session.scalar(select(Lot).where(Lot.product_id == product.id, Lot.number == scanned.lot))
        if scanned.lot
        else None
    )
    return ScannedItem(
        product=product,
        lot=scanned.lot,
        expiry=scanned.expiry,
        serial=scanned.serial,
        known_expiry=lot.expiry if lot else None,
    )


def _has_frozen_states(profile: StorageProfile) -> bool:
    return any(profile.allows(s) for s in FROZEN_STATES)


def check_unit_holds_state(profile: StorageProfile, unit: StorageUnit, state: State) -> None:
    if not profile.allows(state):
        raise InvalidInput(
            f"the product is never {state.value}",
            code="state_not_allowed",
            fields={"state": ["not allowed for this product"]},
        )
    lo, hi = profile.range_for(state)
    if unit.max_c < lo or unit.min_c > hi:
        raise InvalidInput(
            f"storage unit {unit.code} holds {unit.min_c}..{unit.max_c} C, "
            f"{state.value} stock needs {lo}..{hi} C",
            code="wrong_storage",
            fields={"storage_unit": ["its range does not suit the state"]},
        )


# ---------------------------------------------------------------- moving through states


def thaw(
    session: Session,
    actor: Actor,
    now: datetime,
    carton_id: int,
    *,
    storage_unit: str | None = None,
    at: datetime | None = None,
) -> Carton:
    carton = carton_for_update(session, carton_id)
    require(actor, "thaw", carton.site)
    rules.require_movable(carton)
    started = at or now
    if started > now:
        raise InvalidInput("a thaw cannot start in the future", fields={"at": ["in the future"]})
    profile = profile_of(carton.product)
    clock = stability.thaw(profile, clock_of(carton), started)
    from_unit = carton.storage_unit_id
    if storage_unit:
        unit = storage_unit_by_code(session, storage_unit)
        if unit.site_id != carton.site_id:
            raise InvalidInput(
                "thaw into a unit at the same site", fields={"storage_unit": ["another site"]}
            )
        check_unit_holds_state(profile, unit, State.THAWED)
        carton.storage_unit = unit
    elif carton.storage_unit is not None:
        try:
            check_unit_holds_state(profile, carton.storage_unit, State.THAWED)
        except InvalidInput:
            raise InvalidInput(
                f"{carton.storage_unit.code} cannot hold thawed stock: "
                "name the fridge it thaws into",
                code="wrong_storage",
                fields={"storage_unit": ["required: a unit for thawed stock"]},
            ) from None
    set_clock(carton, clock, profile)
    carton.status = status_after_change(carton, now)
    record(
        session,
        actor,
        now,
        "thaw",
        carton,
        doses=carton.doses,
        from_storage_unit_id=from_unit,
        to_storage_unit_id=carton.storage_unit_id,
        details={"thawed_at": started.isoformat()},
    )
    return carton


def repack(
    session: Session, actor: Actor, now: datetime, carton_id: int, parts: list[tuple[int, str]]
) -> list[Carton]:
    """Split a carton into cartons of N vials each. Children keep lot and expiry, inherit
    the parent's clock and exposure, and get their beyond-use date recomputed."""
    parent = carton_for_update(session, carton_id)
    require(actor, "repack", parent.site)
    rules.require_usable(parent, parent.lot.expiry, now)
    if parent.open_vial_doses:
        raise Conflict("a carton with an open vial cannot be repacked", code="open_vial")
    if not parts:
        raise InvalidInput("nothing to repack", fields={"cartons": ["at least one carton"]})
    total = sum(v for v, _ in parts)
    if total > parent.vials:
        raise Conflict(
            f"carton {parent.id} has {parent.vials} vials, the repack asks for {total}",
            code="insufficient_vials",
        )
    profile = profile_of(parent.product)
    clock = clock_of(parent)
    children = []
    for index, (vials, unit_code) in enumerate(parts):
        unit = storage_unit_by_code(session, unit_code, field=f"cartons.{index}.storage_unit")
        if unit.site_id != parent.site_id:
            raise InvalidInput(
                "repack into units at the same site",
                fields={f"cartons.{index}.storage_unit": ["another site"]},
            )
        check_unit_holds_state(profile, unit, State(parent.state))
        doses = vials * parent.product.doses_per_vial
        child = Carton(
            lot=parent.lot,
            product=parent.product,
            parent=parent,
            site=parent.site,
            storage_unit=unit,
            state=parent.state,
            status=CartonStatus.AVAILABLE,
            vials=vials,
            doses=doses,
            received_doses=doses,
            open_vial_doses=0,
            exposure_s=parent.exposure_s,
            exposure_min_c=parent.exposure_min_c,
            exposure_max_c=parent.exposure_max_c,
            created_at=now,
            in_transit=False,
            bud=parent.bud,
        )
        set_clock(child, clock, profile)
        session.add(child)
        session.flush()
        parent.vials -= vials
        parent.doses -= doses
        record(
            session,
            actor,
            now,
            "repack_out",
            parent,
            doses=doses,
            change=-doses,
            from_storage_unit_id=parent.storage_unit_id,
            to_storage_unit_id=unit.id,
            details={"child": child.id},
        )
        record(
            session,
            actor,
            now,
            "repack_in",
            child,
            doses=doses,
            change=doses,
            from_storage_unit_id=parent.storage_unit_id,
            to_storage_unit_id=unit.id,
            details={"parent": parent.id},
        )
        children.append(child)
    parent.status = status_after_change(parent, now)
    return children


def _take_doses(carton: Carton, doses: int, now: datetime, *, for_administering: bool) -> dict:
    return rules.take_doses(
        carton,
        doses,
        now,
        doses_per_vial=carton.product.doses_per_vial,
        in_use_hours=profile_of(carton.product).in_use_hours,
        for_administering=for_administering,
    )


def administer(
    session: Session,
    actor: Actor,
    now: datetime,
    carton_id: int,
    doses: int,
    group: str | None = None,
) -> Carton:
    """Doses given from a carton; each administration counts for uptake under the person's
    target group and the site's municipality."""
    carton = carton_for_update(session, carton_id)
    require(actor, "administer", carton.site)
    counted_as = uptake.group_for(carton.site, group)
    rules.require_administrable(carton, carton.lot.expiry, now)
    details = _take_doses(carton, doses, now, for_administering=True)
    carton.status = status_after_change(carton, now)
    event = record(
        session,
        actor,
        now,
        "administer",
        carton,
        doses=doses,
        change=-doses,
        bucket="administered",
        from_site_id=carton.site_id,
        from_storage_unit_id=carton.storage_unit_id,
        details=details,
    )
    session.flush()
    uptake.record_administration(session, event, carton, counted_as, now)
    return carton


def waste(
    session: Session,
    actor: Actor,
    now: datetime,
    carton_id: int,
    doses: int,
    reason: str,
    note: str | None = None,
) -> Carton:
    carton = carton_for_update(session, carton_id)
    require(actor, "waste", carton.site)
    if reason not in WASTE_REASONS:
        raise InvalidInput(
            f"unknown waste reason {reason!r}",
            fields={"reason": [f"one of {', '.join(WASTE_REASONS)}"]},
        )
    rules.require_wastable(carton)
    details = _take_doses(carton, doses, now, for_administering=False)
    carton.status = (
        CartonStatus.DISCARDED if carton.doses == 0 else status_after_change(carton, now)
    )
    record(
        session,
        actor,
        now,
        "waste",
        carton,
        doses=doses,
        change=-doses,
        bucket="wasted",
        from_site_id=carton.site_id,
        from_storage_unit_id=carton.storage_unit_id,
        reason=reason,
        details={**details, "note": note} if note else details,
    )
    return carton


# ---------------------------------------------------------------- holds and their decisions


def place_hold(
    session: Session,
    actor: Actor,
    now: datetime,
    carton: Carton,
    reason: str,
    *,
    kind: str = "manual",
    excursion_id: int | None = None,
) -> Hold | None:
    """Quarantine: the stock stays where it is, marked DO NOT USE, until a pharmacist decides."""
    if carton.status in rules.GONE_STATUSES:
        return None
    if excursion_id is not None and any(h.excursion_id == excursion_id for h in carton.holds):
        return None
    hold = Hold(
        carton=carton,
        reason=reason,
        kind=kind,
        excursion_id=excursion_id,
        placed_at=now,
        placed_by=actor.label,
    )
    session.add(hold)
    carton.status = CartonStatus.HELD
    record(
        session,
        actor,
        now,
        "hold",
        carton,
        doses=carton.doses,
        reason=reason,
        details={"kind": kind, "excursion": excursion_id},
    )
    return hold


def hold(session: Session, actor: Actor, now: datetime, carton_id: int, reason: str) -> Carton:
    carton = carton_for_update(session, carton_id)
    require(actor, "hold", carton.site)
    rules.require_present(carton)
    place_hold(session, actor, now, carton, reason)
    audit(session, actor, now, "hold", "carton", carton.id, after={"reason": reason})
    return carton


def _decide_holds(
    session: Session, actor: Actor, now: datetime, carton: Carton, decision: str, reason: str
) -> list[dict]:
    decided = []
    for h in carton.holds:
        if h.decision is None:
            before = {"hold": h.id, "reason": h.reason, "kind": h.kind, "excursion": h.excursion_id}
            h.decision, h.decision_reason, h.decided_at, h.decided_by = (
                decision,
                reason,
                now,
                actor.label,
            )
            audit(
                session,
                actor,
                now,
                f"hold.{decision}",
                "carton",
                carton.id,
                before=before,
                after={**before, "decision": decision, "decision_reason": reason},
            )
            decided.append(before)
    return decided


def release(session: Session, actor: Actor, now: datetime, carton_id: int, reason: str) -> Carton:
    carton = carton_for_update(session, carton_id)
    require(actor, "decide_hold", carton.site)
    rules.require_held(carton)
    decided = _decide_holds(session, actor, now, carton, "released", reason)
    carton.status = status_after_change(carton, now)
    record(
        session,
        actor,
        now,
        "release",
        carton,
        doses=carton.doses,
        reason=reason,
        details={"holds": [d["hold"] for d in decided]},
    )
    return carton


def discard(session: Session, actor: Actor, now: datetime, carton_id: int, reason: str) -> Carton:
    carton = carton_for_update(session, carton_id)
    require(actor, "decide_hold", carton.site)
    rules.require_discardable(carton)
    decided = _decide_holds(session, actor, now, carton, "discarded", reason)
    doses = rules.empty(carton)
    record(
        session,
        actor,
        now,
        "discard",
        carton,
        doses=doses,
        change=-doses,
        bucket="discarded",
        from_site_id=carton.site_id,
        from_storage_unit_id=carton.storage_unit_id,
        reason=reason,
        details={"holds": [d["hold"] for d in decided]},
    )
    return carton


@dataclass(frozen=True)
class StockMarks:
    """What a stock list flags on a carton: on hold, days to its BUD, BUD or expiry soon."""

    held: bool
    days_left: float | None
    bud_soon: bool
    expiry_soon: bool


def stock_marks(carton: Carton, now: datetime, soon_days: int) -> StockMarks:
    present = carton.status not in rules.GONE_STATUSES
    left = days_left(carton, now) if present else None
    return StockMarks(
        held=carton.status == CartonStatus.HELD,
        days_left=left,
        bud_soon=left is not None and left < min(soon_days, 2),
        expiry_soon=present and (carton.lot.expiry - now.date()).days <= soon_days,
    )
