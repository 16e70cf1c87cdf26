"""Upstreams (货源对接): the registry, price rules, mirrored products, the change log

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 21:05:00

Additive only: four new tables. ``accounts.kind`` gains the value ``upstream_prepaid``
(a non-native enum: a string column, no schema change).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "upstreams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("base_url", sa.String(length=255), nullable=False),
        sa.Column("key_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("secret_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("last_sync_at", _AT, nullable=True),
        sa.Column("last_sync_ok_at", _AT, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_balance", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_upstreams_supplier_id_suppliers")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_upstreams_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstreams")),
        sa.UniqueConstraint("name", name=op.f("uq_upstreams_name")),
        sa.UniqueConstraint("supplier_id", name=op.f("uq_upstreams_supplier_id")),
    )
    op.create_table(
        "upstream_price_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upstream_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("markup_bps", sa.Integer(), nullable=False),
        sa.Column("markup_fixed", sa.BigInteger(), nullable=False),
        sa.Column("round_to", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "markup_bps >= 0 AND markup_fixed >= 0",
            name=op.f("ck_upstream_price_rules_markup_non_negative"),
        ),
        sa.CheckConstraint("round_to >= 1", name=op.f("ck_upstream_price_rules_round_to_positive")),
        sa.ForeignKeyConstraint(
            ["upstream_id"],
            ["upstreams.id"],
            name=op.f("fk_upstream_price_rules_upstream_id_upstreams"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_upstream_price_rules_category_id_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_price_rules")),
        sa.UniqueConstraint("upstream_id", "category_id", name="uq_upstream_price_rules_scope"),
    )
    op.create_index(
        op.f("ix_upstream_price_rules_upstream_id"), "upstream_price_rules", ["upstream_id"]
    )
    op.create_table(
        "upstream_skus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upstream_id", sa.Integer(), nullable=False),
        sa.Column("product_ref", sa.String(length=64), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("face_value", sa.BigInteger(), nullable=True),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("selling", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("account_fields", sa.Text(), nullable=False),
        sa.Column("suspended_reason", sa.String(length=24), nullable=True),
        sa.Column("synced_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["upstream_id"], ["upstreams.id"], name=op.f("fk_upstream_skus_upstream_id_upstreams")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_upstream_skus_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_skus")),
        sa.UniqueConstraint("sku_id", name=op.f("uq_upstream_skus_sku_id")),
        sa.UniqueConstraint("upstream_id", "product_ref", name="uq_upstream_skus_ref"),
    )
    op.create_table(
        "upstream_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upstream_id", sa.Integer(), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=True),
        sa.Column("old_value", sa.BigInteger(), nullable=True),
        sa.Column("new_value", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upstream_id"],
            ["upstreams.id"],
            name=op.f("fk_upstream_changes_upstream_id_upstreams"),
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_upstream_changes_sku_id_skus")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_changes")),
    )
    op.create_index("ix_upstream_changes_upstream_at", "upstream_changes", ["upstream_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_upstream_changes_upstream_at", table_name="upstream_changes")
    op.drop_table("upstream_changes")
    op.drop_table("upstream_skus")
    op.drop_index(op.f("ix_upstream_price_rules_upstream_id"), table_name="upstream_price_rules")
    op.drop_table("upstream_price_rules")
    op.drop_table("upstreams")
