"""The connection pool tries a connection that lay idle before handing it out: one the server
closed meanwhile is replaced, and the request that gets it never sees the error."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from inventory.db import make_engine
from inventory.db import session as db_session


@pytest.mark.postgres
def test_a_connection_closed_by_the_server_while_idle_is_replaced(database_url, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("the server closing a connection is PostgreSQL's")
    engine = make_engine(database_url)
    try:
        first = engine.connect()
        pid = first.execute(text("SELECT pg_backend_pid()")).scalar()
        first.rollback()
        other = engine.connect()
        first.close()  # back in the pool, idle
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.commit()
        other.close()
        monkeypatch.setattr(db_session, "PING_AFTER_IDLE_S", 0.0)  # as if long idle
        pids = set()
        for _ in range(2):
            with engine.connect() as conn:
                pids.add(conn.execute(text("SELECT pg_backend_pid()")).scalar())
        assert pid not in pids
    finally:
        engine.dispose()
