"""roll-ups: a 90-day chart reads its unit's hours from the index alone

A unit's roll-ups lie scattered through the table (every unit's hour is written together),
so a 90-day chart fetched 2,160 rows from as many heap pages. On PostgreSQL the index also
carries min, max and count (INCLUDE): an index-only scan reads a few pages. Measured by
bench/national.py (bench/README.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_reading_rollups_unit_hour_chart",
        "reading_rollups",
        ["storage_unit_id", "hour"],
        postgresql_include=["min_c", "max_c", "count"],
    )


def downgrade() -> None:
    op.drop_index("ix_reading_rollups_unit_hour_chart", table_name="reading_rollups")
