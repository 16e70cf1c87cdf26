"""Featured placement auctions, brand zones, paid services; their revenue accounts

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 21:00:00

Additive only: new tables, and the platform's accounts ``platform_ads``,
``platform_services`` and ``platform_data`` (owner 0) that this revenue is posted to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_ACCOUNTS = ("platform_ads", "platform_services", "platform_data")


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=24)


def upgrade() -> None:
    now = sa.DateTime(timezone=True)
    op.create_table(
        "ad_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column(
            "placement", _enum("home", "category", "search", name="adplacement"), nullable=False
        ),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("reserve", sa.BigInteger(), nullable=False),
        sa.Column("created_at", now, nullable=False),
        sa.CheckConstraint("period_days > 0", name=op.f("ck_ad_slots_period_positive")),
        sa.CheckConstraint("reserve >= 0", name=op.f("ck_ad_slots_reserve_non_negative")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_ad_slots_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_slots")),
        sa.UniqueConstraint("name", name=op.f("uq_ad_slots_name")),
    )
    op.create_table(
        "ad_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("closes_at", now, nullable=False),
        sa.Column("ends_at", now, nullable=False),
        sa.Column("status", _enum("open", "sold", "unsold", name="adroundstatus"), nullable=False),
        sa.Column("winner_bid_id", sa.Integer(), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("sku_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["ad_slots.id"], name=op.f("fk_ad_rounds_slot_id_ad_slots")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_ad_rounds_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_rounds")),
        sa.UniqueConstraint("slot_id", "closes_at", name="uq_ad_rounds_slot_closes"),
    )
    op.create_index(op.f("ix_ad_rounds_slot_id"), "ad_rounds", ["slot_id"])
    op.create_index(op.f("ix_ad_rounds_ends_at"), "ad_rounds", ["ends_at"])
    op.create_table(
        "ad_bids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("placed_at", now, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ad_bids_amount_positive")),
        sa.ForeignKeyConstraint(
            ["round_id"], ["ad_rounds.id"], name=op.f("fk_ad_bids_round_id_ad_rounds")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_ad_bids_supplier_id_suppliers")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_ad_bids_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_bids")),
        sa.UniqueConstraint("round_id", "supplier_id", name="uq_ad_bids_round_supplier"),
    )
    op.create_index(op.f("ix_ad_bids_round_id"), "ad_bids", ["round_id"])
    op.create_table(
        "brand_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("share_bps", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("starts_at", now, nullable=False),
        sa.Column("ends_at", now, nullable=False),
        sa.Column("created_at", now, nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_brand_zones_window_not_empty")),
        sa.CheckConstraint(
            "fee >= 0 AND share_bps >= 0 AND share_bps <= 10000", name=op.f("ck_brand_zones_terms")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_brand_zones_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_zones")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_brand_zones_idempotency_key")),
    )
    op.create_index(op.f("ix_brand_zones_supplier_id"), "brand_zones", ["supplier_id"])
    op.create_index(op.f("ix_brand_zones_ends_at"), "brand_zones", ["ends_at"])
    op.create_table(
        "service_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            _enum(
                "search_boost",
                "analytics_report",
                "broadcast_credits",
                "demand_report",
                name="servicekind",
            ),
            nullable=False,
        ),
        sa.Column("billing", _enum("once", "monthly", name="servicebilling"), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_service_offers_price_positive")),
        sa.CheckConstraint("days > 0", name=op.f("ck_service_offers_days_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_offers")),
        sa.UniqueConstraint("code", name=op.f("uq_service_offers_code")),
    )
    op.create_table(
        "service_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "payer_kind",
            _enum(
                "reseller_balance",
                "supplier_payable",
                "platform_spread",
                "platform_commission",
                "topup_clearing",
                "payout_clearing",
                "platform_interest",
                "reseller_interest",
                *NEW_ACCOUNTS,
                name="accountkind",
            ),
            nullable=False,
        ),
        sa.Column("payer_owner", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            _enum("active", "expired", "stopped", name="subscriptionstatus"),
            nullable=False,
        ),
        sa.Column("starts_at", now, nullable=False),
        sa.Column("ends_at", now, nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("created_at", now, nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["service_offers.id"],
            name=op.f("fk_service_subscriptions_offer_id_service_offers"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_service_subscriptions_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_service_subscriptions_sku_id_skus")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_subscriptions")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_service_subscriptions_idempotency_key")
        ),
    )
    op.create_index(op.f("ix_service_subscriptions_user_id"), "service_subscriptions", ["user_id"])
    op.create_index(op.f("ix_service_subscriptions_ends_at"), "service_subscriptions", ["ends_at"])
    accounts = sa.table("accounts", sa.column("kind"), sa.column("owner_id"), sa.column("balance"))
    op.bulk_insert(accounts, [{"kind": k, "owner_id": 0, "balance": 0} for k in NEW_ACCOUNTS])


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM accounts WHERE owner_id = 0 AND kind IN :kinds").bindparams(
            sa.bindparam("kinds", NEW_ACCOUNTS, expanding=True)
        )
    )
    for table in (
        "service_subscriptions",
        "service_offers",
        "brand_zones",
        "ad_bids",
        "ad_rounds",
        "ad_slots",
    ):
        op.drop_table(table)
