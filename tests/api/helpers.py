"""Small factories for the API tests: each one drives the HTTP API the way a client would
and returns the JSON it got back. Data is built only through /api/v1."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event

from inventory import seed_data

API = "/api/v1"

GREY = "comirnaty-grey-bivalent"  # 6 doses per vial, ultra-frozen or thawed, 12 h in use
PURPLE = "comirnaty-30-purple"
FLU = "vaxigriptetra"  # 1 dose, fridge only: received as "thawed"
PNEUMO = "prevenar-20"

PHARMACY = "RH-APO"
CENTRE = "RH-VC-BELLA"  # supplied by RH-APO
OTHER_CENTRE = "RH-VC-OKSNE"  # also supplied by RH-APO
OTHER_REGION_PHARMACY = "RS-APO"

LATE_EXPIRY = date(2027, 6, 30)


def gtin_of(product_code: str, index: int = 0) -> str:
    return next(p for p in seed_data.PRODUCTS if p["code"] == product_code)["gtins"][index]


def ok(response, status: int = 200) -> dict | list:
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()


def post(client, path: str, headers: dict, json=None, **kwargs):
    return client.post(API + path, headers=headers, json=json if json is not None else {}, **kwargs)


def get(client, path: str, headers: dict, **kwargs):
    return client.get(API + path, headers=headers, **kwargs)


# ------------------------------------------------------------------ receipts


def receipt_body(
    *,
    storage_unit: str = f"{PHARMACY}-ULT1",
    vials: int = 10,
    state: str = "ultra_frozen",
    product: str | None = GREY,
    lot: str | None = "GK001",
    expiry: date | None = LATE_EXPIRY,
    **extra,
) -> dict:
    body = {"storage_unit": storage_unit, "vials": vials, "state": state}
    if product is not None:
        body["product"] = product
    if lot is not None:
        body["lot"] = lot
    if expiry is not None:
        body["expiry"] = expiry.isoformat()
    body.update(extra)
    return body


def receive(client, headers, **fields):
    return post(client, "/receipts", headers, receipt_body(**fields))


def receive_carton(client, headers, **fields) -> dict:
    return ok(receive(client, headers, **fields), 201)


def receive_flu(
    client,
    headers,
    *,
    site: str = PHARMACY,
    vials: int = 20,
    lot: str = "VT001",
    expiry: date = LATE_EXPIRY,
) -> dict:
    return receive_carton(
        client,
        headers,
        storage_unit=f"{site}-F1",
        vials=vials,
        state="thawed",
        product=FLU,
        lot=lot,
        expiry=expiry,
    )


# ------------------------------------------------------------------ carton operations


def thaw(client, headers, carton_id: int, storage_unit: str | None = f"{PHARMACY}-F1"):
    return post(
        client,
        f"/cartons/{carton_id}/thaw",
        headers,
        {"storage_unit": storage_unit} if storage_unit else {},
    )


def repack(client, headers, carton_id: int, parts: list[tuple[int, str]]):
    return post(
        client,
        f"/cartons/{carton_id}/repack",
        headers,
        {"cartons": [{"vials": v, "storage_unit": u} for v, u in parts]},
    )


def administer(client, headers, carton_id: int, doses: int):
    return post(client, f"/cartons/{carton_id}/administer", headers, {"doses": doses})


def waste(client, headers, carton_id: int, doses: int, reason: str):
    return post(client, f"/cartons/{carton_id}/waste", headers, {"doses": doses, "reason": reason})


def hold(client, headers, carton_id: int, reason: str = "logger alarm"):
    return post(client, f"/cartons/{carton_id}/hold", headers, {"reason": reason})


def release(client, headers, carton_id: int, reason: str = "checked with the manufacturer"):
    return post(client, f"/cartons/{carton_id}/release", headers, {"reason": reason})


def discard(client, headers, carton_id: int, reason: str = "manufacturer says discard"):
    return post(client, f"/cartons/{carton_id}/discard", headers, {"reason": reason})


def carton(client, headers, carton_id: int) -> dict:
    return ok(get(client, f"/cartons/{carton_id}", headers))


def thawed_tray(
    client, headers, *, vials: int = 20, lot: str = "GK001", expiry: date = LATE_EXPIRY
) -> dict:
    """A grey-cap tray received ultra-frozen at the pharmacy and thawed into its fridge."""
    tray = receive_carton(client, headers, vials=vials, lot=lot, expiry=expiry)
    return ok(thaw(client, headers, tray["id"]))


def repacked_cartons(
    client, headers, tray_id: int, sizes: list[int], storage_unit: str = f"{PHARMACY}-F1"
) -> list[dict]:
    return ok(repack(client, headers, tray_id, [(n, storage_unit) for n in sizes]), 201)["cartons"]


# ------------------------------------------------------------------ requests and shipments


def create_request(
    client,
    headers,
    *,
    site: str = CENTRE,
    product: str = GREY,
    doses: int = 60,
    needed_on: str = "2026-11-25",
):
    return post(
        client,
        "/stock-requests",
        headers,
        {"site": site, "product": product, "doses": doses, "needed_on": needed_on},
    )


def create_shipment(
    client,
    headers,
    cartons: list[int],
    *,
    from_site: str = PHARMACY,
    to_site: str = CENTRE,
    request: int | None = None,
):
    body = {"from_site": from_site, "to_site": to_site, "cartons": cartons}
    if request is not None:
        body["request"] = request
    return post(client, "/shipments", headers, body)


def dispatch(client, headers, shipment_id: int):
    return post(client, f"/shipments/{shipment_id}/dispatch", headers)


def receive_shipment(
    client, headers, shipment_id: int, items: list[dict], storage_unit: str = f"{CENTRE}-F1"
):
    return post(
        client,
        f"/shipments/{shipment_id}/receive",
        headers,
        {"storage_unit": storage_unit, "items": items},
    )


def dispatched_shipment(client, pharmacist, cartons: list[int], *, to_site: str = CENTRE) -> dict:
    shipment = ok(create_shipment(client, pharmacist, cartons, to_site=to_site), 201)
    return ok(dispatch(client, pharmacist, shipment["id"]))


def deliver(client, pharmacist, receiver, cartons: list[int], *, to_site: str = CENTRE) -> dict:
    """Ship cartons from the pharmacy and accept them all at the destination's first fridge."""
    shipment = dispatched_shipment(client, pharmacist, cartons, to_site=to_site)
    return ok(
        receive_shipment(
            client,
            receiver,
            shipment["id"],
            [{"carton": c, "accepted": True} for c in cartons],
            storage_unit=f"{to_site}-F1",
        )
    )


