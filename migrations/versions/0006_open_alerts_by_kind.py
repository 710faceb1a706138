"""open alerts by kind: every ingest batch ends the silence of the devices it heard from

The batch resolves any open `device_silent` alert of those devices in one statement; this
index finds the (few) open ones of a kind without reading the whole alerts table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_alerts_kind_state", "alerts", ["kind", "state"])


def downgrade() -> None:
    op.drop_index("ix_alerts_kind_state", table_name="alerts")
