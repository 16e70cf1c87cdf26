"""payments: top-ups through a provider (epay, USDT, Telegram Stars), credited once

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-04 21:05:00

Additive only: the ``payments`` table and the platform's ``platform_payment_fees`` account
(what providers keep, when a fee is configured).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = ("created", "paid", "credited", "expired", "mismatched", "failed")


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=24), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("provider_amount", sa.BigInteger(), nullable=True),
        sa.Column("provider_currency", sa.String(length=8), nullable=True),
        sa.Column(
            "status",
            sa.Enum(*_STATUS, name="paymentstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("provider_reference", sa.String(length=128), nullable=True),
        sa.Column("paid_amount", sa.BigInteger(), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("pay_url", sa.Text(), nullable=True),
        sa.Column("qr_text", sa.Text(), nullable=True),
        sa.Column("raw_notification", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("credited_user_id", sa.Integer(), nullable=True),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("credited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_payments_user_id_users")),
        sa.ForeignKeyConstraint(
            ["credited_user_id"], ["users.id"], name=op.f("fk_payments_credited_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_payments_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "provider", "provider_reference", name="uq_payments_provider_reference"
        ),
    )
    op.create_index(op.f("ix_payments_user_id"), "payments", ["user_id"])
    op.create_index("ix_payments_status_created", "payments", ["status", "created_at"])
    accounts = sa.table("accounts", sa.column("kind"), sa.column("owner_id"), sa.column("balance"))
    op.bulk_insert(accounts, [{"kind": "platform_payment_fees", "owner_id": 0, "balance": 0}])


def downgrade() -> None:
    op.execute(
        "DELETE FROM accounts WHERE kind = 'platform_payment_fees' AND owner_id = 0 AND balance = 0"
    )
    op.drop_index("ix_payments_status_created", table_name="payments")
    op.drop_index(op.f("ix_payments_user_id"), table_name="payments")
    op.drop_table("payments")