def cartons_at_centre(
    client, pharmacist, manager, sizes: list[int], *, lot: str = "GK001"
) -> list[dict]:
    """Thawed grey-cap cartons of the given vial counts, repacked at the pharmacy and delivered
    to the centre."""
    tray = thawed_tray(client, pharmacist, vials=sum(sizes), lot=lot)
    children = repacked_cartons(client, pharmacist, tray["id"], sizes)
    ids = [c["id"] for c in children]
    deliver(client, pharmacist, manager, ids)
    return [carton(client, manager, i) for i in ids]


def doses_on_hand(client, headers, site: str, product: str) -> int:
    lines = ok(get(client, f"/stock?site={site}", headers))["lines"]
    return sum(line["on_hand"] for line in lines if line["product"] == product)


def stock_line(client, headers, site: str, product: str, state: str) -> dict | None:
    lines = ok(get(client, f"/stock?site={site}", headers))["lines"]
    return next(
        (line for line in lines if line["product"] == product and line["state"] == state), None
    )


def lot_id(client, headers, product: str, number: str) -> int:
    found = ok(get(client, f"/lots?product={product}&number={number}", headers))
    assert len(found) == 1, found
    return found[0]["id"]


def statements_of(app, call) -> int:
    """How many SQL statements the app's database saw while `call` ran."""
    seen = []

    def count(*_):
        seen.append(1)

    engines = set(app.extensions["inventory.engines"])  # the reads' own, on PostgreSQL
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
    return len(seen)
