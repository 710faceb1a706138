"""region plans: plans for every hospital pharmacy of a region, made and approved together

A region plan is a row of its own; each of its pharmacies' plans is an ordinary plan that
names it (plans.region_plan_id, empty for a plan made for one pharmacy).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "region_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["region_plans.id"],
            name=op.f("fk_region_plans_superseded_by_id_region_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_plans")),
    )
    with op.batch_alter_table("region_plans", schema=None) as batch_op:
        batch_op.create_index("ix_region_plans_region_status", ["region", "status"], unique=False)

    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_plan_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_plans_region_plan_id"), ["region_plan_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_plans_region_plan_id_region_plans"),
            "region_plans",
            ["region_plan_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_plans_region_plan_id_region_plans"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_plans_region_plan_id"))
        batch_op.drop_column("region_plan_id")

    with op.batch_alter_table("region_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_region_plans_region_status")

    op.drop_table("region_plans")
