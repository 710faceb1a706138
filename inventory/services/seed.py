"""Load the seed catalogue, the Danish-shaped network and a season's demo stock.
Idempotent: running it twice changes nothing the second time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory import seed_data
from inventory.db.models import Carton, Product, ProductGtin, Site, StorageUnit
from inventory.db.planning import PlanningSetting
from inventory.domain import gs1
from inventory.services import custody
from inventory.services.access import SYSTEM
from inventory.services.catalogue import BOOKING_URL_SETTING, DETAIL_FIELDS, checked_profile


def load_catalogue(session: Session) -> int:
    """Add the products of the seed catalogue that are missing; returns how many were added."""
    existing = set(session.scalars(select(Product.code)))
    added = 0
    for item in seed_data.PRODUCTS:
        if item["code"] in existing:
            continue
        product = Product(
            code=item["code"],
            name=item["name"],
            programme=item["programme"],
            doses_per_vial=item["doses_per_vial"],
            storage_profile=checked_profile(item["storage_profile"]),
            thaw_lead_hours=item.get("thaw_lead_hours", 0),
        )
        product.gtins = [
            ProductGtin(gtin=g) for g in item["gtins"] if session.get(ProductGtin, g) is None
        ]
        session.add(product)
        added += 1
    session.flush()
    return added


def load_network(session: Session) -> int:
    """Add the network's missing sites and storage units, and fill in what citizens need to
    find a site where it is still empty (an admin's own entries are kept)."""
    sites = {s.code: s for s in session.scalars(select(Site))}
    units = set(session.scalars(select(StorageUnit.code)))
    added = 0
    for item in seed_data.network():
        site = sites.get(item["code"])
        if site is None:
            site = Site(
                code=item["code"],
                name=item["name"],
                kind=item["kind"],
                region=item["region"],
                supplied_by=sites.get(item["supplied_by"]) if item.get("supplied_by") else None,
            )
            session.add(site)
            sites[site.code] = site
            added += 1
        _fill_details(site, item)
        for unit in item["storage_units"]:
            if unit["code"] not in units:
                session.add(
                    StorageUnit(
                        site=site,
                        code=unit["code"],
                        kind=unit["kind"],
                        min_c=unit["min_c"],
                        max_c=unit["max_c"],
                        capacity_vials=unit.get("capacity_vials"),
                    )
                )
                units.add(unit["code"])
    session.flush()
    return added


def _fill_details(site: Site, item: dict) -> None:
    for field in DETAIL_FIELDS:
        column = "municipality_code" if field == "municipality" else field
        if field in item and getattr(site, column) in (None, False):
            setattr(site, column, item[field])
    if site.drop_in is None:
        site.drop_in = False


def load_booking_url(session: Session, now: datetime) -> None:
    """The national booking link, unless one is set."""
    if session.get(PlanningSetting, BOOKING_URL_SETTING) is None:
        session.add(
            PlanningSetting(
                name=BOOKING_URL_SETTING,
                value={"url": seed_data.NATIONAL_BOOKING_URL},
                updated_at=now,
                updated_by="seed",
            )
        )
        session.flush()


def load_demo_stock(session: Session, now: datetime) -> int:
    """A season under way: SSI trays received at every hospital pharmacy (by scan), one
    thawed and repacked into cartons for each centre, flu and pneumococcal syringes in
    another fridge than the thawed trays. Only when there is no stock yet."""
    if session.scalar(select(func.count(Carton.id))):
        return 0
    products = {p.code: p for p in session.scalars(select(Product))}
    pharmacies = session.scalars(
        select(Site).where(Site.kind == "hospital_pharmacy").order_by(Site.code)
    ).all()
    made = 0
    for number, pharmacy in enumerate(pharmacies, start=1):
        units = {u.kind: u for u in reversed(pharmacy.storage_units)}
        fridges = sorted((u for u in pharmacy.storage_units if u.kind == "fridge"), key=_code)
        syringes_fridge = fridges[1] if len(fridges) > 1 else fridges[0]
        grey = products["comirnaty-grey-bivalent"]
        tray = custody.receive(
            session,
            SYSTEM,
            now - timedelta(days=3),
            custody.ReceiptInput(
                storage_unit=units["ultra_low_freezer"].code,
                vials=195,
                state="ultra_frozen",
                scan=gs1.encode(
                    grey.gtins[0].gtin,
                    lot=f"GK{number:03d}A",
                    expiry=(now + timedelta(days=300)).date(),
                ),
            ),
        )
        custody.receive(
            session,
            SYSTEM,
            now - timedelta(days=3),
            custody.ReceiptInput(
                storage_unit=units["ultra_low_freezer"].code,
                vials=195,
                state="ultra_frozen",
                scan=gs1.encode(
                    grey.gtins[0].gtin,
                    lot=f"GK{number:03d}B",
                    expiry=(now + timedelta(days=320)).date(),
                ),
            ),
        )
        custody.thaw(
            session, SYSTEM, now - timedelta(days=2), tray.id, storage_unit=units["fridge"].code
        )
        served = session.scalars(
            select(Site)
            .where(Site.supplied_by_id == pharmacy.id, Site.kind == "vaccination_centre")
            .order_by(Site.code)
        ).all()
        custody.repack(
            session,
            SYSTEM,
            now - timedelta(days=2),
            tray.id,
            [(10, units["fridge"].code) for _ in served[:8]],
        )
        for code, lot_prefix, vials in (("vaxigriptetra", "VT", 500), ("prevenar-20", "PV", 200)):
            custody.receive(
                session,
                SYSTEM,
                now - timedelta(days=5),
                custody.ReceiptInput(
                    storage_unit=syringes_fridge.code,
                    vials=vials,
                    state="thawed",
                    product=code,
                    lot=f"{lot_prefix}{number:03d}",
                    expiry=(now + timedelta(days=200)).date(),
                ),
            )
        made += 1
    session.flush()
    return made


def _code(unit) -> str:
    return unit.code
