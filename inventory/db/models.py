"""The custody chain as tables: catalogue, network, lots, cartons, the custody ledger,
shipments, stock requests, holds, tokens, the audit log and idempotency records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType

SITE_KINDS = ("supplier", "hospital_pharmacy", "vaccination_centre", "gp_practice", "mobile_unit")
STORAGE_UNIT_KINDS = ("ultra_low_freezer", "freezer", "fridge", "cool_box")
CARTON_STATUSES = ("available", "in_transit", "held", "expired", "consumed", "discarded")
REQUEST_STATUSES = ("open", "approved", "rejected", "fulfilled")
SHIPMENT_STATUSES = ("draft", "dispatched", "received")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    programme: Mapped[str] = mapped_column(String(64))
    doses_per_vial: Mapped[int]
    storage_profile: Mapped[dict]
    thaw_lead_hours: Mapped[float] = mapped_column(Float, default=0)
    gtins: Mapped[list[ProductGtin]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductGtin.gtin"
    )


class ProductGtin(Base):
    __tablename__ = "product_gtins"

    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    product: Mapped[Product] = relationship(back_populates="gtins")


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(64), index=True)
    supplied_by_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    supplied_by: Mapped[Site | None] = relationship(remote_side="Site.id")
    # where and when citizens find it (vaccination sites; empty for pharmacies and SSI)
    address: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(4))
    town: Mapped[str | None] = mapped_column(String(64))
    municipality_code: Mapped[str | None] = mapped_column(String(4), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # {"mon": [["08:00", "16:00"]], ...} local time; see inventory.domain.sites
    opening_hours: Mapped[dict | None] = mapped_column(JSONType)
    slots_per_hour: Mapped[int | None]
    drop_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # None: the national booking link (a programme setting)
    booking_url: Mapped[str | None] = mapped_column(String(500))
    accessibility: Mapped[str | None] = mapped_column(Text)
    # the target group an administration is counted under when the client names none
    default_target_group: Mapped[str | None] = mapped_column(String(32))
    storage_units: Mapped[list[StorageUnit]] = relationship(
        back_populates="site", order_by="StorageUnit.code"
    )


class StorageUnit(Base):
    __tablename__ = "storage_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    min_c: Mapped[float]
    max_c: Mapped[float]
    capacity_vials: Mapped[int | None]
    site: Mapped[Site] = relationship(back_populates="storage_units")


class Lot(Base):
    __tablename__ = "lots"
    __table_args__ = (UniqueConstraint("product_id", "number", name="uq_lots_product_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    expiry: Mapped[date] = mapped_column(Date)
    manufactured_on: Mapped[date | None] = mapped_column(Date)
    recalled_at: Mapped[datetime | None]
    recall_reason: Mapped[str | None] = mapped_column(Text)
    product: Mapped[Product] = relationship()


class Carton(Base):
    """Any tracked package of vials of one lot: an SSI tray of 195 vials is a carton too.

    `doses` is the conserved quantity; `vials` counts vials that still hold doses,
    an open vial included. The stability clock (thawed_at ... room_temp_*) travels to
    children on repack; `bud` is recomputed from it whenever it changes.
    """

    __tablename__ = "cartons"
    __table_args__ = (
        Index("ix_cartons_site_status_bud", "site_id", "status", "bud"),
        Index("ix_cartons_lot_id", "lot_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("cartons.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    storage_unit_id: Mapped[int | None] = mapped_column(ForeignKey("storage_units.id"), index=True)
    # picked onto a shipment (draft or dispatched); in_transit once dispatched, until received
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    in_transit: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    vials: Mapped[int]
    doses: Mapped[int]
    received_doses: Mapped[int]
    serial: Mapped[str | None] = mapped_column(String(20))
    # stability clock
    thawed_at: Mapped[datetime | None]
    frozen_since: Mapped[datetime | None]
    room_temp_hours: Mapped[float] = mapped_column(Float, default=0.0)
    room_temp_exhausted_at: Mapped[datetime | None]
    # the vial currently open (multi-dose): its in-use clock
    open_vial_doses: Mapped[int] = mapped_column(Integer, default=0)
    open_vial_opened_at: Mapped[datetime | None]
    bud: Mapped[datetime]
    # exposure: time out of range, extremes seen; travels with the carton
    exposure_s: Mapped[float] = mapped_column(Float, default=0.0)
    exposure_min_c: Mapped[float | None]
    exposure_max_c: Mapped[float | None]
    created_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    lot: Mapped[Lot] = relationship()
    product: Mapped[Product] = relationship()
    site: Mapped[Site] = relationship()
    storage_unit: Mapped[StorageUnit | None] = relationship()
    parent: Mapped[Carton | None] = relationship(remote_side="Carton.id", back_populates="children")
    children: Mapped[list[Carton]] = relationship(back_populates="parent", order_by="Carton.id")
    holds: Mapped[list[Hold]] = relationship(back_populates="carton", order_by="Hold.id")


class CustodyEvent(Base):
    """The append-only custody ledger. `doses` is the quantity the event concerns; `change`
    is its signed effect on the carton's doses on hand, so a carton's doses are the sum of
    its changes. `bucket` says where doses that left the chain went (administered, wasted,
    discarded)."""

    __tablename__ = "custody_events"
    __table_args__ = (
        Index("ix_custody_events_lot_kind", "lot_id", "kind"),
        Index("ix_custody_events_carton_id", "carton_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    carton_id: Mapped[int] = mapped_column(ForeignKey("cartons.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    doses: Mapped[int]
    change: Mapped[int]
    bucket: Mapped[str | None] = mapped_column(String(16))
    from_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    to_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    from_storage_unit_id: Mapped[int | None] = mapped_column(ForeignKey("storage_units.id"))
    to_storage_unit_id: Mapped[int | None] = mapped_column(ForeignKey("storage_units.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict | None]


class Hold(Base):
    """Quarantine on a carton: placed with a reason, decided (release or discard) by a
    pharmacist."""

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    carton_id: Mapped[int] = mapped_column(ForeignKey("cartons.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # manual, recall, excursion, delivery
    excursion_id: Mapped[int | None] = mapped_column(index=True)
    placed_at: Mapped[datetime]
    placed_by: Mapped[str] = mapped_column(String(128))
    decision: Mapped[str | None] = mapped_column(String(16))  # released, discarded
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(128))
    carton: Mapped[Carton] = relationship(back_populates="holds")


class StockRequest(Base):
    __tablename__ = "stock_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    doses: Mapped[int]
    needed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # open, approved, rejected, fulfilled
    approved_doses: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(128))
    site: Mapped[Site] = relationship()
    product: Mapped[Product] = relationship()


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    to_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("stock_requests.id"))
    status: Mapped[str] = mapped_column(String(16))  # draft, dispatched, received
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    dispatched_at: Mapped[datetime | None]
    dispatched_by: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[datetime | None]
    received_by: Mapped[str | None] = mapped_column(String(128))
    receiving_storage_unit_id: Mapped[int | None] = mapped_column(ForeignKey("storage_units.id"))
    # the cool box the cartons travel in: its logger is their cold chain while in transit
    cool_box_id: Mapped[int | None] = mapped_column(ForeignKey("storage_units.id"))
    # an advance notice from the supplier: what SSI says is coming, closed by a receipt
    expected: Mapped[list | None]
    note: Mapped[str | None] = mapped_column(Text)
    cool_box: Mapped[StorageUnit | None] = relationship(foreign_keys=[cool_box_id])
    receiving_storage_unit: Mapped[StorageUnit | None] = relationship(
        foreign_keys=[receiving_storage_unit_id]
    )
    from_site: Mapped[Site] = relationship(foreign_keys=[from_site_id])
    to_site: Mapped[Site] = relationship(foreign_keys=[to_site_id])
    request: Mapped[StockRequest | None] = relationship()
    items: Mapped[list[ShipmentItem]] = relationship(
        back_populates="shipment", order_by="ShipmentItem.carton_id", cascade="all, delete-orphan"
    )


class ShipmentItem(Base):
    """One carton on a shipment, with its proof of delivery."""

    __tablename__ = "shipment_items"
    __table_args__ = (
        UniqueConstraint("shipment_id", "carton_id", name="uq_shipment_items_carton"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    carton_id: Mapped[int] = mapped_column(ForeignKey("cartons.id"), index=True)
    doses: Mapped[int]
    accepted: Mapped[bool | None] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    shipment: Mapped[Shipment] = relationship(back_populates="items")
    carton: Mapped[Carton] = relationship()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    region: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    site: Mapped[Site | None] = relationship()


class AuditEntry(Base):
    """Every change outside the custody ledger: who, when, what, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None]
    after: Mapped[dict | None]


class IdempotencyRecord(Base):
    """The first answer to a POST with an Idempotency-Key, replayed to its retries."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotency_records_token_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[dict | list | None] = mapped_column(JSONType)
    created_at: Mapped[datetime]
