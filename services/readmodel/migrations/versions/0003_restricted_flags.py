"""Sensitive flags apart (issue 15): restricted_flags and restricted_flag_changes; police
notifications leave children.last_police_at, child_sources and freshness.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 03:20:00

Rows written before this revision may hold FAMILY flags raised by a notification (the rule
then counted both): rebuild the read model after upgrading (`flagstream projector --rebuild`,
docs/operations.md) so every table is as the new rules make it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "restricted_flags",
        sa.Column("child_key", sa.String(length=64), nullable=False),
        sa.Column("flag", sa.String(length=16), nullable=False),
        sa.Column("urn", sa.String(length=6), nullable=False, comment="The child's current school"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False, comment="Event-time date of the snapshot"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("child_key", "flag"),
        comment="Sensitive flags raised now (DSL of the child's school only)",
    )
    op.create_index("ix_restricted_flags_urn", "restricted_flags", ["urn"])
    op.create_table(
        "restricted_flag_changes",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("child_key", sa.String(length=64), nullable=False),
        sa.Column("urn", sa.String(length=6), nullable=False),
        sa.Column("flag", sa.String(length=16), nullable=False),
        sa.Column("change", sa.String(length=8), nullable=False, comment="RAISED or CLEARED"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rule_version", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "kafka_partition", sa.Integer(), nullable=False, comment="Partition it was read from"
        ),
        sa.Column(
            "kafka_offset", sa.BigInteger(), nullable=False, comment="Offset: order within a child"
        ),
        sa.PrimaryKeyConstraint("event_id"),
        comment="Every sensitive flag raised or cleared (DSL of the child's school only)",
    )
    op.create_index(
        "ix_restricted_flag_changes_child_key", "restricted_flag_changes", ["child_key"]
    )
    op.execute("DELETE FROM child_sources WHERE source = 'police'")
    op.execute("DELETE FROM freshness WHERE source = 'police'")
    with op.batch_alter_table("children") as batch:
        batch.drop_column("last_police_at")


def downgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.add_column(
            sa.Column(
                "last_police_at",
                sa.DateTime(timezone=True),
                nullable=True,
                comment="Latest police event received",
            )
        )
    op.drop_index("ix_restricted_flag_changes_child_key", table_name="restricted_flag_changes")
    op.drop_table("restricted_flag_changes")
    op.drop_index("ix_restricted_flags_urn", table_name="restricted_flags")
    op.drop_table("restricted_flags")
