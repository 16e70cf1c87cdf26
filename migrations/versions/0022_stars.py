"""Telegram Stars: the rate admins set (fen per star) and refunds of Stars payments

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 21:10:00

Additive only: two new tables. ``stars_rates`` keeps every rate set (the newest is in
force); ``stars_refunds`` one row per refunded payment, with its reversing transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stars_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fen_per_star", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("fen_per_star > 0", name=op.f("ck_stars_rates_rate_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stars_rates")),
    )
    op.create_table(
        "stars_refunds",
        sa.Column("payment_id", sa.String(length=32), nullable=False),
        sa.Column("charge_id", sa.String(length=128), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("stars", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "refunded", name="starsrefundstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_stars_refunds_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_stars_refunds_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_stars_refunds")),
    )


def downgrade() -> None:
    op.drop_table("stars_refunds")
    op.drop_table("stars_rates")
