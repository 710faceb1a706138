"""The stock a vaccination site can count on, read once for capacity and for planning.

A site counts on the cartons

- on hand there: available, not travelling and not picked for a shipment;
- in transit to it;
- picked for a draft shipment to it (the carton still available at the sender). When the draft
  is a delivery of an approved plan, ``delivery_day`` says the day the plan delivers it and
  ``thaw_day`` the day its open thaw task takes it out of the freezer.

Capacity counts the drafts of approved plans only; planning counts every draft except those
of the pharmacy's own approved plans, which a new plan redoes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from inventory.db.models import Carton, Lot, Shipment
from inventory.db.planning import Plan, PlanShipment, ThawTask
from inventory.domain.custody import CartonStatus

# ids per query: stays under SQLite's limit on bound parameters
CHUNK = 500


class Whereabouts(StrEnum):
    ON_HAND = "on_hand"
    IN_TRANSIT = "in_transit"
    ON_DRAFT = "on_draft"


@dataclass(frozen=True)
class CountedCarton:
    id: int
    site_id: int  # where the doses are, or are going
    product_id: int
    lot_id: int
    state: str
    vials: int
    doses: int
    open_vial_doses: int
    bud: datetime
    expiry: date
    shipment_id: int | None
    whereabouts: Whereabouts
    delivery_day: date | None = None  # an approved plan delivers it on this day
    thaw_day: date | None = None  # its open thaw task's day


_COLUMNS = (
    Carton.id,
    Carton.product_id,
    Carton.lot_id,
    Carton.state,
    Carton.vials,
    Carton.doses,
    Carton.open_vial_doses,
    Carton.bud,
    Lot.expiry,
    Carton.shipment_id,
)


def stock_sites_count_on(
    session: Session, site_ids: list[int], product_id: int | None = None
) -> list[CountedCarton]:
    """Every carton the sites count on (see the module), in carton id order per kind."""
    found: list[CountedCarton] = []
    for chunk in chunks(site_ids):
        found += _on_hand(session, chunk, product_id)
        found += _in_transit(session, chunk, product_id)
        found += _on_drafts(session, chunk, product_id)
    return found


def chunks(ids: list[int]) -> Iterator[list[int]]:
    """The ids in slices of at most ``CHUNK`` (one query each)."""
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _scoped(query, product_id: int | None):
    return query.where(Carton.product_id == product_id) if product_id is not None else query


def _counted(row, site_id: int, whereabouts: Whereabouts, **more) -> CountedCarton:
    cid, pid, lot_id, state, vials, doses, open_doses, bud, expiry, shipment_id = row[:10]
    return CountedCarton(
        cid,
        site_id,
        pid,
        lot_id,
        state,
        vials,
        doses,
        open_doses or 0,
        bud,
        expiry,
        shipment_id,
        whereabouts,
        **more,
    )


def _on_hand(session: Session, chunk: list[int], product_id: int | None) -> list[CountedCarton]:
    query = (
        select(*_COLUMNS, Carton.site_id)
        .join(Lot, Lot.id == Carton.lot_id)
        .where(
            Carton.site_id.in_(chunk),
            Carton.status == CartonStatus.AVAILABLE,
            Carton.in_transit.is_(False),
            Carton.shipment_id.is_(None),
        )
        .order_by(Carton.id)
    )
    return [
        _counted(row, row[10], Whereabouts.ON_HAND)
        for row in session.execute(_scoped(query, product_id))
    ]


def _in_transit(session: Session, chunk: list[int], product_id: int | None) -> list[CountedCarton]:
    query = (
        select(*_COLUMNS, Shipment.to_site_id)
        .join(Lot, Lot.id == Carton.lot_id)
        .join(Shipment, Shipment.id == Carton.shipment_id)
        .where(
            Shipment.to_site_id.in_(chunk),
            Carton.in_transit.is_(True),
            Carton.status == CartonStatus.IN_TRANSIT,
        )
    )
    return [
        _counted(row, row[10], Whereabouts.IN_TRANSIT)
        for row in _by_carton(session.execute(_scoped(query, product_id)))
    ]


def _on_drafts(session: Session, chunk: list[int], product_id: int | None) -> list[CountedCarton]:
    approved = select(Plan.id).where(Plan.status == "approved")
    query = (
        select(*_COLUMNS, Shipment.to_site_id, PlanShipment.day)
        .join(Lot, Lot.id == Carton.lot_id)
        .join(Shipment, Shipment.id == Carton.shipment_id)
        .outerjoin(
            PlanShipment,
            and_(
                PlanShipment.shipment_id == Shipment.id,
                PlanShipment.withdrawn_at.is_(None),
                PlanShipment.plan_id.in_(approved),
            ),
        )
        .where(
            Shipment.to_site_id.in_(chunk),
            Shipment.status == "draft",
            Carton.status == CartonStatus.AVAILABLE,
        )
    )
    rows = _by_carton(session.execute(_scoped(query, product_id)))
    thaw_days = _open_thaw_days(session, [row[0] for row in rows if row[11] is not None])
    return [
        _counted(
            row,
            row[10],
            Whereabouts.ON_DRAFT,
            delivery_day=row[11],
            thaw_day=thaw_days.get(row[0]),
        )
        for row in rows
    ]


def _by_carton(rows) -> list:
    """Rows in carton order, sorted here: asked of the database, the order would lead it to
    walk every carton by id rather than start from the few shipments to the site."""
    return sorted(rows, key=lambda row: row[0])


def _open_thaw_days(session: Session, carton_ids: list[int]) -> dict[int, date]:
    if not carton_ids:
        return {}
    return dict(
        session.execute(
            select(ThawTask.carton_id, ThawTask.day).where(
                ThawTask.carton_id.in_(carton_ids), ThawTask.status == "open"
            )
        ).all()
    )
