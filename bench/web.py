"""Benchmark: server time of the staff pages people open all day (stock, holds, today) on the
1,000,000-event ledger of bench/ledger.py, on PostgreSQL.

    python bench/web.py [--events 1000000] [--repeat 40]
                        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

The ledger and eight weeks of national bookings are made as bench/ledger.py makes them; 1% of
the cartons at the busiest pharmacy and centre are put on hold. Each page is asked for through
the whole application in this process (routing, session, sign-in check, services, templates),
signed in as the person who works there, so the time is the server's without the network.
Prints median and p95 per page; asserts nothing (target: p95 under 100 ms).
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, update  # noqa: E402

from bench.ledger import T0, populate, populate_bookings, timed  # noqa: E402
from inventory import create_app  # noqa: E402
from inventory.clock import FixedClock  # noqa: E402
from inventory.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from inventory.db.models import Carton, Hold, Site  # noqa: E402
from inventory.services.users import create_user  # noqa: E402
from tests.support.database import _admin, migrate  # noqa: E402

PASSWORD = "bench password 1"


def busiest(session, kind: str) -> str:
    return session.scalar(
        select(Site.code)
        .join(Carton, Carton.site_id == Site.id)
        .where(Site.kind == kind)
        .group_by(Site.code)
        .order_by(func.count().desc())
        .limit(1)
    )


def hold_some(session, site_code: str, share: float = 0.01) -> int:
    site_id = session.scalar(select(Site.id).where(Site.code == site_code))
    ids = session.scalars(
        select(Carton.id).where(Carton.site_id == site_id, Carton.status == "available")
    ).all()
    chosen = ids[:: max(1, int(1 / share))]
    session.execute(update(Carton).where(Carton.id.in_(chosen)).values(status="held"))
    session.add_all(
        Hold(carton_id=i, reason="bench", kind="manual", placed_at=T0, placed_by="bench")
        for i in chosen
    )
    return len(chosen)


def signed_in(app, username: str):
    client = app.test_client()
    page = client.get("/login?lang=en").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 303, answer.status_code
    return client


def run(url: str, events: int, repeat: int) -> None:
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    shape = populate(factory, events)
    booked = populate_bookings(factory)
    with unit_of_work(factory) as session:
        pharmacy = busiest(session, "hospital_pharmacy")
        centre = busiest(session, "vaccination_centre")
        held = {code: hold_some(session, code) for code in (pharmacy, centre)}
        for username, role, site in (
            ("pharmacist", "pharmacist", pharmacy),
            ("manager", "centre_manager", centre),
        ):
            create_user(
                session,
                T0,
                username=username,
                role=role,
                site=site,
                display_name=username,
                password=PASSWORD,
            )
        on_hand = dict(
            session.execute(
                select(Site.code, func.count(Carton.id))
                .join(Carton, Carton.site_id == Site.id)
                .where(Site.code.in_((pharmacy, centre)), Carton.status == "available")
                .group_by(Site.code)
            ).all()
        )
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(
        f"{shape['events']:,} ledger events, {shape['cartons']:,} cartons; "
        f"{booked['appointments']:,} appointments at {booked['sites']} sites"
    )
    print(
        f"pharmacy {pharmacy}: {on_hand.get(pharmacy, 0):,} cartons on hand, {held[pharmacy]} held; "
        f"centre {centre}: {on_hand.get(centre, 0):,} on hand, {held[centre]} held"
    )
    app = create_app({"DATABASE_URL": url, "CLOCK": FixedClock(T0), "SECRET_KEY": "bench"})
    pages = [
        ("pharmacist", "/stock", "stock, the pharmacy's first page"),
        ("pharmacist", "/holds", "holds worklist, the pharmacy"),
        ("manager", "/stock", "stock, the centre's first page"),
        ("manager", "/holds", "holds worklist, the centre"),
    ]
    if "centre.today" in app.view_functions:
        pages.append(("manager", "/today", "today, the centre"))
    clients = {name: signed_in(app, name) for name in ("pharmacist", "manager")}
    print(f"\n{'page':40s} {'median':>10s} {'p95':>10s}   (server time, {repeat} requests)")
    for who, path, label in pages:
        client = clients[who]

        def ask(client=client, path=path):
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code)

        median, p95 = timed(ask, repeat)
        print(f"{label:40s} {median:7.1f} ms {p95:7.1f} ms")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"bench_web_{uuid.uuid4().hex[:8]}"
    _admin(args.pg_url, f'CREATE DATABASE "{name}"')
    try:
        run(args.pg_url.rsplit("/", 1)[0] + "/" + name, args.events, args.repeat)
    finally:
        _admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
