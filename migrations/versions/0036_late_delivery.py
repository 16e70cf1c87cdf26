"""fulfilments.late_units: what an upstream delivered after we had ended the order

Revision ID: 0036
Revises: 0030
Create Date: 2026-12-05 00:45:00

Additive only: one nullable column. NULL on every order the upstream did not deliver after
our deadline (all orders before it); ``kameng ledger check`` proves the payable of each order
that has one (``upstream-late:<order>``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fulfilments") as batch:
        batch.add_column(sa.Column("late_units", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fulfilments") as batch:
        batch.drop_column("late_units")
