"""after-sales: bad-code reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("bad_code_id", sa.Integer(), nullable=False),
        sa.Column("replacement_code_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("screenshot_file_id", sa.String(length=256), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "replaced",
                "refunded",
                "rejected",
                name="reportstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("refund_amount", sa.BigInteger(), nullable=False),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bad_code_id"], ["codes.id"], name=op.f("fk_code_reports_bad_code_id_codes")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["order_lines.id"], name=op.f("fk_code_reports_line_id_order_lines")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_code_reports_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["replacement_code_id"],
            ["codes.id"],
            name=op.f("fk_code_reports_replacement_code_id_codes"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_code_reports_supplier_id_suppliers")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_code_reports_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_reports")),
    )
    with op.batch_alter_table("code_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_code_reports_line_id"), ["line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_code_reports_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_code_reports_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("code_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_code_reports_status"))
        batch_op.drop_index(batch_op.f("ix_code_reports_order_id"))
        batch_op.drop_index(batch_op.f("ix_code_reports_line_id"))

    op.drop_table("code_reports")
