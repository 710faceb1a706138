"""The database as the web app sees it: one session per request, and one transaction
mechanism for every blueprint (the JSON API, the staff pages, the public pages).

A blueprint made `transactional` commits the request's unit of work once its view answered
below 400 and rolls it back otherwise (an error response, an exception, a replayed answer).
A commit that loses a race becomes the domain error `inventory.db.commit` raises, answered
by the app's own error handlers, so each blueprint renders it its own way. Actions given to
`after_commit` (MQTT, webhooks) run only once the commit succeeded."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from inventory.config import SETTINGS_KEY, Settings
from inventory.db import make_engine, make_session_factory
from inventory.db import session as db_session
from inventory.domain.errors import DomainError

BeforeCommit = Callable[[Session, Response], None]


def init_app(app: Flask) -> None:
    app.extensions[SETTINGS_KEY] = config = Settings.from_flask_config(app.config)
    engine = make_engine(config.database_url, echo=config.sql_echo)
    app.extensions["inventory.engine"] = engine
    app.extensions["inventory.sessions"] = make_session_factory(engine)
    reads = engine
    if engine.dialect.name == "postgresql":
        reads = make_engine(config.database_url, echo=config.sql_echo, read_only=True)
        # disposed with the app's engine, as everything that disposes of one expects
        event.listen(engine, "engine_disposed", lambda _engine: reads.dispose())
    app.extensions["inventory.engines"] = (engine, reads)
    app.extensions["inventory.read_sessions"] = make_session_factory(reads)
    app.teardown_appcontext(_close_session)


def settings(app: Flask | None = None) -> Settings:
    """The app's settings, typed (inventory.config)."""
    return (app or current_app).extensions[SETTINGS_KEY]


def session_factory(app: Flask | None = None):
    return (app or current_app).extensions["inventory.sessions"]


def get_session() -> Session:
    if "session" not in g:
        factory = "inventory.read_sessions" if _reads_only() else "inventory.sessions"
        g.session = current_app.extensions[factory]()
    return g.session


def _reads_only() -> bool:
    """An API GET only reads (the HTTP contract): it runs on a read-only engine."""
    return has_request_context() and request.method == "GET" and request.blueprint == "api"


def now():
    return current_app.config["CLOCK"].now()


def after_commit(action: Callable[[], object]) -> None:
    """Run `action` once this request's work is committed; never if it is rolled back."""
    db_session.after_commit(get_session(), action)


def transactional(blueprint: Blueprint, *, before_commit: BeforeCommit | None = None) -> None:
    """Make every request of `blueprint` one unit of work (see the module's docstring).
    `before_commit(session, response)` may add to the work once the view succeeded."""

    @blueprint.after_request
    def finish_request(response: Response) -> Response:
        return finish(response, before_commit)


def finish(response: Response, before_commit: BeforeCommit | None = None) -> Response:
    session = g.get("session")
    if session is None or _reads_only():  # a read has nothing to commit; the teardown closes it
        return response
    if response.status_code >= 400 or response.headers.get("Idempotent-Replay"):
        db_session.rollback(session)
        return response
    try:
        if before_commit is not None:
            before_commit(session, response)
        db_session.commit(session)
    except DomainError as exc:
        # the same handlers as for an error raised in the view; an after_request hook cannot
        # raise, so the answer is made here
        return current_app.make_response(current_app.handle_user_exception(exc))
    return response


def _close_session(_exc=None) -> None:
    session = g.pop("session", None)
    if session is not None:
        session.close()  # ends (rolls back) whatever the request left uncommitted
