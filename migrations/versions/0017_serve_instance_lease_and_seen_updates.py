"""kameng serve: the instance lease and the Telegram updates already taken

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:10:00

Additive only (old instances keep running during the upgrade): ``instance_leases`` holds
the one ``serve`` row that a ``kameng serve`` without Redis leases, and ``seen_updates``
the update ids the webhook has taken (the dedupe when there is no Redis).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    leases = op.create_table(
        "instance_leases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_leases")),
        sa.UniqueConstraint("name", name=op.f("uq_instance_leases_name")),
    )
    op.bulk_insert(leases, [{"id": 1, "name": "serve"}])
    op.create_table(
        "seen_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_seen_updates")),
    )
    op.create_index(op.f("ix_seen_updates_seen_at"), "seen_updates", ["seen_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_seen_updates_seen_at"), table_name="seen_updates")
    op.drop_table("seen_updates")
    op.drop_table("instance_leases")
