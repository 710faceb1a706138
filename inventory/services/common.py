"""What every use case needs: finding things by the names users give them, writing the
custody ledger and the audit log. Nothing here commits: the caller's unit of work does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from inventory.db.models import (
    AuditEntry,
    Carton,
    CustodyEvent,
    Lot,
    Product,
    ProductGtin,
    Site,
    StorageUnit,
)
from inventory.domain.errors import InvalidInput, NotFound
from inventory.services.access import Actor


def site_by_code(session: Session, code: str, *, field: str = "site") -> Site:
    site = session.scalar(select(Site).where(Site.code == code))
    if site is None:
        raise NotFound(f"no site with code {code!r}", fields={field: ["unknown site"]})
    return site


def storage_unit_by_code(
    session: Session, code: str, *, field: str = "storage_unit"
) -> StorageUnit:
    # its site in the same row: callers check that the actor sees it
    unit = session.scalar(
        select(StorageUnit).where(StorageUnit.code == code).options(joinedload(StorageUnit.site))
    )
    if unit is None:
        raise NotFound(
            f"no storage unit with code {code!r}", fields={field: ["unknown storage unit"]}
        )
    return unit


def product_by_code(session: Session, code: str, *, field: str = "product") -> Product:
    product = session.scalar(select(Product).where(Product.code == code))
    if product is None:
        raise NotFound(f"no product with code {code!r}", fields={field: ["unknown product"]})
    return product


def product_by_gtin(session: Session, gtin: str, *, field: str = "gtin") -> Product:
    row = session.get(ProductGtin, gtin)
    if row is None:
        raise InvalidInput(
            f"no product has GTIN {gtin}",
            code="unknown_gtin",
            fields={field: [f"unknown GTIN {gtin}"]},
        )
    return row.product


def lot_by_id(session: Session, lot_id: int) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"no lot {lot_id}")
    return lot


def carton_for_update(session: Session, carton_id: int) -> Carton:
    """Lock the carton row for the rest of the transaction (PostgreSQL); SQLite serialises
    writers itself. The row's version column catches anything that still races."""
    carton = session.scalar(
        select(Carton)
        .where(Carton.id == carton_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if carton is None:
        raise NotFound(f"no carton {carton_id}")
    return carton


def record(
    session: Session,
    actor: Actor,
    at: datetime,
    kind: str,
    carton: Carton,
    *,
    doses: int,
    change: int = 0,
    bucket: str | None = None,
    from_site_id: int | None = None,
    to_site_id: int | None = None,
    from_storage_unit_id: int | None = None,
    to_storage_unit_id: int | None = None,
    reason: str | None = None,
    details: dict | None = None,
) -> CustodyEvent:
    """Append one event to the custody ledger."""
    if carton.id is None:
        session.flush()
    event = CustodyEvent(
        at=at,
        actor=actor.label,
        kind=kind,
        carton_id=carton.id,
        lot_id=carton.lot_id,
        doses=doses,
        change=change,
        bucket=bucket,
        from_site_id=from_site_id,
        to_site_id=to_site_id,
        from_storage_unit_id=from_storage_unit_id,
        to_storage_unit_id=to_storage_unit_id,
        reason=reason,
        details=details,
    )
    session.add(event)
    return event


def audit(
    session: Session,
    actor: Actor,
    at: datetime,
    action: str,
    entity: str,
    entity_id,
    *,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    session.add(
        AuditEntry(
            at=at,
            actor=actor.label,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )
