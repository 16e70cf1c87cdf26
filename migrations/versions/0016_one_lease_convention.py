"""one lease convention: lease_owner + lease_until on every claimed table

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 15:20:00

The outbox held its lease in ``locked_by``/``locked_until`` and a broadcast campaign in
``owner``/``lease_until``; the jobs table already had ``lease_owner``/``lease_until``. All
three now use the jobs' names (``core/leases.py``). Renamed in place (``ALTER TABLE …
RENAME COLUMN`` on SQLite and PostgreSQL alike): the values, and so every lease held
during the upgrade, are kept.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, old name, new name)
RENAMES = [
    ("outbox", "locked_by", "lease_owner"),
    ("outbox", "locked_until", "lease_until"),
    ("broadcast_campaigns", "owner", "lease_owner"),
]


def upgrade() -> None:
    for table, old, new in RENAMES:
        op.alter_column(table, old, new_column_name=new)


def downgrade() -> None:
    for table, old, new in reversed(RENAMES):
        op.alter_column(table, new, new_column_name=old)
