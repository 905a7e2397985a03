"""Server-side sessions (dashboard_sessions) and audit_log.detail (issue 15, part 5).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 03:30:00

Adopts what a dashboard made itself before this revision (create_audit_schema): the table or
the column already there is kept. Comments follow the audit log's wider coverage.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    found = sa.inspect(op.get_bind())
    if "detail" not in {c["name"] for c in found.get_columns("audit_log")}:
        op.add_column(
            "audit_log",
            sa.Column(
                "detail",
                sa.Text(),
                nullable=True,
                comment="Client address of a sign-in, event id of an outcome, ...",
            ),
        )
    op.alter_column(
        "audit_log",
        "action",
        existing_type=sa.String(length=32),
        existing_nullable=False,
        comment="view_child, export_csv, sign_in, ...",
    )
    op.alter_column(
        "audit_log",
        "rows",
        existing_type=sa.Integer(),
        existing_nullable=True,
        comment="Children in a list or export",
    )
    op.create_table_comment(
        "audit_log",
        "Append-only: every response with children's rows, every sign-in and outcome",
    )
    if found.has_table("dashboard_sessions"):
        return
    op.create_table(
        "dashboard_sessions",
        sa.Column(
            "id_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the id in the cookie",
        ),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column(
            "user_digest",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the user's role, scope and password hash at sign-in",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "last_active_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="Latest request the user made (live polling excluded)",
        ),
        sa.Column(
            "revoked_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="NULL while the session holds",
        ),
        sa.Column(
            "ended_by",
            sa.String(length=16),
            nullable=True,
            comment="sign_out, replaced, expired, idle, user_*",
        ),
        sa.PrimaryKeyConstraint("id_hash"),
        comment="Dashboard sign-ins; a row whose revoked_at is set no longer signs anyone in",
    )
    op.create_index(
        op.f("ix_dashboard_sessions_username"), "dashboard_sessions", ["username"], unique=False
    )
    op.create_index(
        op.f("ix_dashboard_sessions_created_at"), "dashboard_sessions", ["created_at"], unique=False
    )


def downgrade() -> None:
    # The sessions go (everyone signs in again); audit_log keeps `detail` and what it holds.
    op.drop_table("dashboard_sessions")
