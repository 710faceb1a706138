"""uptake: administrations by target group and municipality, population, goals; a site's
default target group

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "administrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("custody_event_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("municipality_code", sa.String(4), nullable=True),
        sa.Column("target_group", sa.String(32), nullable=False),
        sa.Column("doses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["custody_event_id"],
            ["custody_events.id"],
            name="fk_administrations_custody_event_id_custody_events",
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_administrations_site_id_sites"),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name="fk_administrations_product_id_products"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_administrations"),
        sa.UniqueConstraint("custody_event_id", name="uq_administrations_custody_event_id"),
    )
    op.create_index("ix_administrations_site_id", "administrations", ["site_id"])
    op.create_index(
        "ix_administrations_day_municipality", "administrations", ["day", "municipality_code"]
    )
    op.create_index("ix_administrations_region_day", "administrations", ["region", "day"])
    op.create_table(
        "population",
        sa.Column("municipality_code", sa.String(4), nullable=False),
        sa.Column("band", sa.String(16), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("municipality_code", "band", name="pk_population"),
    )
    op.create_table(
        "uptake_goals",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("groups", JSON, nullable=False),
        sa.Column("population", JSON, nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_uptake_goals"),
    )
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("default_target_group", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("default_target_group")
    op.drop_table("uptake_goals")
    op.drop_table("population")
    op.drop_index("ix_administrations_region_day", table_name="administrations")
    op.drop_index("ix_administrations_day_municipality", table_name="administrations")
    op.drop_index("ix_administrations_site_id", table_name="administrations")
    op.drop_table("administrations")
