"""The database as the web app sees it: one session per request, committed in one place."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from inventory.db import make_engine, make_session_factory


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False))
    app.extensions["inventory.engine"] = engine
    app.extensions["inventory.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(_close_session)


def session_factory(app: Flask | None = None):
    return (app or current_app).extensions["inventory.sessions"]


def get_session() -> Session:
    if "session" not in g:
        g.session = session_factory()()
    return g.session


def now():
    return current_app.config["CLOCK"].now()


def _close_session(_exc=None) -> None:
    session = g.pop("session", None)
    if session is not None:
        session.rollback()
        session.close()
