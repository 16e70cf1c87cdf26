"""Upgrades run while the previous release's instances keep serving (the README's upgrade
procedure): every migration since the last release must be additive, so that old code
still finds every table and column it reads and writes. New tables, new nullable columns
(or with a server default), new indexes: yes. Dropping or renaming a table or a column,
changing a column's type, making it NOT NULL, dropping an index or constraint: no, not in
one release — add in this one, stop using in the next, drop in the one after.

This test reads the ``upgrade()`` side of each new revision (its source, nothing runs) and
names each destructive operation. One the author has made safe says why on its line:
``# additive: <why old instances survive it>``. When a release ships, set
``LAST_RELEASED`` to its head revision.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from alembic.script import ScriptDirectory

from core.schema import alembic_config

LAST_RELEASED = "0017"  # the head of the last release: it and its ancestors are deployed

DESTRUCTIVE_CALLS = {
    "drop_table",
    "drop_column",
    "drop_index",
    "drop_constraint",
    "rename_table",
    "create_primary_key",
}
# alter_column is destructive with these (nullable only when made NOT NULL)
DESTRUCTIVE_ALTERATIONS = {"new_column_name", "type_", "existing_type_to"}
DESTRUCTIVE_SQL = re.compile(
    r"\b(DROP|RENAME|TRUNCATE)\b|\bALTER\s+COLUMN\b.*\b(TYPE|SET\s+NOT\s+NULL)\b",
    re.IGNORECASE | re.DOTALL,
)
ALLOWED = "# additive:"


def destructive_operations(source: str) -> list[str]:
    """``line: what`` for each destructive operation outside ``downgrade()``."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found: list[tuple[int, str]] = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef) or function.name == "downgrade":
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            what = _destructive(node)
            if what and ALLOWED not in lines[node.lineno - 1]:
                found.append((node.lineno, what))
    return [f"{line}: {what}" for line, what in sorted(found)]


def _destructive(call: ast.Call) -> str | None:
    assert isinstance(call.func, ast.Attribute)
    name = call.func.attr
    if name in DESTRUCTIVE_CALLS:
        return name
    if name == "alter_column":
        for keyword in call.keywords:
            if keyword.arg in DESTRUCTIVE_ALTERATIONS:
                return f"alter_column({keyword.arg}=…)"
            if keyword.arg == "nullable" and _is_false(keyword.value):
                return "alter_column(nullable=False)"
    if name == "execute":
        for argument in call.args:
            sql = _string(argument)
            if sql and DESTRUCTIVE_SQL.search(sql):
                return f"execute({sql.strip()[:60]!r})"
    return None


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _string(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and node.args:  # sa.text("…")
        return _string(node.args[0])
    return None


def test_every_migration_since_the_last_release_is_additive() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    released = {r.revision for r in script.iterate_revisions(LAST_RELEASED, "base")}
    problems = {}
    for revision in script.walk_revisions():
        if revision.revision in released:
            continue
        found = destructive_operations(Path(revision.path).read_text())
        if found:
            problems[Path(revision.path).name] = found
    assert not problems, (
        "old instances run during `kameng db upgrade`; these operations break them "
        f"(see this test's docstring): {problems}"
    )


def test_the_scan_names_what_would_break_old_instances() -> None:
    source = """
from alembic import op
import sqlalchemy as sa

def upgrade():
    op.add_column("users", sa.Column("nickname", sa.String(), nullable=True))
    op.create_table("update_seen", sa.Column("id", sa.BigInteger(), primary_key=True))
    op.create_index("ix_users_nickname", "users", ["nickname"])
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("note")
    op.alter_column("outbox", "locked_by", new_column_name="lease_owner")
    op.alter_column("users", "nickname", nullable=False)
    op.alter_column("users", "nickname", nullable=True)
    op.execute("ALTER TABLE skus RENAME TO products")
    op.execute(sa.text("UPDATE users SET nickname = username"))
    op.drop_index("ix_orders_old")  # additive: a duplicate of ix_orders_user_created

def downgrade():
    op.drop_table("update_seen")
"""
    assert destructive_operations(source) == [
        "10: drop_column",
        "11: alter_column(new_column_name=…)",
        "12: alter_column(nullable=False)",
        "14: execute('ALTER TABLE skus RENAME TO products')",
    ]


def test_the_last_release_had_a_rename_that_this_check_would_have_stopped() -> None:
    """0016 renamed the lease columns in place: fine while one process ran, not with old
    instances still serving; the scan finds it."""
    script = ScriptDirectory.from_config(alembic_config(""))
    revision = script.get_revision("0016")
    assert revision is not None
    found = destructive_operations(Path(revision.path).read_text())
    assert [what.split(": ", 1)[1] for what in found] == ["alter_column(new_column_name=…)"]
