"""supplier daily units: the commission ladder's volume without summing every order

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supplier_daily_units",
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_supplier_daily_units_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("supplier_id", "day", name=op.f("pk_supplier_daily_units")),
    )
    # the orders already made, by supplier and UTC day
    day = (
        "date(created_at)"
        if op.get_bind().dialect.name == "sqlite"
        else "CAST(created_at AT TIME ZONE 'UTC' AS date)"
    )
    op.execute(
        "INSERT INTO supplier_daily_units (supplier_id, day, units)"
        f" SELECT supplier_id, {day}, SUM(quantity) FROM orders GROUP BY supplier_id, {day}"
    )


def downgrade() -> None:
    op.drop_table("supplier_daily_units")
