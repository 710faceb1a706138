"""The catalogue (products and their storage profiles) and the network (sites, storage units)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.db.models import Product, ProductGtin, Site, StorageUnit
from inventory.domain import gs1
from inventory.domain.errors import Conflict, InvalidInput
from inventory.domain.stability import StorageProfile
from inventory.services.access import Actor, require
from inventory.services.common import audit, product_by_code, site_by_code

PRODUCT_FIELDS = (
    "code",
    "name",
    "programme",
    "doses_per_vial",
    "gtins",
    "storage_profile",
    "thaw_lead_hours",
)


def product_snapshot(product: Product) -> dict:
    return {
        "code": product.code,
        "name": product.name,
        "programme": product.programme,
        "doses_per_vial": product.doses_per_vial,
        "gtins": [g.gtin for g in product.gtins],
        "storage_profile": product.storage_profile,
        "thaw_lead_hours": product.thaw_lead_hours,
    }


def _checked_profile(profile: dict) -> dict:
    return StorageProfile.from_dict(profile).to_dict()


def _checked_gtins(session: Session, gtins: list[str], product: Product | None) -> list[str]:
    errors = [f"{g}: not a valid GTIN-14" for g in gtins if not gs1.is_valid_gtin(g)]
    if errors:
        raise InvalidInput("invalid GTIN", fields={"gtins": errors})
    for gtin in gtins:
        owner = session.get(ProductGtin, gtin)
        if owner is not None and (product is None or owner.product_id != product.id):
            raise Conflict(
                f"GTIN {gtin} already belongs to {owner.product.code}", code="gtin_taken"
            )
    return gtins


def list_products(session: Session) -> list[Product]:
    return list(
        session.scalars(select(Product).options(selectinload(Product.gtins)).order_by(Product.code))
    )


def create_product(session: Session, actor: Actor, now: datetime, data: dict) -> Product:
    require(actor, "catalogue.write")
    if session.scalar(select(Product).where(Product.code == data["code"])) is not None:
        raise Conflict(f"product {data['code']} exists", code="exists")
    product = Product(
        code=data["code"],
        name=data["name"],
        programme=data["programme"],
        doses_per_vial=data["doses_per_vial"],
        storage_profile=_checked_profile(data["storage_profile"]),
        thaw_lead_hours=data.get("thaw_lead_hours") or 0.0,
    )
    product.gtins = [
        ProductGtin(gtin=g) for g in _checked_gtins(session, data.get("gtins", []), None)
    ]
    session.add(product)
    session.flush()
    audit(
        session,
        actor,
        now,
        "product.create",
        "product",
        product.code,
        after=product_snapshot(product),
    )
    return product


def update_product(
    session: Session, actor: Actor, now: datetime, code: str, changes: dict
) -> Product:
    require(actor, "catalogue.write")
    product = product_by_code(session, code)
    before = product_snapshot(product)
    for field in ("name", "programme", "doses_per_vial", "thaw_lead_hours"):
        if field in changes:
            setattr(product, field, changes[field])
    if "storage_profile" in changes:
        product.storage_profile = _checked_profile(changes["storage_profile"])
    if "gtins" in changes:
        gtins = _checked_gtins(session, changes["gtins"], product)
        product.gtins = [ProductGtin(gtin=g) for g in gtins]
    session.flush()
    audit(
        session,
        actor,
        now,
        "product.update",
        "product",
        product.code,
        before=before,
        after=product_snapshot(product),
    )
    return product


def list_sites(
    session: Session, *, region: str | None = None, kind: str | None = None
) -> list[Site]:
    query = select(Site).options(selectinload(Site.supplied_by)).order_by(Site.code)
    if region:
        query = query.where(Site.region == region)
    if kind:
        query = query.where(Site.kind == kind)
    return list(session.scalars(query))


def create_site(session: Session, actor: Actor, now: datetime, data: dict) -> Site:
    require(actor, "catalogue.write")
    if session.scalar(select(Site).where(Site.code == data["code"])) is not None:
        raise Conflict(f"site {data['code']} exists", code="exists")
    supplier = (
        site_by_code(session, data["supplied_by"], field="supplied_by")
        if data.get("supplied_by")
        else None
    )
    site = Site(
        code=data["code"],
        name=data["name"],
        kind=data["kind"],
        region=data["region"],
        supplied_by=supplier,
    )
    session.add(site)
    session.flush()
    audit(
        session,
        actor,
        now,
        "site.create",
        "site",
        site.code,
        after={k: data.get(k) for k in ("code", "name", "kind", "region", "supplied_by")},
    )
    return site


def list_storage_units(session: Session, *, site: str | None = None) -> list[StorageUnit]:
    query = select(StorageUnit).options(selectinload(StorageUnit.site)).order_by(StorageUnit.code)
    if site:
        query = query.where(StorageUnit.site_id == site_by_code(session, site).id)
    return list(session.scalars(query))


def create_storage_unit(session: Session, actor: Actor, now: datetime, data: dict) -> StorageUnit:
    require(actor, "catalogue.write")
    if session.scalar(select(StorageUnit).where(StorageUnit.code == data["code"])) is not None:
        raise Conflict(f"storage unit {data['code']} exists", code="exists")
    if data["min_c"] >= data["max_c"]:
        raise InvalidInput("the range is empty", fields={"max_c": ["must be above min_c"]})
    unit = StorageUnit(
        code=data["code"],
        site=site_by_code(session, data["site"]),
        kind=data["kind"],
        min_c=data["min_c"],
        max_c=data["max_c"],
        capacity_vials=data.get("capacity_vials"),
    )
    session.add(unit)
    session.flush()
    audit(
        session,
        actor,
        now,
        "storage_unit.create",
        "storage_unit",
        unit.code,
        after={
            k: data.get(k) for k in ("code", "site", "kind", "min_c", "max_c", "capacity_vials")
        },
    )
    return unit
