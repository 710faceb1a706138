"""Catalogue and network: admin writes, everyone with a token reads."""

from __future__ import annotations

from flask import g

from inventory.api import api, body, responses
from inventory.api.contract import Reply, operation
from inventory.api.schemas import (
    BookingUrlSchema,
    ProductPatchSchema,
    ProductSchema,
    SitePatchSchema,
    SiteQuery,
    SiteSchema,
    StorageUnitQuery,
    StorageUnitSchema,
)
from inventory.presentation import (
    next_page_headers,
    page_of,
    product_json,
    site_json,
    storage_unit_json,
)
from inventory.services import catalogue
from inventory.services.common import product_by_code, site_by_code
from inventory.web_db import get_session, now


@api.get("/products")
@operation(responses.Product, many=True)
def list_products(args):
    """List products with their storage profiles."""
    found = catalogue.list_products(get_session(), page=page_of(args))
    return Reply([product_json(p) for p in found], headers=next_page_headers(found))


@api.post("/products")
@operation(responses.Product, status=201, conflicts=("exists", "gtin_taken"))
@body(ProductSchema)
def create_product(data):
    """Add a product (admin)."""
    return product_json(catalogue.create_product(get_session(), g.actor, now(), data))


@api.get("/products/<code>")
@operation(responses.Product)
def get_product(code):
    """One product."""
    return product_json(product_by_code(get_session(), code))


@api.patch("/products/<code>")
@operation(responses.Product, conflicts=("gtin_taken",))
@body(ProductPatchSchema)
def update_product(code, data):
    """Change a product's fields or storage profile (admin; audited with before and after)."""
    return product_json(catalogue.update_product(get_session(), g.actor, now(), code, data))


@api.get("/sites")
@operation(responses.Site, many=True, query=SiteQuery)
def list_sites(args):
    """List sites; filter by region and kind."""
    found = catalogue.list_sites(
        get_session(), region=args.get("region"), kind=args.get("kind"), page=page_of(args)
    )
    return Reply([site_json(s) for s in found], headers=next_page_headers(found))


@api.post("/sites")
@operation(responses.Site, status=201, conflicts=("exists",))
@body(SiteSchema)
def create_site(data):
    """Add a site (admin)."""
    return site_json(catalogue.create_site(get_session(), g.actor, now(), data))


@api.get("/sites/<code>")
@operation(responses.Site)
def get_site(code):
    """One site, with its address, opening hours and booking link."""
    return site_json(site_by_code(get_session(), code))


@api.patch("/sites/<code>")
@operation(responses.Site)
@body(SitePatchSchema)
def update_site(code, data):
    """Change a site's name, address, coordinates, opening hours, slots per hour, drop-in,
    booking link or accessibility notes (admin; audited with before and after; null clears)."""
    return site_json(catalogue.update_site(get_session(), g.actor, now(), code, data))


@api.get("/settings/booking-url")
@operation(responses.BookingUrl)
def get_booking_url():
    """The national booking link, shown for every site without one of its own."""
    return {"url": catalogue.national_booking_url(get_session())}


@api.put("/settings/booking-url")
@operation(responses.BookingUrl)
@body(BookingUrlSchema)
def put_booking_url(data):
    """Set the national booking link (admin; audited)."""
    return {"url": catalogue.set_national_booking_url(get_session(), g.actor, now(), data["url"])}


@api.get("/storage-units")
@operation(responses.StorageUnit, many=True, query=StorageUnitQuery)
def list_storage_units(args):
    """List storage units; filter by site."""
    found = catalogue.list_storage_units(get_session(), site=args.get("site"), page=page_of(args))
    return Reply([storage_unit_json(u) for u in found], headers=next_page_headers(found))


@api.post("/storage-units")
@operation(responses.StorageUnit, status=201, conflicts=("exists",))
@body(StorageUnitSchema)
def create_storage_unit(data):
    """Add a storage unit at a site (admin)."""
    return storage_unit_json(catalogue.create_storage_unit(get_session(), g.actor, now(), data))
