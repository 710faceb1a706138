"""Catalogue and network: admin writes, everyone with a token reads; every change is in the
audit log with before and after."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from inventory.db.models import AuditEntry
from tests.api.helpers import API, CENTRE, FLU, GREY, PHARMACY, get, gtin_of, ok, post

PROFILE = {"states": {"thawed": {"min_c": 2, "max_c": 8}}}


def product_body(**changes) -> dict:
    return {
        "code": "test-vaccine",
        "name": "Test vaccine",
        "programme": "influenza",
        "doses_per_vial": 1,
        "gtins": ["02099120099993"],
        "storage_profile": PROFILE,
        **changes,
    }


def audit_entries(session_factory, action: str) -> list[AuditEntry]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def test_everyone_with_a_token_reads_the_seed_catalogue(client, manager):
    products = {p["code"]: p for p in ok(get(client, "/products", manager))}

    grey = products[GREY]
    assert grey["doses_per_vial"] == 6
    assert gtin_of(GREY) in grey["gtins"]
    assert set(grey["storage_profile"]["states"]) == {"ultra_frozen", "thawed", "punctured"}
    assert grey["storage_profile"]["in_use_hours"] == 12
    assert set(products[FLU]["storage_profile"]["states"]) == {"thawed"}


def test_sites_and_storage_units_are_listed_with_filters(client, manager):
    centres = ok(get(client, "/sites?region=Hovedstaden&kind=vaccination_centre", manager))
    bella = next(s for s in centres if s["code"] == CENTRE)
    assert (bella["kind"], bella["region"], bella["supplied_by"]) == (
        "vaccination_centre",
        "Hovedstaden",
        PHARMACY,
    )
    assert {s["region"] for s in centres} == {"Hovedstaden"}

    units = {u["code"]: u for u in ok(get(client, f"/storage-units?site={PHARMACY}", manager))}
    assert units[f"{PHARMACY}-ULT1"]["kind"] == "ultra_low_freezer"
    assert (units[f"{PHARMACY}-F1"]["min_c"], units[f"{PHARMACY}-F1"]["max_c"]) == (2, 8)


def test_admin_adds_a_product_and_it_is_audited(client, admin, seeded):
    created = ok(post(client, "/products", admin, product_body()), 201)

    assert created["code"] == "test-vaccine"
    assert created["gtins"] == ["02099120099993"]
    assert ok(get(client, "/products/test-vaccine", admin))["name"] == "Test vaccine"
    (entry,) = audit_entries(seeded, "product.create")
    assert entry.entity_id == "test-vaccine" and entry.after["name"] == "Test vaccine"


def test_a_product_code_is_unique(client, admin):
    ok(post(client, "/products", admin, product_body(gtins=[])), 201)

    assert post(client, "/products", admin, product_body(gtins=[])).status_code == 409


def test_a_gtin_belongs_to_one_product(client, admin):
    response = post(client, "/products", admin, product_body(gtins=[gtin_of(GREY)]))

    assert response.status_code == 409


def test_a_gtin_with_a_bad_check_digit_is_refused(client, admin):
    response = post(client, "/products", admin, product_body(gtins=["02099120099990"]))

    assert response.status_code == 422
    assert "gtins" in response.json["error"]["fields"]


def test_a_storage_profile_is_checked_field_by_field(client, admin):
    inverted = post(
        client,
        "/products",
        admin,
        product_body(gtins=[], storage_profile={"states": {"thawed": {"min_c": 8, "max_c": 2}}}),
    )
    unknown = post(
        client,
        "/products",
        admin,
        product_body(
            gtins=[], storage_profile={"states": {"thawed": {"min_c": 2, "max_c": 8}, "melted": {}}}
        ),
    )

    assert inverted.status_code == unknown.status_code == 422
    assert "storage_profile.states.thawed.max_c" in inverted.json["error"]["fields"]
    assert "storage_profile.states.melted" in unknown.json["error"]["fields"]


def test_patching_a_product_writes_before_and_after_to_the_audit_log(client, admin, seeded, clock):
    clock.advance(hours=1)

    patched = client.patch(
        f"{API}/products/{GREY}",
        headers=admin,
        json={
            "name": "Comirnaty grey cap (renamed)",
            "storage_profile": {
                **ok(get(client, f"/products/{GREY}", admin))["storage_profile"],
                "in_use_hours": 6,
            },
        },
    )

    assert patched.status_code == 200
    assert patched.json["name"] == "Comirnaty grey cap (renamed)"
    assert patched.json["storage_profile"]["in_use_hours"] == 6
    (entry,) = audit_entries(seeded, "product.update")
    assert entry.entity == "product" and entry.entity_id == GREY
    assert entry.before["name"].startswith("Comirnaty Original/Omicron")
    assert entry.after["name"] == "Comirnaty grey cap (renamed)"
    assert entry.before["storage_profile"]["in_use_hours"] == 12
    assert entry.after["storage_profile"]["in_use_hours"] == 6
    assert "admin" in entry.actor
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    assert at == datetime(2026, 11, 21, 11, 0, tzinfo=UTC)


def test_a_refused_patch_changes_nothing_and_audits_nothing(client, staff, seeded):
    response = client.patch(f"{API}/products/{GREY}", headers=staff, json={"name": "hijacked"})

    assert response.status_code == 403
    assert ok(get(client, f"/products/{GREY}", staff))["name"].startswith(
        "Comirnaty Original/Omicron"
    )
    assert audit_entries(seeded, "product.update") == []


def test_an_invalid_patch_is_refused_by_field(client, admin, seeded):
    response = client.patch(f"{API}/products/{GREY}", headers=admin, json={"doses_per_vial": 0})

    assert response.status_code == 422
    assert "doses_per_vial" in response.json["error"]["fields"]
    assert audit_entries(seeded, "product.update") == []


def test_patching_an_unknown_product_is_not_found(client, admin):
    assert (
        client.patch(f"{API}/products/no-such", headers=admin, json={"name": "x"}).status_code
        == 404
    )


def test_hold_decisions_are_audited(client, staff, seeded):
    syringes = ok(
        post(
            client,
            "/receipts",
            staff,
            {
                "storage_unit": f"{PHARMACY}-F1",
                "vials": 5,
                "state": "thawed",
                "product": FLU,
                "lot": "VT1",
                "expiry": "2027-06-30",
            },
        ),
        201,
    )
    ok(post(client, f"/cartons/{syringes['id']}/hold", staff, {"reason": "alarm"}))
    ok(post(client, f"/cartons/{syringes['id']}/release", staff, {"reason": "checked"}))

    (placed,) = audit_entries(seeded, "hold")
    (released,) = audit_entries(seeded, "hold.released")
    assert placed.entity_id == str(syringes["id"]) and placed.after["reason"] == "alarm"
    assert released.before["reason"] == "alarm"
    assert (
        released.after["decision"] == "released" and released.after["decision_reason"] == "checked"
    )


def test_admin_adds_a_site_and_a_storage_unit(client, admin, seeded):
    site = ok(
        post(
            client,
            "/sites",
            admin,
            {
                "code": "RH-VC-NEW",
                "name": "Ny vaccinationscenter",
                "kind": "vaccination_centre",
                "region": "Hovedstaden",
                "supplied_by": PHARMACY,
            },
        ),
        201,
    )
    unit = ok(
        post(
            client,
            "/storage-units",
            admin,
            {"code": "RH-VC-NEW-F1", "site": "RH-VC-NEW", "kind": "fridge", "min_c": 2, "max_c": 8},
        ),
        201,
    )

    assert site["supplied_by"] == PHARMACY
    assert (unit["site"], unit["kind"]) == ("RH-VC-NEW", "fridge")
    assert [e.entity_id for e in audit_entries(seeded, "site.create")] == ["RH-VC-NEW"]
    assert [e.entity_id for e in audit_entries(seeded, "storage_unit.create")] == ["RH-VC-NEW-F1"]


def test_site_and_unit_fields_are_checked(client, admin):
    bad_site = post(
        client, "/sites", admin, {"code": "X", "name": "x", "kind": "castle", "region": "r"}
    )
    empty_range = post(
        client,
        "/storage-units",
        admin,
        {"code": "RH-APO-F9", "site": PHARMACY, "kind": "fridge", "min_c": 8, "max_c": 2},
    )
    duplicate = post(
        client,
        "/storage-units",
        admin,
        {"code": f"{PHARMACY}-F1", "site": PHARMACY, "kind": "fridge", "min_c": 2, "max_c": 8},
    )

    assert bad_site.status_code == 422 and "kind" in bad_site.json["error"]["fields"]
    assert empty_range.status_code == 422
    assert duplicate.status_code == 409
