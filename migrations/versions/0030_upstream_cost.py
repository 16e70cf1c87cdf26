"""fulfilments.upstream_cost: what an upstream said an order cost us

Revision ID: 0030
Revises: 0028
Create Date: 2026-12-05 00:30:00

Additive only: one nullable column. Orders settled before it have none (the upstream's
charge was not kept), and ``kameng ledger check`` proves only the orders that have one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fulfilments") as batch:
        batch.add_column(sa.Column("upstream_cost", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fulfilments") as batch:
        batch.drop_column("upstream_cost")
