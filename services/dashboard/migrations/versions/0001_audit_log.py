"""The audit log and its append-only triggers.

Revision ID: 0001
Revises:
Create Date: 2026-12-07 03:00:00

Before this revision the dashboard created the table itself: one already there is kept
(adopted) and given the triggers if it lacks them. Run as the audit owner role
(`flagstream migrate --admin-url`), so no service's role owns the table or its triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: deploy/postgres/audit.sql puts the same trigger back if it was dropped.
APPEND_ONLY = [
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table("audit_log"):
        op.create_table(
            "audit_log",
            sa.Column("id", sa.BigInteger(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("username", sa.String(length=128), nullable=False),
            sa.Column("role", sa.String(length=16), nullable=False),
            sa.Column(
                "action",
                sa.String(length=32),
                nullable=False,
                comment="view_child, export_csv, huddle",
            ),
            sa.Column("page", sa.Text(), nullable=False, comment="Path of the request"),
            sa.Column(
                "child_key", sa.String(length=64), nullable=True, comment="The child viewed, if one"
            ),
            sa.Column("urn", sa.String(length=6), nullable=True, comment="The school, if one"),
            sa.Column("rows", sa.Integer(), nullable=True, comment="Children in an export"),
            sa.PrimaryKeyConstraint("id"),
            comment="Append-only: every view of a child's record and every export",
        )
        op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    # The log itself is never dropped by a migration: only its triggers go with this one.
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
