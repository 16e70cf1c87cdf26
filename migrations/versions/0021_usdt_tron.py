"""USDT on TRON: transfers seen on the chain, payable amounts held, the exchange rate

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 21:00:00

Additive only: three new tables. ``usdt_transfers`` records each incoming transfer once
(``tx_id`` UNIQUE); ``usdt_amount_holds`` keys a payable amount to the payment expecting it;
``usdt_rates`` keeps every rate admins set (the newest is in force).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usdt_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tx_id", sa.String(length=80), nullable=False),
        sa.Column("from_address", sa.String(length=64), nullable=False),
        sa.Column("to_address", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("payment_id", sa.String(length=32), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usdt_transfers")),
        sa.UniqueConstraint("tx_id", name=op.f("uq_usdt_transfers_tx_id")),
    )
    op.create_index(op.f("ix_usdt_transfers_status"), "usdt_transfers", ["status"])
    op.create_table(
        "usdt_amount_holds",
        sa.Column("amount", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payment_id", sa.String(length=32), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("amount", name=op.f("pk_usdt_amount_holds")),
    )
    op.create_table(
        "usdt_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fen_per_usdt", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("fen_per_usdt > 0", name=op.f("ck_usdt_rates_rate_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usdt_rates")),
    )


def downgrade() -> None:
    op.drop_table("usdt_rates")
    op.drop_table("usdt_amount_holds")
    op.drop_index(op.f("ix_usdt_transfers_status"), table_name="usdt_transfers")
    op.drop_table("usdt_transfers")
