"""Screenshots of the pharmacy's staff pages, Danish and English, at 1280 and 768 px, for a
reviewer to look at (written to a folder, never committed).

    .venv/bin/python -m tests.web.screenshots [--out /tmp/shots] [--only stock,receive]

A fresh SQLite database is migrated and seeded with the network and a pharmacy's morning
(trays received, one thawed and repacked, a carton held, a draft shipment, a stock request, a
lot to recall), the app is served on a free port, and Debian's Chromium visits each screen.
Add a screen by adding a line to SCREENS.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from datetime import date
from pathlib import Path

from sqlalchemy import select
from werkzeug.serving import make_server

from inventory import create_app
from inventory.clock import FixedClock
from inventory.db import make_engine, make_session_factory, unit_of_work
from inventory.db.models import Lot
from inventory.services import custody, seed, shipments
from inventory.services.access import SYSTEM
from inventory.services.users import create_user
from tests.api.helpers import FLU, GREY, gtin_of
from tests.conftest import T0
from tests.support.database import migrate
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD

PHARMACY = "RH-APO"

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
]
SIZES = ((1280, 900), (768, 1024))


def morning(db) -> dict:
    """A pharmacy's morning, made through the services as the staff would have made it."""
    with unit_of_work(db) as session:
        seed.load_catalogue(session)
        seed.load_network(session)
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
    return made


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
    try:
        shoot(base, made, out, only)
    finally:
        server.shutdown()


def shoot(base: str, made: dict, out: Path, only: set[str]) -> None:
    from playwright.sync_api import sync_playwright

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
                    page.goto(f"{base}{target}{joiner}lang={lang}")
                    file = out / f"{name}-{lang}-{width}.png"
                    page.screenshot(path=str(file), full_page=True)
                    print(file)
                context.close()
        browser.close()


if __name__ == "__main__":
    main()
