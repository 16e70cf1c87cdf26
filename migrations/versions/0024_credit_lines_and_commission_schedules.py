"""Credit lines with interest, commission schedules per category, revenue accounts

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 21:00:00

Additive only: ``credit_lines`` (a reseller's terms; the floor stays ``users.credit_limit``),
``credit_applications`` (the approval queue), ``category_commission_tiers`` (a category's
own ladder), two nullable columns on ``orders`` (the schedule and tier a sale used), and the
platform's ``platform_interest`` account.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("limit_amount", sa.BigInteger(), nullable=False),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        sa.Column("term_days", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.BigInteger(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accrued_through", sa.Date(), nullable=True),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.CheckConstraint("rate_bps >= 0", name=op.f("ck_credit_lines_rate_non_negative")),
        sa.CheckConstraint("term_days > 0", name=op.f("ck_credit_lines_term_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_credit_lines_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_lines")),
        sa.UniqueConstraint("user_id", name=op.f("uq_credit_lines_user_id")),
    )
    op.create_table(
        "credit_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("limit_amount", sa.BigInteger(), nullable=False),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        sa.Column("term_days", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                name="creditapplicationstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("limit_amount > 0", name=op.f("ck_credit_applications_limit_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_credit_applications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_applications")),
    )
    op.create_index(op.f("ix_credit_applications_user_id"), "credit_applications", ["user_id"])
    op.create_table(
        "category_commission_tiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("min_units", sa.Integer(), nullable=False),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_category_commission_tiers_category_id_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_commission_tiers")),
        sa.UniqueConstraint(
            "category_id", "min_units", name=op.f("uq_category_commission_tiers_category_id")
        ),
    )
    op.create_index(
        op.f("ix_category_commission_tiers_category_id"),
        "category_commission_tiers",
        ["category_id"],
    )
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("commission_schedule", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("commission_tier", sa.Integer(), nullable=True))
    accounts = sa.table("accounts", sa.column("kind"), sa.column("owner_id"), sa.column("balance"))
    op.bulk_insert(accounts, [{"kind": "platform_interest", "owner_id": 0, "balance": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM accounts WHERE kind = 'platform_interest' AND owner_id = 0")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("commission_tier")
        batch_op.drop_column("commission_schedule")
    op.drop_index(
        op.f("ix_category_commission_tiers_category_id"), table_name="category_commission_tiers"
    )
    op.drop_table("category_commission_tiers")
    op.drop_index(op.f("ix_credit_applications_user_id"), table_name="credit_applications")
    op.drop_table("credit_applications")
    op.drop_table("credit_lines")
