"""Catalogue and network: admin writes, everyone with a token reads."""

from __future__ import annotations

from flask import g, jsonify, request

from inventory.api import api, body, created
from inventory.api.render import product_json, site_json, storage_unit_json
from inventory.api.schemas import ProductPatchSchema, ProductSchema, SiteSchema, StorageUnitSchema
from inventory.services import catalogue
from inventory.services.common import product_by_code
from inventory.web_db import get_session, now


@api.get("/products")
def list_products():
    """List products with their storage profiles."""
    return jsonify([product_json(p) for p in catalogue.list_products(get_session())])


@api.post("/products")
@body(ProductSchema)
def create_product(data):
    """Add a product (admin)."""
    return created(product_json(catalogue.create_product(get_session(), g.actor, now(), data)))


@api.get("/products/<code>")
def get_product(code):
    """One product."""
    return jsonify(product_json(product_by_code(get_session(), code)))


@api.patch("/products/<code>")
@body(ProductPatchSchema)
def update_product(code, data):
    """Change a product's fields or storage profile (admin; audited with before and after)."""
    return jsonify(
        product_json(catalogue.update_product(get_session(), g.actor, now(), code, data))
    )


@api.get("/sites")
def list_sites():
    """List sites; filter by region and kind."""
    sites = catalogue.list_sites(
        get_session(), region=request.args.get("region"), kind=request.args.get("kind")
    )
    return jsonify([site_json(s) for s in sites])


@api.post("/sites")
@body(SiteSchema)
def create_site(data):
    """Add a site (admin)."""
    return created(site_json(catalogue.create_site(get_session(), g.actor, now(), data)))


@api.get("/storage-units")
def list_storage_units():
    """List storage units; filter by site."""
    units = catalogue.list_storage_units(get_session(), site=request.args.get("site"))
    return jsonify([storage_unit_json(u) for u in units])


@api.post("/storage-units")
@body(StorageUnitSchema)
def create_storage_unit(data):
    """Add a storage unit at a site (admin)."""
    return created(
        storage_unit_json(catalogue.create_storage_unit(get_session(), g.actor, now(), data))
    )
