"""Case work for complex cases (issue 17, item 3): lead practitioner, actions, reviews.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 11:50:00

Free text about a child, kept in the dashboard's own database and never on a topic
(dashboard/casework_tables.py). A table a dashboard already made (create_audit_schema) is kept.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    found = sa.inspect(op.get_bind())
    if not found.has_table("casework_cases"):
        op.create_table(
            "casework_cases",
            sa.Column("child_key", sa.String(length=64), nullable=False),
            sa.Column(
                "lead_name",
                sa.String(length=200),
                nullable=True,
                comment="Lead practitioner's name",
            ),
            sa.Column(
                "lead_role",
                sa.String(length=200),
                nullable=True,
                comment="Lead practitioner's role",
            ),
            sa.Column("next_review_on", sa.Date(), nullable=True, comment="Next review due"),
            sa.Column(
                "notes", sa.Text(), nullable=True, comment="Short notes, at most 1,000 characters"
            ),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_by", sa.String(length=128), nullable=False),
            sa.PrimaryKeyConstraint("child_key"),
            comment="Case work for a child with complex needs (not on any topic)",
        )
        op.create_index(
            op.f("ix_casework_cases_next_review_on"), "casework_cases", ["next_review_on"]
        )
    if not found.has_table("casework_actions"):
        op.create_table(
            "casework_actions",
            sa.Column("id", _ID, nullable=False),
            sa.Column("child_key", sa.String(length=64), nullable=False),
            sa.Column("text", sa.String(length=200), nullable=False),
            sa.Column(
                "owner", sa.String(length=200), nullable=False, comment="Who does it (free text)"
            ),
            sa.Column("due_on", sa.Date(), nullable=True),
            sa.Column("done", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_by", sa.String(length=128), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            comment="Actions agreed for a child's case work",
        )
        op.create_index(op.f("ix_casework_actions_child_key"), "casework_actions", ["child_key"])
    if not found.has_table("casework_reviews"):
        op.create_table(
            "casework_reviews",
            sa.Column("id", _ID, nullable=False),
            sa.Column("child_key", sa.String(length=64), nullable=False),
            sa.Column("held_on", sa.Date(), nullable=False),
            sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("recorded_by", sa.String(length=128), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            comment="Reviews held of a child's case work",
        )
        op.create_index(op.f("ix_casework_reviews_child_key"), "casework_reviews", ["child_key"])


def downgrade() -> None:
    # Dropping case work destroys the council's record of it: only an explicit downgrade does.
    op.drop_table("casework_reviews")
    op.drop_table("casework_actions")
    op.drop_table("casework_cases")
