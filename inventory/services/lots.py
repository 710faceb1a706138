"""Lots: find them, recall them, trace every dose descended from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from inventory.db.models import Carton, CustodyEvent, Lot, Product, Site
from inventory.domain.custody import GONE_STATUSES
from inventory.domain.errors import Conflict
from inventory.services.access import Actor, require
from inventory.services.common import audit, lot_by_id
from inventory.services.custody import place_hold
from inventory.services.paging import FIRST_PAGE, Page, PageRequest, asc, paged


def find_lots(
    session: Session,
    *,
    product: str | None = None,
    number: str | None = None,
    page: PageRequest = FIRST_PAGE,
) -> Page[Lot]:
    query = select(Lot).join(Product)
    if product:
        query = query.where(Product.code == product)
    if number:
        query = query.where(Lot.number == number)
    return paged(session, query, (asc(Lot.expiry), asc(Lot.id)), page)


def recall(session: Session, actor: Actor, now: datetime, lot_id: int, reason: str) -> dict:
    """Hold every unit of the lot at every site, in transit included: one call."""
    require(actor, "recall")
    lot = session.scalar(select(Lot).where(Lot.id == lot_id).with_for_update())
    if lot is None:
        lot = lot_by_id(session, lot_id)  # raises NotFound
    if lot.recalled_at is not None:
        raise Conflict(
            f"lot {lot.number} was recalled at {lot.recalled_at:%Y-%m-%d %H:%M}Z",
            code="already_recalled",
        )
    cartons = session.scalars(
        select(Carton)
        .where(Carton.lot_id == lot.id, Carton.status.not_in(GONE_STATUSES))
        .options(selectinload(Carton.holds))
        .order_by(Carton.id)
        .with_for_update()
    ).all()
    held = 0
    for carton in cartons:
        if place_hold(session, actor, now, carton, f"recall: {reason}", kind="recall") is not None:
            held += 1
    lot.recalled_at, lot.recall_reason = now, reason
    audit(
        session,
        actor,
        now,
        "lot.recall",
        "lot",
        lot.id,
        after={"reason": reason, "cartons_held": held},
    )
    return {"lot": lot, "cartons_held": held}


def trace(session: Session, actor: Actor, lot_id: int) -> dict:
    """For one lot: every unit, where it is and in what state, and the doses given where."""
    require(actor, "trace")
    lot = lot_by_id(session, lot_id)
    cartons = session.scalars(
        select(Carton)
        .where(Carton.lot_id == lot.id)
        .options(
            selectinload(Carton.holds), selectinload(Carton.site), selectinload(Carton.storage_unit)
        )
        .order_by(Carton.id)
    ).all()
    cartons = [c for c in cartons if actor.sees(c.site)]  # a regional view stays regional
    rows = session.execute(
        select(CustodyEvent.bucket, Site.code, Site.region, Site.id, func.sum(CustodyEvent.doses))
        .join(Site, Site.id == CustodyEvent.from_site_id)
        .where(CustodyEvent.lot_id == lot.id, CustodyEvent.bucket.is_not(None))
        .group_by(CustodyEvent.bucket, Site.code, Site.region, Site.id)
    ).all()
    received = session.scalar(
        select(func.coalesce(func.sum(CustodyEvent.doses), 0)).where(
            CustodyEvent.lot_id == lot.id, CustodyEvent.kind == "receive"
        )
    )
    by_bucket: dict[str, dict[str, int]] = {}
    for bucket, site_code, region, site_id, doses in rows:
        if actor.sees(Site(id=site_id, code=site_code, region=region)):
            by_bucket.setdefault(str(bucket), {})[site_code] = int(doses)
    return {
        "lot": lot,
        "cartons": cartons,
        "doses_received": int(received or 0),
        "doses_on_hand": sum(c.doses for c in cartons if not c.in_transit),
        "doses_in_transit": sum(c.doses for c in cartons if c.in_transit),
        "administered_by_site": by_bucket.get("administered", {}),
        "wasted_by_site": by_bucket.get("wasted", {}),
        "discarded_by_site": by_bucket.get("discarded", {}),
    }
