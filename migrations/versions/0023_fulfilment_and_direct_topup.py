"""Orders fulfilled later and direct top-up (直充)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 21:00:00

Additive only: ``direct_skus`` (a SKU's account fields and deadline), ``fulfilments`` (an
order delivered later: account, deadline, the unit split, what was delivered, leased by
the deadline sweep), ``order_events`` (each state change), ``quote_accounts`` (the account
a quote is for), ``recharge_accounts`` (a reseller's saved accounts), and the platform's
``fulfilment_hold`` account (what resellers paid for orders not delivered yet). Enum
columns are strings (``native_enum=False``): the new order states need no DDL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = sa.Enum(
    "paid",
    "partly_refunded",
    "refunded",
    "pending",
    "fulfilling",
    "delivered",
    "failed",
    "partially_delivered",
    name="orderstatus",
    native_enum=False,
    length=24,
)


def upgrade() -> None:
    op.create_table(
        "direct_skus",
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("deadline_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint("deadline_minutes > 0", name=op.f("ck_direct_skus_deadline_positive")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_direct_skus_sku_id_skus")),
        sa.PrimaryKeyConstraint("sku_id", name=op.f("pk_direct_skus")),
    )
    op.create_table(
        "fulfilments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unit_supplier", sa.BigInteger(), nullable=False),
        sa.Column("unit_spread", sa.BigInteger(), nullable=False),
        sa.Column("unit_commission", sa.BigInteger(), nullable=False),
        sa.Column("delivered_units", sa.Integer(), nullable=False),
        sa.Column("proof", sa.Text(), nullable=False),
        sa.Column("proof_file_id", sa.String(length=256), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("upstream_sku_id", sa.Integer(), nullable=True),
        sa.Column("upstream_order_id", sa.String(length=64), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fulfilments_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_fulfilments_supplier_id_suppliers")
        ),
        sa.ForeignKeyConstraint(
            ["upstream_sku_id"],
            ["upstream_skus.id"],
            name=op.f("fk_fulfilments_upstream_sku_id_upstream_skus"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_fulfilments_order_id")),
    )
    op.create_index("ix_fulfilments_status_deadline", "fulfilments", ["status", "deadline_at"])
    op.create_index("ix_fulfilments_supplier_status", "fulfilments", ["supplier_id", "status"])
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_events_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    op.create_index(op.f("ix_order_events_order_id"), "order_events", ["order_id"])
    op.create_table(
        "fulfilment_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fulfilment_codes_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilment_codes")),
    )
    op.create_index(op.f("ix_fulfilment_codes_order_id"), "fulfilment_codes", ["order_id"])
    op.create_table(
        "quote_accounts",
        sa.Column("quote_id", sa.String(length=32), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quotes.id"], name=op.f("fk_quote_accounts_quote_id_quotes")
        ),
        sa.PrimaryKeyConstraint("quote_id", name=op.f("pk_quote_accounts")),
    )
    op.create_table(
        "recharge_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("fields_key", sa.String(length=200), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recharge_accounts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recharge_accounts")),
        sa.UniqueConstraint("user_id", "fields_key", "values", name="uq_recharge_accounts_values"),
    )
    op.create_index(
        "ix_recharge_accounts_user_fields", "recharge_accounts", ["user_id", "fields_key"]
    )
    accounts = sa.table("accounts", sa.column("kind"), sa.column("owner_id"), sa.column("balance"))
    op.bulk_insert(accounts, [{"kind": "fulfilment_hold", "owner_id": 0, "balance": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM accounts WHERE kind = 'fulfilment_hold'")
    op.drop_index("ix_recharge_accounts_user_fields", table_name="recharge_accounts")
    op.drop_table("recharge_accounts")
    op.drop_table("quote_accounts")
    op.drop_index(op.f("ix_fulfilment_codes_order_id"), table_name="fulfilment_codes")
    op.drop_table("fulfilment_codes")
    op.drop_index(op.f("ix_order_events_order_id"), table_name="order_events")
    op.drop_table("order_events")
    op.drop_index("ix_fulfilments_supplier_status", table_name="fulfilments")
    op.drop_index("ix_fulfilments_status_deadline", table_name="fulfilments")
    op.drop_table("fulfilments")
    op.drop_table("direct_skus")
