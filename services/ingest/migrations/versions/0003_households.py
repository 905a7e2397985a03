"""Households (docs/families.md): each household's lock row, the children named in it and the
latest record of each family-support case on it, so a case reaches a child who joins later.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 14:30:00

Tables an ingest already made for itself are adopted as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOCK = (
    "One row per household: the row an upload locks while it reads and writes the "
    "household's members and cases, so a case and a new member never miss each other"
)


def _has(table: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if not _has("ingest_households"):
        op.create_table(
            "ingest_households",
            sa.Column(
                "household_key",
                sa.String(length=64),
                nullable=False,
                comment="Keyed hash of the reference",
            ),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("household_key"),
            comment=_LOCK,
        )
    if not _has("ingest_household_members"):
        op.create_table(
            "ingest_household_members",
            sa.Column("household_key", sa.String(length=64), nullable=False),
            sa.Column("child_key", sa.String(length=64), nullable=False),
            sa.Column(
                "created_at", sa.DateTime(timezone=True), nullable=False, comment="When first named"
            ),
            sa.PrimaryKeyConstraint("household_key", "child_key"),
            comment="A child named in a household by an enrolment or a family case (never removed)",
        )
    if not _has("ingest_household_cases"):
        op.create_table(
            "ingest_household_cases",
            sa.Column("household_key", sa.String(length=64), nullable=False),
            sa.Column("case_id", sa.String(length=64), nullable=False),
            sa.Column(
                "child_key",
                sa.String(length=64),
                nullable=False,
                comment="The child the partner named",
            ),
            sa.Column(
                "event_id",
                sa.String(length=36),
                nullable=False,
                comment="The latest record's event id",
            ),
            sa.Column("source", sa.String(length=200), nullable=False),
            sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("opened_on", sa.Date(), nullable=False),
            sa.Column("closed_on", sa.Date(), nullable=True),
            sa.Column(
                "outcome_areas", sa.Text(), nullable=False, comment="';'-separated outcome ids"
            ),
            sa.PrimaryKeyConstraint("household_key", "case_id"),
            comment="The latest record of each family-support case on a household, copied to a "
            "child who joins the household later",
        )


def downgrade() -> None:
    op.drop_table("ingest_household_cases")
    op.drop_table("ingest_household_members")
    op.drop_table("ingest_households")
