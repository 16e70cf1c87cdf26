"""fulfilments.stock_units: units of an upstream's sale handed out from our late stock

Revision ID: 0038
Revises: 0036
Create Date: 2026-12-05 01:00:00

Additive only: one integer column, 0 on every existing order (none took late stock). A sale
of an upstream's SKU claims codes an upstream delivered after our deadline first and orders
only the rest there; ``kameng ledger check`` proves those units paid the spread, not the
upstream.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fulfilments") as batch:
        batch.add_column(sa.Column("stock_units", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("fulfilments") as batch:
        batch.drop_column("stock_units")
