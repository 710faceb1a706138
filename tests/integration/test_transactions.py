"""One transaction path: a web request of any transactional blueprint and a unit of work
commit the same way, roll back unless the work completed, turn lost races into one domain
error, and run side effects only after the commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Blueprint, jsonify
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from inventory import jobs
from inventory.clock import FixedClock
from inventory.db import ConcurrentUpdate, after_commit, as_conflict, unit_of_work
from inventory.db.models import Product
from inventory.db.telemetry import Alert
from inventory.domain.errors import Conflict, InvalidInput
from inventory.services import alerts
from inventory.web_db import after_commit as after_request_commit
from inventory.web_db import get_session, transactional
from tests.conftest import T0


def product(code: str) -> Product:
    return Product(
        code=code,
        name=code,
        programme="influenza",
        doses_per_vial=1,
        storage_profile={},
        thaw_lead_hours=0,
    )


def codes(factory) -> set[str]:
    with unit_of_work(factory) as session:
        return set(session.scalars(select(Product.code).where(Product.code.like("tx-%"))))


@pytest.fixture
def pages(app):
    """A blueprint outside the API, made transactional the way the staff pages are."""
    bp = Blueprint("tx_pages", __name__, url_prefix="/tx")
    transactional(bp)
    ran: list[str] = []

    @bp.post("/ok/<code>")
    def ok(code):
        get_session().add(product(code))
        after_request_commit(lambda: ran.append(code))
        return jsonify(code)

    @bp.post("/refused/<code>")
    def refused(code):
        get_session().add(product(code))
        after_request_commit(lambda: ran.append(code))
        get_session().flush()
        raise InvalidInput("no", fields={"code": ["no"]})

    @bp.post("/answered-400/<code>")
    def answered_400(code):
        get_session().add(product(code))
        after_request_commit(lambda: ran.append(code))
        return jsonify(error="no"), 400

    @bp.post("/twice/<code>")
    def twice(code):
        # the duplicate fails only at the commit, after the view has answered
        get_session().add(product(code))
        after_request_commit(lambda: ran.append(code))
        with unit_of_work(app.extensions["inventory.sessions"]) as other:
            other.add(product(code))
        return jsonify(code)

    app.register_blueprint(bp)
    return app.test_client(), ran


def test_a_blueprint_commits_when_its_view_succeeds_and_then_runs_the_side_effects(db, pages):
    client, ran = pages
    assert client.post("/tx/ok/tx-a").status_code == 200
    assert codes(db) == {"tx-a"} and ran == ["tx-a"]


def test_an_error_raised_or_answered_rolls_back_and_runs_no_side_effect(db, pages):
    client, ran = pages
    response = client.post("/tx/refused/tx-b")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid"
    assert client.post("/tx/answered-400/tx-c").status_code == 400
    assert codes(db) == set() and ran == []


def test_a_commit_that_conflicts_is_a_409_through_the_apps_error_handlers(db, pages):
    client, ran = pages
    response = client.post("/tx/twice/tx-d")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert ran == []  # the side effect of the lost request never ran
    assert codes(db) == {"tx-d"}  # only the other transaction's row


def test_a_unit_of_work_runs_side_effects_after_its_commit_only(db):
    ran = []
    with unit_of_work(db) as session:
        session.add(product("tx-e"))
        after_commit(session, lambda: ran.append(codes(db)))
    assert ran == [{"tx-e"}]  # the action saw the committed row
    with pytest.raises(RuntimeError), unit_of_work(db) as session:
        session.add(product("tx-f"))
        after_commit(session, lambda: ran.append("never"))
        raise RuntimeError("the work did not complete")
    assert ran == [{"tx-e"}] and codes(db) == {"tx-e"}


def test_a_unit_of_work_maps_a_conflicting_commit_to_one_domain_error(db):
    with unit_of_work(db) as session:
        session.add(product("tx-g"))
    with pytest.raises(Conflict) as caught, unit_of_work(db) as session:
        session.add(product("tx-g"))
    assert caught.value.code == "conflict"
    assert isinstance(caught.value.__cause__, IntegrityError)
    assert isinstance(as_conflict(caught.value.__cause__), Conflict)
    assert ConcurrentUpdate.code == "concurrent_update"


def _alert(session, at) -> Alert:
    return alerts.raise_alert(session, T0, kind="device_silent", site_id=1, at=at, message="silent")


def test_alerts_are_published_outside_the_transaction_and_marked_only_once_sent(seeded):
    with unit_of_work(seeded) as session:
        first, second, third = (_alert(session, T0 + timedelta(minutes=i)) for i in range(3))
        ids = [first.id, second.id, third.id]
    seen: list[int] = []

    def publish(topic: str, body: bytes) -> None:
        # outside any transaction: another connection sees the alert still unpublished
        with unit_of_work(seeded) as other:
            assert other.get(Alert, ids[len(seen)]).published_at is None
        if len(seen) == 2:
            raise ConnectionError("the broker went away")
        seen.append(len(seen))

    with pytest.raises(ConnectionError):
        alerts.publish_pending_alerts(seeded, FixedClock(T0), publish)
    with unit_of_work(seeded) as session:
        published = [session.get(Alert, i).published_at for i in ids]
    # the two the broker took stay published; the third waits for the next round
    assert published == [T0, T0, None]
    sent = []
    result = jobs.deliver_alerts(seeded, FixedClock(T0), publish=lambda t, b: sent.append(t))
    assert result.published == 1 and len(sent) == 1


def test_an_api_read_runs_outside_a_transaction_and_cannot_write(app, database_url, seeded):
    """On PostgreSQL an API GET's session is on connections that pay no BEGIN and COMMIT and
    refuse every write; a POST's is the usual transaction. (SQLite has one engine.)"""
    if not database_url.startswith("postgresql"):
        pytest.skip("the read-only engine is PostgreSQL's")
    setting = text("SELECT current_setting('transaction_read_only')")
    with app.test_request_context("/api/v1/stock?site=RH-APO", method="GET"):
        session = get_session()
        assert session.scalar(setting) == "on"
        assert session.scalar(select(Product.code).limit(1))  # reads work
        with pytest.raises(DBAPIError, match="read-only transaction"):
            session.execute(text("UPDATE products SET name = name"))
    with app.test_request_context("/api/v1/receipts", method="POST"):
        assert get_session().scalar(setting) == "off"
    with app.test_request_context("/stock", method="GET"):  # the staff pages: as before
        assert get_session().scalar(setting) == "off"
