"""sites people can find: address, municipality, coordinates, opening hours, slots, booking link

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("address", sa.String(200), nullable=True))
        batch.add_column(sa.Column("postcode", sa.String(4), nullable=True))
        batch.add_column(sa.Column("town", sa.String(64), nullable=True))
        batch.add_column(sa.Column("municipality_code", sa.String(4), nullable=True))
        batch.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch.add_column(sa.Column("lon", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column(
                "opening_hours",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("slots_per_hour", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("drop_in", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("booking_url", sa.String(500), nullable=True))
        batch.add_column(sa.Column("accessibility", sa.Text(), nullable=True))
        batch.create_index("ix_sites_municipality_code", ["municipality_code"])


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_index("ix_sites_municipality_code")
        for column in (
            "accessibility",
            "booking_url",
            "drop_in",
            "slots_per_hour",
            "opening_hours",
            "lon",
            "lat",
            "municipality_code",
            "town",
            "postcode",
            "address",
        ):
            batch.drop_column(column)
