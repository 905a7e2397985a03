"""Live dashboard pages (issue 17): read_model_changes, school_changes and child_changes, the
version each projector commit raises and what it changed, so a dashboard finds what changed
since a page's version with one cheap query (readmodel/changes.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 11:55:00

child_changes has a child_key, so deploy/postgres/read_model.sql gives it the default
row-level security policy (school or child in scope) when `flagstream migrate --admin-url`
runs it; school_changes and read_model_changes hold no child and are readable as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "read_model_changes",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False, comment="Always 1"),
        sa.Column(
            "seq", sa.BigInteger(), nullable=False, comment="Projector commits that changed rows"
        ),
        sa.Column(
            "committed_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="That commit's time",
        ),
        sa.PrimaryKeyConstraint("id"),
        comment="The read model's version: one row, its seq raised by every commit that changed it",
    )
    op.create_table(
        "school_changes",
        sa.Column("urn", sa.String(length=6), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False, comment="Latest commit changing it"),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("urn"),
        comment="Per school, the latest commit that changed one of its children or counts",
    )
    op.create_index("ix_school_changes_seq", "school_changes", ["seq"])
    op.create_table(
        "child_changes",
        sa.Column("child_key", sa.String(length=64), nullable=False),
        sa.Column(
            "urn",
            sa.String(length=6),
            nullable=False,
            comment="A school whose list the change touches",
        ),
        sa.Column("seq", sa.BigInteger(), nullable=False, comment="Latest commit changing the row"),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("child_key", "urn"),
        comment="Per child and school, the latest commit that changed the child's row there",
    )
    op.create_index("ix_child_changes_urn_seq", "child_changes", ["urn", "seq"])


def downgrade() -> None:
    op.drop_index("ix_child_changes_urn_seq", table_name="child_changes")
    op.drop_table("child_changes")
    op.drop_index("ix_school_changes_seq", table_name="school_changes")
    op.drop_table("school_changes")
    op.drop_table("read_model_changes")
