"""The test database's own machinery: each test starts from empty tables whose ids start at 1,
and `seeded` gives exactly the rows the seed makes."""

from __future__ import annotations

from sqlalchemy import JSON, func, insert, null, select

from inventory.db import Base
from inventory.db.models import AuditEntry
from tests.conftest import T0, load_seed
from tests.support import database
from tests.support.database import Snapshot, empty_all_tables


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }


def audit_rows(n: int) -> list[dict]:
    return [
        {
            "at": T0,
            "actor": "test",
            "action": "x",
            "entity": "e",
            "entity_id": str(i),
            "before": None,
            "after": {"i": i},
        }
        for i in range(n)
    ]


def next_audit_id(db) -> int:
    with db.begin() as session:
        return session.execute(insert(AuditEntry).returning(AuditEntry.id), audit_rows(1)).scalar()


def test_seeded_holds_exactly_the_rows_the_seed_makes(seeded, engine):
    given = Snapshot(engine)  # copied back from the session's snapshot, or made by the seed
    empty_all_tables(engine)
    load_seed(seeded)
    made = Snapshot(engine)
    assert [name for name, _, _ in made.tables] == [name for name, _, _ in given.tables]
    assert given.tables == made.tables
    assert given.sequences == made.sequences


def test_emptying_empties_every_table_and_ids_start_again_at_1(seeded, engine, monkeypatch):
    assert sum(counts(engine).values()) > 0
    with seeded.begin() as session:
        session.execute(insert(AuditEntry), audit_rows(database.TRUNCATE_FROM_ROWS + 1))
    empty_all_tables(engine)  # a table with many rows is truncated, the others deleted from
    assert set(counts(engine).values()) == {0}
    assert next_audit_id(seeded) == 1

    monkeypatch.setattr(database, "TRUNCATE_AFTER_DELETED", 3)
    for _ in range(3):
        with seeded.begin() as session:
            session.execute(insert(AuditEntry), audit_rows(2))
        empty_all_tables(engine)  # by DELETE, then by TRUNCATE once 3 rows were deleted
        assert set(counts(engine).values()) == {0}
        assert next_audit_id(seeded) == 1
        empty_all_tables(engine)


def test_ids_start_again_even_where_the_rows_were_rolled_back(db, engine):
    session = db()
    session.execute(insert(AuditEntry), audit_rows(3))
    session.rollback()
    session.close()
    empty_all_tables(engine)
    assert next_audit_id(db) == 1


def test_a_snapshot_keeps_a_json_null_apart_from_a_missing_value(db, engine):
    rows = audit_rows(2)
    rows[0]["before"] = JSON.NULL
    rows[1]["before"] = null()
    with db.begin() as session:
        for row in rows:
            session.execute(insert(AuditEntry).values(**row))
    taken = Snapshot(engine)
    empty_all_tables(engine)
    taken.restore(engine)
    with engine.connect() as conn:
        missing = conn.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.before.is_(None)).order_by(AuditEntry.id)
        ).all()
    assert missing == ["1"]
    assert Snapshot(engine).tables == taken.tables
