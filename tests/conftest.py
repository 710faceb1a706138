"""Fixtures shared by every test: a migrated database, a fixed clock, the app and tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inventory import create_app
from inventory.clock import FixedClock
from inventory.db import make_engine, make_session_factory, unit_of_work
from inventory.services.access import Actor
from tests.support.database import Snapshot, empty_all_tables, migrate, test_database_url
from tests.support.routing import share_url_builders

share_url_builders()

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = test_database_url(tmp_path_factory.mktemp("db"))
    migrate(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine):
    """A clean database for each test; yields the session factory."""
    empty_all_tables(engine)
    yield make_session_factory(engine)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def app(db, database_url, clock):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "CLOCK": clock})
    yield app
    app.extensions["inventory.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def load_seed(db) -> None:
    """The seed catalogue and network, the national booking link, the population and goals."""
    from inventory.services import seed, uptake
    from inventory.services.access import SYSTEM

    with unit_of_work(db) as session:
        seed.load_catalogue(session)
        seed.load_network(session)
        seed.load_booking_url(session, T0)
        uptake.load_seed(session, SYSTEM, T0)


@pytest.fixture(scope="session")
def seed_snapshot() -> dict[str, Snapshot]:
    """The rows `seeded` gives, taken the first time the seed runs in this session."""
    return {}


@pytest.fixture
def seeded(db, engine, seed_snapshot):
    """The seed catalogue and network, with the national booking link (load_seed's rows: made
    by the seed once per session, then copied back into each test's emptied database)."""
    if "seed" in seed_snapshot:
        seed_snapshot["seed"].restore(engine)
    else:
        load_seed(db)
        seed_snapshot["seed"] = Snapshot(engine)
    return db


@pytest.fixture
def token(db, clock):
    """make a bearer header for a role (optionally scoped to a site):
    token('pharmacist', site='RH-APO')"""
    from inventory.services.tokens import create_token

    def make(
        role: str, site: str | None = None, region: str | None = None, name: str | None = None
    ) -> dict:
        with unit_of_work(db) as session:
            _, raw = create_token(
                session,
                clock.now(),
                role=role,
                name=name or f"{role}-{site or 'all'}",
                site=site,
                region=region,
            )
        return {"Authorization": f"Bearer {raw}"}

    return make


@pytest.fixture
def pharmacist() -> Actor:
    return Actor(name="pharmacist", role="pharmacist")
