"""The catalogue (products and their storage profiles) and the network (sites, storage units)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.db.models import Product, ProductGtin, Site, StorageUnit
from inventory.db.planning import PlanningSetting
from inventory.domain import gs1
from inventory.domain.errors import Conflict, InvalidInput
from inventory.domain.sites import checked_opening_hours
from inventory.domain.stability import StorageProfile
from inventory.services.access import Actor, require
from inventory.services.common import audit, product_by_code, site_by_code
from inventory.services.paging import FIRST_PAGE, Page, PageRequest, asc, paged

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


def checked_profile(profile: dict) -> dict:
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


def list_products(session: Session, page: PageRequest = FIRST_PAGE) -> Page[Product]:
    query = select(Product).options(selectinload(Product.gtins))
    return paged(session, query, (asc(Product.code), asc(Product.id)), page)


def create_product(session: Session, actor: Actor, now: datetime, data: dict) -> Product:
    require(actor, "catalogue.write")
    if session.scalar(select(Product).where(Product.code == data["code"])) is not None:
        raise Conflict(f"product {data['code']} exists", code="exists")
    product = Product(
        code=data["code"],
        name=data["name"],
        programme=data["programme"],
        doses_per_vial=data["doses_per_vial"],
        storage_profile=checked_profile(data["storage_profile"]),
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
        product.storage_profile = checked_profile(changes["storage_profile"])
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
    session: Session,
    *,
    region: str | None = None,
    kind: str | None = None,
    page: PageRequest = FIRST_PAGE,
) -> Page[Site]:
    query = select(Site).options(selectinload(Site.supplied_by))
    if region:
        query = query.where(Site.region == region)
    if kind:
        query = query.where(Site.kind == kind)
    return paged(session, query, (asc(Site.code), asc(Site.id)), page)


# what citizens need to find a site, as the API names it (``municipality`` is the code), and
# the target group its administrations count under when the client names none
DETAIL_FIELDS = (
    "address",
    "postcode",
    "town",
    "municipality",
    "lat",
    "lon",
    "opening_hours",
    "slots_per_hour",
    "drop_in",
    "booking_url",
    "accessibility",
    "default_target_group",
)
_COLUMN = {"municipality": "municipality_code"}
BOOKING_URL_SETTING = "booking_url"


def site_snapshot(site: Site) -> dict:
    return {
        "code": site.code,
        "name": site.name,
        "kind": site.kind,
        "region": site.region,
        "supplied_by": site.supplied_by.code if site.supplied_by else None,
        **{f: getattr(site, _COLUMN.get(f, f)) for f in DETAIL_FIELDS},
    }


def _set_details(site: Site, data: dict) -> None:
    for field in DETAIL_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "opening_hours" and value is not None:
            value = checked_opening_hours(value)
        if field == "drop_in":
            value = bool(value)
        setattr(site, _COLUMN.get(field, field), value)


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
        drop_in=False,
    )
    _set_details(site, data)
    session.add(site)
    session.flush()
    audit(session, actor, now, "site.create", "site", site.code, after=site_snapshot(site))
    return site


def update_site(session: Session, actor: Actor, now: datetime, code: str, changes: dict) -> Site:
    """Change a site's name or what citizens need to find it (admin; audited)."""
    require(actor, "catalogue.write")
    site = site_by_code(session, code)
    before = site_snapshot(site)
    if "name" in changes:
        site.name = changes["name"]
    _set_details(site, changes)
    session.flush()
    audit(
        session,
        actor,
        now,
        "site.update",
        "site",
        site.code,
        before=before,
        after=site_snapshot(site),
    )
    return site


def national_booking_url(session: Session) -> str | None:
    """Where citizens book when their site names no booking link of its own."""
    setting = session.get(PlanningSetting, BOOKING_URL_SETTING)
    value = setting.value if setting is not None else None
    return value.get("url") if isinstance(value, dict) else None


def set_national_booking_url(
    session: Session, actor: Actor, now: datetime, url: str | None
) -> str | None:
    require(actor, "catalogue.write")
    before = national_booking_url(session)
    setting = session.get(PlanningSetting, BOOKING_URL_SETTING)
    if setting is None:
        setting = PlanningSetting(name=BOOKING_URL_SETTING, value={"url": url})
        session.add(setting)
    setting.value, setting.updated_at, setting.updated_by = {"url": url}, now, actor.label
    session.flush()
    audit(
        session,
        actor,
        now,
        "settings.booking_url",
        "planning_settings",
        BOOKING_URL_SETTING,
        before={"url": before},
        after={"url": url},
    )
    return url


def booking_url_of(site: Site, national: str | None) -> str | None:
    return site.booking_url or national


def list_storage_units(
    session: Session, *, site: str | None = None, page: PageRequest = FIRST_PAGE
) -> Page[StorageUnit]:
    query = select(StorageUnit).options(selectinload(StorageUnit.site))
    if site:
        query = query.where(StorageUnit.site_id == site_by_code(session, site).id)
    return paged(session, query, (asc(StorageUnit.code), asc(StorageUnit.id)), page)


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
