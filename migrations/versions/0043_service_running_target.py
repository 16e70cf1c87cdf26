"""service_subscriptions.active_target: one running boost or analytics report per buyer
and target

Revision ID: 0043
Revises: 0039
Create Date: 2026-12-05 01:20:00

Buying a search boost or an analytics report again while one runs extends it
(``core/decisions/renewal.py``, ``decide_purchase``). ``active_target`` names what an
active one of those kinds is for (``search_boost:<sku id>``, ``analytics_report:0``) and is
NULL otherwise; a UNIQUE index on (user_id, active_target) lets no buyer hold two at once,
even when two Buy buttons are pressed together on PostgreSQL. The backfill marks the latest
running one of each buyer and target; an older duplicate bought before this change runs out
its period unmarked. ``service_extensions`` keeps the Buy key of each purchase that
extended one, so pressing that button again charges nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0043"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXTENDABLE = ("search_boost", "analytics_report")


def upgrade() -> None:
    op.add_column("service_subscriptions", sa.Column("active_target", sa.String(40)))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT s.id, s.user_id, o.kind, s.sku_id FROM service_subscriptions s "
            "JOIN service_offers o ON o.id = s.offer_id "
            "WHERE s.status = 'active' ORDER BY s.id DESC"
        )
    ).all()
    marked: set[tuple[int, str]] = set()
    for sub_id, user_id, kind, sku_id in rows:
        target = f"{kind}:{sku_id or 0}"
        if kind not in EXTENDABLE or (user_id, target) in marked:
            continue
        marked.add((user_id, target))
        bind.execute(
            sa.text("UPDATE service_subscriptions SET active_target = :t WHERE id = :i"),
            {"t": target, "i": sub_id},
        )
    op.create_table(
        "service_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["service_subscriptions.id"],
            name=op.f("fk_service_extensions_subscription_id_service_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_extensions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_service_extensions_idempotency_key")),
    )
    op.create_index(
        "uq_service_subscriptions_active_target",
        "service_subscriptions",
        ["user_id", "active_target"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("service_extensions")
    op.drop_index("uq_service_subscriptions_active_target", "service_subscriptions")
    with op.batch_alter_table("service_subscriptions") as batch_op:
        batch_op.drop_column("active_target")
