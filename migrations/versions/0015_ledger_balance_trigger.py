"""PostgreSQL refuses a ledger transaction whose entries do not sum to zero

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 14:20:00

``core/ledger.py`` checks every posting in Python; this deferred constraint trigger makes
the database refuse an unbalanced transaction at COMMIT too, whoever writes it (a bug, a
hand-written SQL fix). It is deferred so the entries of one transaction can be inserted one
by one. SQLite has no deferred triggers: there the Python check and ``kameng ledger check``
stand alone.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE_FUNCTION = """
CREATE FUNCTION ledger_transaction_balances() RETURNS trigger AS $$
DECLARE
    tid integer;
    total bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        tid := OLD.transaction_id;
    ELSE
        tid := NEW.transaction_id;
    END IF;
    SELECT COALESCE(SUM(amount), 0) INTO total FROM ledger_entries WHERE transaction_id = tid;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero (off by %)', tid, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

CREATE_TRIGGER = """
CREATE CONSTRAINT TRIGGER ledger_entries_balance
AFTER INSERT OR UPDATE OR DELETE ON ledger_entries
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CREATE_FUNCTION)
    op.execute(CREATE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER ledger_entries_balance ON ledger_entries")
    op.execute("DROP FUNCTION ledger_transaction_balances()")
