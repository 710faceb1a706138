"""Screenshots of every main screen, Danish and English, at 1280 and 768 px, for a reviewer to
look at (written to a folder, never committed): the pharmacy's, the centre manager's, the
fridges, the coordinator's, the admin's, the public pages and an error page.

    .venv/bin/python -m tests.web.screenshots [--out /tmp/shots] [--only stock,receive]

A fresh SQLite database is migrated and seeded with the network, a pharmacy's morning
(trays received, one thawed and repacked, a carton held, a draft shipment, a stock request, a
lot to recall) and a vaccination centre's day (a shipment received and one on the way, doses
given and wasted, a fridge's logger that saw a hot spell), the app is served on a free port,
and Debian's Chromium visits each screen as the person who uses it. Add a screen by adding a
line to SCREENS.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from werkzeug.serving import make_server

from inventory import create_app
from inventory.clock import FixedClock
from inventory.db import make_engine, make_session_factory, unit_of_work
from inventory.db.models import Lot
from inventory.services import custody, devices, seed, shipments, telemetry, uptake
from inventory.services.access import SYSTEM
from inventory.services.telemetry import IncomingReading, IngestBatch
from inventory.services.users import create_user
from tests.api.helpers import FLU, GREY, gtin_of
from tests.api.test_telemetry_api import HOT_SPELL
from tests.conftest import T0
from tests.support.database import migrate
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD

PHARMACY = "RH-APO"
CENTRE = "RH-VC-BELLA"
FRIDGE = f"{CENTRE}-F1"
HOT_HOURS = "from=2026-11-21T07:00&to=2026-11-21T11:00"  # the hot spell, in Danish time

# (name, user name, path); "{...}" is filled from the seeded morning
SCREENS = [
    ("login", None, "/login"),
    ("stock", "apotek", "/stock"),
    ("receive", "apotek", "/receive"),
    ("receive-done", "apotek", "/receive?carton={tray2}&unit=RH-APO-ULT1&vials=195"),
    ("carton", "apotek", "/cartons/{child}"),
    ("carton-tray", "apotek", "/cartons/{tray}"),
    ("labels", "apotek", "/labels?carton={child}&carton={held}"),
    ("repack-list", "apotek", "/repack"),
    ("thaw", "apotek", "/cartons/{tray2}/thaw"),
    ("repack", "apotek", "/cartons/{tray}/repack"),
    ("shipments", "apotek", "/shipments"),
    ("shipment-new", "apotek", "/shipments/new"),
    ("shipment", "apotek", "/shipments/{shipment}"),
    ("pick-list", "apotek", "/shipments/{shipment}/pick-list"),
    ("holds", "apotek", "/holds"),
    ("requests", "apotek", "/requests"),
    ("plans", "apotek", "/plans"),
    ("recall", "apotek", "/recall"),
    ("recall-lot", "apotek", "/lots/{lot}/recall"),
    ("users", "admin", "/users"),
    ("sites", "admin", "/sites?region=Hovedstaden"),
    ("site-edit", "admin", "/sites/RH-VC-BELLA/edit"),
    ("account", "apotek", "/account"),
    # the centre manager's day
    ("today", "bella", "/today"),
    ("deliveries", "bella", "/deliveries"),
    ("delivery", "bella", "/deliveries/{incoming}"),
    ("delivery-received", "bella", "/deliveries/{received}"),
    ("doses", "bella", "/doses"),
    ("doses-done", "bella", "/doses?done=wasted&carton={opened}&doses=1&reason=broken"),
    ("centre-requests", "bella", "/centre/requests"),
    ("units", "bella", "/units"),
    ("unit-chart", "bella", f"/units/{FRIDGE}?{HOT_HOURS}"),
    ("unit-week", "bella", f"/units/{FRIDGE}?days=7"),
    ("error-other-site", "bella", "/cartons/{tray}"),  # answers 404
    # the region's coordinator
    ("region", "koordinator", "/region"),
    ("lots", "koordinator", "/lots"),
    ("trace", "koordinator", "/lots/{shipped_lot}/trace"),
    ("uptake", "koordinator", "/region/uptake"),
    ("waste", "koordinator", "/region/waste"),
    # the public, signed out
    ("public-availability", None, "/public/availability"),
    ("public-map", None, "/public/map"),
]
SIZES = ((1280, 900), (768, 1024))


def morning(db) -> dict:
    """A pharmacy's morning, made through the services as the staff would have made it."""
    with unit_of_work(db) as session:
        seed.load_catalogue(session)
        seed.load_network(session)
        seed.load_booking_url(session, T0)
        uptake.load_seed(session, SYSTEM, T0)  # the programme's goals and populations
        create_user(
            session,
            T0,
            username="apotek",
            role="pharmacist",
            site=PHARMACY,
            display_name="Anne Apoteker",
            password=PASSWORD,
        )
        create_user(
            session,
            T0,
            username="admin",
            role="admin",
            display_name="Ada Administrator",
            password=PASSWORD,
        )
        create_user(
            session,
            T0,
            username="bella",
            role="centre_manager",
            site=CENTRE,
            display_name="Bente Centerleder",
            password=PASSWORD,
        )
        create_user(
            session,
            T0,
            username="koordinator",
            role="coordinator",
            region="Hovedstaden",
            display_name="Karl Koordinator",
            password=PASSWORD,
        )

    def receive(lot, unit, vials, product=GREY, expiry=date(2027, 12, 31)) -> int:
        with unit_of_work(db) as session:
            data = custody.ReceiptInput(
                storage_unit=unit,
                vials=vials,
                state=None,
                gtin=gtin_of(product),
                lot=lot,
                expiry=expiry,
            )
            return custody.receive(session, SYSTEM, T0, data).id

    made = {
        "tray": receive("GK2026A", f"{PHARMACY}-ULT1", 195),
        "tray2": receive("GK2026B", f"{PHARMACY}-ULT1", 195),
        "flu": receive("FLU77", f"{PHARMACY}-F1", 50, product=FLU, expiry=date(2026, 11, 25)),
    }
    with unit_of_work(db) as session:
        custody.thaw(session, SYSTEM, T0, made["tray"], storage_unit=f"{PHARMACY}-F1")
        child, held = custody.repack(
            session, SYSTEM, T0, made["tray"], [(10, f"{PHARMACY}-F1"), (20, f"{PHARMACY}-F1")]
        )
        custody.hold(session, SYSTEM, T0, held.id, "fridge door found open")
        shipment = shipments.create_shipment(
            session, SYSTEM, T0, from_site=PHARMACY, to_site="RH-VC-BELLA", cartons=[child.id]
        )
        shipments.create_request(
            session,
            SYSTEM,
            T0,
            site="RH-VC-BELLA",
            product=FLU,
            doses=30,
            needed_on=date(2026, 11, 24),
            note="extra Saturday",
        )
        lot = session.scalar(select(Lot.id).where(Lot.number == "GK2026A"))
        made.update(child=child.id, held=held.id, shipment=shipment.id, lot=lot)
    made.update(centre_day(db, receive("GK2026C", f"{PHARMACY}-ULT1", 10)))
    return made


