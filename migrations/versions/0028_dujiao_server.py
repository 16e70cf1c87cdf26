"""Kameng as a Dujiao-Next upstream: keys enabled for the protocol, the shops' orders

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-04 22:10:00

Additive only: two new tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    now = sa.DateTime(timezone=True)
    op.create_table(
        "dujiao_access",
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", now, nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_dujiao_access_api_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("api_key_id", name=op.f("pk_dujiao_access")),
    )
    op.create_table(
        "dujiao_orders",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("order_no", sa.String(length=128), nullable=False),
        sa.Column("callback_url", sa.String(length=512), nullable=True),
        sa.Column("created_at", now, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_dujiao_orders_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_dujiao_orders")),
    )


def downgrade() -> None:
    op.drop_table("dujiao_orders")
    op.drop_table("dujiao_access")
