"""upstream_category_map: where an upstream's own category's new SKUs are shelved

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-05 01:00:00

Additive only: one new table. An upstream product whose category has no row here goes to
the upstream's default category (``upstreams.category_id``), as before for Dujiao-Next.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upstream_category_map",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("upstream_id", sa.Integer(), sa.ForeignKey("upstreams.id"), nullable=False),
        sa.Column("upstream_category", sa.String(64), nullable=False),
        sa.Column("category_id", sa.Integer(), sa.ForeignKey("categories.id"), nullable=False),
        sa.UniqueConstraint(
            "upstream_id", "upstream_category", name="uq_upstream_category_map_source"
        ),
    )


def downgrade() -> None:
    op.drop_table("upstream_category_map")