def centre_day(db, tray: int) -> dict:
    """The centre's fridge saw a hot spell this morning; a shipment from the tray was received
    (one carton rejected), doses given and wasted from it, and another is on the way."""
    with unit_of_work(db) as session:
        devices.register_device(
            session, SYSTEM, T0, device_id="logger-1", storage_unit=FRIDGE, interval_s=600
        )
        start, step = T0 - timedelta(hours=3), timedelta(minutes=10)
        readings = [
            IncomingReading("logger-1", start + i * step, c) for i, c in enumerate(HOT_SPELL)
        ]
        telemetry.ingest(session, readings[-1].ts, IngestBatch(readings=readings))
    with unit_of_work(db) as session:
        custody.thaw(session, SYSTEM, T0, tray, storage_unit=f"{PHARMACY}-F1")
        opened, kept, rejected, later = (
            c.id
            for c in custody.repack(
                session, SYSTEM, T0, tray, [(3, f"{PHARMACY}-F1")] * 2 + [(2, f"{PHARMACY}-F1")] * 2
            )
        )
        received = shipments.create_shipment(
            session,
            SYSTEM,
            T0,
            from_site=PHARMACY,
            to_site=CENTRE,
            cartons=[opened, kept, rejected],
        ).id
        shipments.dispatch(session, SYSTEM, T0, received)
        items = [
            shipments.DeliveryItem(opened, True),
            shipments.DeliveryItem(kept, True),
            shipments.DeliveryItem(rejected, False, "vial cracked in the box"),
        ]
        shipments.receive(session, SYSTEM, T0, received, storage_unit=FRIDGE, items=items)
        custody.administer(session, SYSTEM, T0, opened, 4, group="65+")
        custody.waste(session, SYSTEM, T0, opened, 1, "broken")
        incoming = shipments.create_shipment(
            session, SYSTEM, T0, from_site=PHARMACY, to_site=CENTRE, cartons=[later]
        ).id
        shipments.dispatch(session, SYSTEM, T0, incoming)
        shipped_lot = session.scalar(select(Lot.id).where(Lot.number == "GK2026C"))
    return {
        "opened": opened,
        "received": received,
        "incoming": incoming,
        "shipped_lot": shipped_lot,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/shots")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    only = set(filter(None, args.only.split(",")))

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'screens.sqlite'}"
    migrate(url)
    app = create_app({"DATABASE_URL": url, "CLOCK": FixedClock(T0), "SECRET_KEY": "shots"})
    made = morning(make_session_factory(make_engine(url)))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per screenshot
    try:
        wrong = shoot(base, made, out, only)
    finally:
        server.shutdown()
    if wrong:
        sys.exit("Unexpected answers:\n" + "\n".join(wrong))


def shoot(base: str, made: dict, out: Path, only: set[str]) -> list[str]:
    """Take the screenshots; the screens that answered other than expected."""
    from playwright.sync_api import sync_playwright

    wrong = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for lang in ("da", "en"):
            for width, height in SIZES:
                context = browser.new_context(
                    locale=lang, viewport={"width": width, "height": height}
                )
                page = context.new_page()
                signed_in = None
                for name, person, path in SCREENS:
                    if only and name not in only:
                        continue
                    if person != signed_in:
                        context.clear_cookies()
                        if person:
                            page.goto(f"{base}/login?lang={lang}")
                            page.fill("#username", person)
                            page.fill("#password", PASSWORD)
                            page.click("button.primary")
                            page.wait_for_load_state()
                        signed_in = person
                    target = path.format(**made)
                    joiner = "&" if "?" in target else "?"
                    response = page.goto(f"{base}{target}{joiner}lang={lang}")
                    status = response.status if response else 0
                    if status != (404 if name.startswith("error-") else 200):
                        wrong.append(f"{name} {lang} {width}: {status} {target}")
                    if name.startswith("unit-"):
                        page.wait_for_selector("#chart[data-drawn]")
                    file = out / f"{name}-{lang}-{width}.png"
                    page.screenshot(path=str(file), full_page=True)
                    print(file)
                context.close()
        browser.close()
    return wrong


if __name__ == "__main__":
    main()
