"""roll-ups: vacuumed after every 50,000 new rows, so long charts stay index-only

A 90-day chart reads its unit's hours from the index alone (0011) only where the heap pages
are marked all-visible, which a vacuum does. PostgreSQL's default waits for 20% of the table
in new rows: at national size (5,000 units, 10.8 M roll-ups for 90 days) about 18 days of
hours, which a chart then fetches row by row from as many pages (the 60-70 ms worst cases in
bench/README.md "national"). After every 50,000 new rows (about 10 hours of a national
network) the newest hours are all that a chart reads from the heap. SQLite has no vacuum of
this kind; nothing to do there.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SETTINGS = "autovacuum_vacuum_insert_threshold = 50000, autovacuum_vacuum_insert_scale_factor = 0"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE reading_rollups SET ({SETTINGS})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE reading_rollups RESET "
            "(autovacuum_vacuum_insert_threshold, autovacuum_vacuum_insert_scale_factor)"
        )
