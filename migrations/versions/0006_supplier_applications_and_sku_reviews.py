"""supplier applications and SKU reviews

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_ONLY = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "supplier_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("company_name", sa.String(length=128), nullable=False),
        sa.Column("contact_note", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                name="applicationstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_supplier_applications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_applications")),
    )
    with op.batch_alter_table("supplier_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_applications_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            "uq_supplier_applications_one_pending",
            ["user_id"],
            unique=True,
            sqlite_where=PENDING_ONLY,
            postgresql_where=PENDING_ONLY,
        )

    op.create_table(
        "sku_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("supply_price", sa.BigInteger(), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.Column("authorization_file_id", sa.String(length=256), nullable=True),
        sa.Column("authorization_kind", sa.String(length=16), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                "superseded",
                name="reviewstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("submitted_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sale_price", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_sku_reviews_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sku_reviews")),
    )
    with op.batch_alter_table("sku_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sku_reviews_sku_id"), ["sku_id"], unique=False)
        batch_op.create_index(
            "uq_sku_reviews_one_pending",
            ["sku_id"],
            unique=True,
            sqlite_where=PENDING_ONLY,
            postgresql_where=PENDING_ONLY,
        )


def downgrade() -> None:
    with op.batch_alter_table("sku_reviews", schema=None) as batch_op:
        batch_op.drop_index("uq_sku_reviews_one_pending")
        batch_op.drop_index(batch_op.f("ix_sku_reviews_sku_id"))
    op.drop_table("sku_reviews")

    with op.batch_alter_table("supplier_applications", schema=None) as batch_op:
        batch_op.drop_index("uq_supplier_applications_one_pending")
        batch_op.drop_index(batch_op.f("ix_supplier_applications_user_id"))
    op.drop_table("supplier_applications")
