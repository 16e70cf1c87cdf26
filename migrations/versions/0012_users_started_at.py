"""users.started_at: when a user first wrote to the bot

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
    # Users the bot registered carry what Telegram told about them (a name or @username);
    # those the operator created (`kameng user grant`, `balance credit`) carry neither and
    # have never written: the bot may not write to them until they do.
    op.execute(
        "UPDATE users SET started_at = created_at WHERE username IS NOT NULL OR display_name <> ''"
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("started_at")
