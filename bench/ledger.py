"""Benchmark: a custody ledger of 1,000,000 events; time the recall trace of one lot and the
stock-on-hand view of one site, through the same services the API calls. Then a national
booking load (about 300 vaccination sites, 300,000 appointments over 8 weeks): time the honest
capacity the booking side asks for, per site, per region and for the whole country (what the
public availability page computes once a minute).

    python bench/ledger.py [--events 1000000] [--backend postgresql|sqlite|both]
                           [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

Prints figures; asserts nothing (target: the ledger views each under 50 ms on PostgreSQL;
capacity has no target).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from inventory.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from inventory.db.models import Carton, CustodyEvent, Lot, Product, Site, StorageUnit  # noqa: E402
from inventory.db.planning import Appointment  # noqa: E402
from inventory.seed_data import REGIONS  # noqa: E402
from inventory.services import capacity, lots, seed, stock  # noqa: E402
from inventory.services.access import SYSTEM  # noqa: E402
from inventory.services.appointments import VACCINATION_SITE_KINDS  # noqa: E402
from inventory.services.paging import PageRequest  # noqa: E402
from tests.support.database import _admin, migrate  # noqa: E402

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def populate(factory, events_wanted: int, seed_value: int = 7) -> dict:
    """Lots split into cartons across the network; each carton received, some repacked,
    shipped, used and wasted, until the ledger holds `events_wanted` events."""
    rng = random.Random(seed_value)
    with unit_of_work(factory) as session:
        seed.load_catalogue(session)
        seed.load_network(session)
    with unit_of_work(factory) as session:
        products = session.scalars(select(Product)).all()
        sites = session.execute(select(Site.id, Site.code)).all()
        units = {}
        for unit_id, site_id in session.execute(select(StorageUnit.id, StorageUnit.site_id)):
            units.setdefault(site_id, unit_id)
    events_per_carton = 10
    n_cartons = events_wanted // events_per_carton
    n_lots = max(50, n_cartons // 400)
    with unit_of_work(factory) as session:
        lot_rows = [
            {
                "product_id": products[i % len(products)].id,
                "number": f"L{i:06d}",
                "expiry": date(2027, 6, 30),
            }
            for i in range(n_lots)
        ]
        session.execute(insert(Lot), lot_rows)
        lot_ids = session.scalars(select(Lot.id).order_by(Lot.id)).all()
        lot_product = dict(session.execute(select(Lot.id, Lot.product_id)).all())
    next_id = 1
    batch = 20_000
    for start in range(0, n_cartons, batch):
        cartons, events = [], []
        for carton_id in range(next_id, next_id + min(batch, n_cartons - start)):
            lot_id = rng.choice(lot_ids)
            site_id, _ = rng.choice(sites)
            doses = 60
            administered = [rng.randint(1, 4) for _ in range(events_per_carton - 4)]
            left = doses - sum(administered)
            cartons.append(
                {
                    "id": carton_id,
                    "lot_id": lot_id,
                    "product_id": lot_product[lot_id],
                    "site_id": site_id,
                    "storage_unit_id": units.get(site_id),
                    "state": "thawed",
                    "status": "available" if left else "consumed",
                    "vials": 10,
                    "doses": left,
                    "received_doses": doses,
                    "bud": T0 + timedelta(days=rng.randint(5, 60)),
                    "room_temp_hours": 0.0,
                    "open_vial_doses": 0,
                    "exposure_s": 0.0,
                    "created_at": T0,
                    "in_transit": False,
                    "version": 1,
                }
            )
            at = T0
            common = {
                "carton_id": carton_id,
                "lot_id": lot_id,
                "actor": "bench",
                "from_site_id": site_id,
            }
            events.append(
                {
                    **common,
                    "at": at,
                    "kind": "receive",
                    "doses": doses,
                    "change": doses,
                    "to_site_id": site_id,
                }
            )
            for kind in ("thaw", "dispatch", "receive_shipment"):
                at += timedelta(hours=1)
                events.append({**common, "at": at, "kind": kind, "doses": doses, "change": 0})
            for n in administered:
                at += timedelta(minutes=10)
                events.append(
                    {
                        **common,
                        "at": at,
                        "kind": "administer",
                        "doses": n,
                        "change": -n,
                        "bucket": "administered",
                    }
                )
        with unit_of_work(factory) as session:
            session.execute(insert(Carton), cartons)
            session.execute(
                insert(CustodyEvent), [{"bucket": None, "to_site_id": None, **e} for e in events]
            )
        next_id += len(cartons)
    with unit_of_work(factory) as session:
        total = session.scalar(select(func.count(CustodyEvent.id)))
        busiest_lot = session.scalar(
            select(Carton.lot_id).group_by(Carton.lot_id).order_by(func.count().desc()).limit(1)
        )
        busiest_site = session.scalar(
            select(Site.code)
            .join(Carton, Carton.site_id == Site.id)
            .group_by(Site.code)
            .order_by(func.count().desc())
            .limit(1)
        )
    if factory.kw["bind"].dialect.name == "postgresql":
        with factory.kw["bind"].connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()  # else the statistics are rolled back with the transaction
    return {
        "events": total,
        "cartons": n_cartons,
        "lots": n_lots,
        "lot": busiest_lot,
        "site": busiest_site,
    }


def populate_bookings(factory, seed_value: int = 11) -> dict:
    """GP practices up to the national count (about 290), stock at each, and eight weeks of
    booked appointments: centres about 150 a day, GP practices 10 on three days a week,
    mobile units 20 a day."""
    rng = random.Random(seed_value)
    with unit_of_work(factory) as session:
        session.execute(
            insert(Site),
            [
                {
                    "code": f"BENCH-G{i:03d}",
                    "name": f"Bench GP practice {i}",
                    "kind": "gp_practice",
                    "region": REGIONS[i % len(REGIONS)],
                }
                for i in range(250)
            ],
        )
        products = session.scalars(select(Product.id)).all()
        sites = session.execute(
            select(Site.id, Site.kind, Site.region).where(Site.kind.in_(VACCINATION_SITE_KINDS))
        ).all()
        lot_of = {}
        for lot_id, product_id in session.execute(select(Lot.id, Lot.product_id)):
            lot_of.setdefault(product_id, lot_id)
        first_id = (session.scalar(select(func.max(Carton.id))) or 0) + 1
        cartons = []
        for site_id, kind, _ in sites:
            if kind != "gp_practice" or len(cartons) >= 250 * 20:
                continue
            for _ in range(20):
                product_id = rng.choice(products)
                cartons.append(
                    {
                        "id": first_id + len(cartons),
                        "lot_id": lot_of[product_id],
                        "product_id": product_id,
                        "site_id": site_id,
                        "state": "thawed",
                        "status": "available",
                        "vials": 10,
                        "doses": 60,
                        "received_doses": 60,
                        "bud": T0 + timedelta(days=rng.randint(5, 60)),
                        "room_temp_hours": 0.0,
                        "open_vial_doses": 0,
                        "exposure_s": 0.0,
                        "created_at": T0,
                        "in_transit": False,
                        "version": 1,
                    }
                )
        session.execute(insert(Carton), cartons)
    per_day = {"vaccination_centre": 150, "mobile_unit": 20, "gp_practice": 10}
    rows = []
    for site_id, kind, _ in sites:
        offered = rng.sample(products, 2)
        for d in range(56):
            if kind == "gp_practice" and d % 7 not in (0, 2, 4):
                continue
            day = T0.date() + timedelta(days=d)
            for n in range(rng.randint(per_day[kind] // 2, per_day[kind] * 3 // 2)):
                rows.append(
                    {
                        "ref": f"B{len(rows):07d}",
                        "site_id": site_id,
                        "day": day,
                        "slot": f"{8 + n % 10:02d}:{n % 6 * 10:02d}",
                        "product_id": rng.choice(offered),
                        "status": "booked",
                        "target_group": "65+",
                        "created_at": T0,
                        "updated_at": T0,
                    }
                )
    for i in range(0, len(rows), 20_000):
        with unit_of_work(factory) as session:
            session.execute(insert(Appointment), rows[i : i + 20_000])
    if factory.kw["bind"].dialect.name == "postgresql":
        with factory.kw["bind"].connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()  # else the statistics are rolled back with the transaction
    return {"sites": len(sites), "appointments": len(rows)}


def timed(action, repeat: int = 30) -> tuple[float, float]:
    action()  # warm
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        action()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def run_backend(name: str, url: str, events: int) -> None:
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    t = time.perf_counter()
    shape = populate(factory, events)
    load_s = time.perf_counter() - t

    def trace():
        with unit_of_work(factory) as session:
            result = lots.trace(session, SYSTEM, shape["lot"])
            len(result["cartons"])

    def on_hand():
        with unit_of_work(factory) as session:
            stock.stock_on_hand(session, SYSTEM, shape["site"])

    def fefo_list():
        with unit_of_work(factory) as session:
            stock.list_cartons(session, SYSTEM, site=shape["site"], page=PageRequest(200))

    print(
        f"\n{name}: {shape['events']:,} ledger events, {shape['cartons']:,} cartons, {shape['lots']} lots "
        f"(loaded in {load_s:.0f} s)"
    )
    for label, action in (
        ("recall trace of one lot", trace),
        ("stock on hand of one site", on_hand),
        ("FEFO carton list of one site (200)", fefo_list),
    ):
        median, p95 = timed(action)
        print(f"  {label:38s} median {median:7.1f} ms   p95 {p95:7.1f} ms")

    t = time.perf_counter()
    booked = populate_bookings(factory)
    print(
        f"  {booked['sites']} vaccination sites, {booked['appointments']:,} appointments "
        f"(loaded in {time.perf_counter() - t:.0f} s)"
    )
    at = T0 + timedelta(hours=8)

    def free(region=None, site=None, days=14):
        def action():
            with unit_of_work(factory) as session:
                sites = capacity.sites_in_scope(session, None, site=site, region=region)
                first = at.date()
                capacity.capacity(session, at, sites, first, first + timedelta(days=days - 1))

        return action

    with unit_of_work(factory) as session:
        one_site = session.scalar(
            select(Site.code).where(Site.kind == "vaccination_centre").limit(1)
        )
    for label, action, repeat in (
        ("capacity, one centre, 14 days", free(site=one_site), 30),
        ("capacity, Hovedstaden, 14 days", free(region="Hovedstaden"), 10),
        ("capacity, Hovedstaden, 92 days", free(region="Hovedstaden", days=92), 10),
        ("capacity, all sites, 14 days (public)", free(), 10),
    ):
        median, p95 = timed(action, repeat)
        print(f"  {label:38s} median {median:7.1f} ms   p95 {p95:7.1f} ms")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.backend in ("postgresql", "both"):
        name = f"bench_ledger_{uuid.uuid4().hex[:8]}"
        _admin(args.pg_url, f'CREATE DATABASE "{name}"')
        try:
            run_backend("PostgreSQL", args.pg_url.rsplit("/", 1)[0] + "/" + name, args.events)
        finally:
            _admin(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run_backend("SQLite", f"sqlite:///{tmp}/ledger.sqlite", args.events)


if __name__ == "__main__":
    main()
