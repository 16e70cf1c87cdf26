"""code restocks: a refunded code back on sale only by an audited admin act

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_restocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audit_log.id"], name=op.f("fk_code_restocks_audit_id_audit_log")
        ),
        sa.ForeignKeyConstraint(
            ["code_id"], ["codes.id"], name=op.f("fk_code_restocks_code_id_codes")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["order_lines.id"], name=op.f("fk_code_restocks_line_id_order_lines")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_code_restocks_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_restocks")),
        sa.UniqueConstraint("line_id", name=op.f("uq_code_restocks_line_id")),
    )
    with op.batch_alter_table("code_restocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_code_restocks_code_id"), ["code_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_code_restocks_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("code_restocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_code_restocks_order_id"))
        batch_op.drop_index(batch_op.f("ix_code_restocks_code_id"))

    op.drop_table("code_restocks")
