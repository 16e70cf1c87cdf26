"""order callbacks: a callback URL and secret per API key, and the log of each delivery

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 21:45:00

Additive only: ``api_callbacks``, ``callback_deliveries`` and an index that finds an order's
``external_id`` (its client key) from the order's idempotency key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_api_callbacks_api_key_id_api_keys")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_callbacks_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_callbacks")),
        sa.UniqueConstraint("api_key_id", name=op.f("uq_api_callbacks_api_key_id")),
    )
    op.create_index(op.f("ix_api_callbacks_user_id"), "api_callbacks", ["user_id"])
    op.create_table(
        "callback_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("next_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_callback_deliveries_outbox_id_outbox")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_callback_deliveries_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_deliveries")),
    )
    op.create_index(op.f("ix_callback_deliveries_outbox_id"), "callback_deliveries", ["outbox_id"])
    op.create_index(
        "ix_callback_deliveries_user", "callback_deliveries", ["user_id", "attempted_at"]
    )
    op.create_index("ix_api_idempotency_keys_order_key", "api_idempotency_keys", ["order_key"])


def downgrade() -> None:
    op.drop_index("ix_api_idempotency_keys_order_key", table_name="api_idempotency_keys")
    op.drop_index("ix_callback_deliveries_user", table_name="callback_deliveries")
    op.drop_index(op.f("ix_callback_deliveries_outbox_id"), table_name="callback_deliveries")
    op.drop_table("callback_deliveries")
    op.drop_index(op.f("ix_api_callbacks_user_id"), table_name="api_callbacks")
    op.drop_table("api_callbacks")
