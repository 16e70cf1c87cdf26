"""a quote is spent once: unique orders.quote_id

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Before this revision one quote could be bought twice under two idempotency keys. Such
    # later orders stay (they were charged and delivered) but lose the link to the quote
    # the first order already spent, so the unique index can be built.
    op.execute(
        sa.text(
            "UPDATE orders SET quote_id = NULL WHERE quote_id IS NOT NULL AND id > "
            "(SELECT MIN(o.id) FROM orders o WHERE o.quote_id = orders.quote_id)"
        )
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("uq_orders_quote_id", ["quote_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("uq_orders_quote_id")
