"""Huddles (issue 17): huddles and huddle_reviews, written from HuddleRecorded events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 11:50:00

Row-level security for huddle_reviews (it has a child_key) comes from
deploy/postgres/read_model.sql, which `flagstream migrate --admin-url` runs after migrating.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "huddles",
        sa.Column(
            "event_id",
            sa.String(length=36),
            nullable=False,
            comment="The HuddleRecorded event",
        ),
        sa.Column("urn", sa.String(length=6), nullable=False),
        sa.Column(
            "half_term",
            sa.String(length=32),
            nullable=False,
            comment="e.g. 'Autumn 1 2025/26'",
        ),
        sa.Column("held_on", sa.Date(), nullable=False, comment="The day the huddle met"),
        sa.Column(
            "attendees", sa.Text(), nullable=False, comment="Attendees' roles, comma-separated"
        ),
        sa.Column(
            "recorded_by", sa.Text(), nullable=False, comment="Professional's role or staff id"
        ),
        sa.Column("reviewed", sa.Integer(), nullable=False, comment="Children reviewed"),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
        comment="Huddles recorded per school and half term (one row per HuddleRecorded event)",
    )
    op.create_index("ix_huddles_urn", "huddles", ["urn"])
    op.create_table(
        "huddle_reviews",
        sa.Column("huddle_event_id", sa.String(length=36), nullable=False),
        sa.Column(
            "child_key", sa.String(length=64), nullable=False, comment="Pseudonymous child id"
        ),
        sa.Column("urn", sa.String(length=6), nullable=False, comment="The huddle's school"),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False, comment="Response agreed at the huddle"),
        sa.Column("status", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("huddle_event_id", "child_key"),
        comment="Each child a huddle reviewed, with the response agreed",
    )
    op.create_index("ix_huddle_reviews_urn", "huddle_reviews", ["urn"])


def downgrade() -> None:
    op.drop_index("ix_huddle_reviews_urn", table_name="huddle_reviews")
    op.drop_table("huddle_reviews")
    op.drop_index("ix_huddles_urn", table_name="huddles")
    op.drop_table("huddles")
