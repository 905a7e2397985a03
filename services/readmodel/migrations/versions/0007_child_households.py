"""Households (issue 18.3): child_households, which children share a household, written from
enrolments and family cases that name one (docs/families.md).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 14:40:00

Row-level security for child_households (it has a child_key: a row is seen only when its
child is in the viewer's scope) comes from deploy/postgres/read_model.sql, which
`flagstream migrate --admin-url` runs after migrating.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "child_households",
        sa.Column(
            "household_key",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash, never the ref",
        ),
        sa.Column(
            "child_key", sa.String(length=64), nullable=False, comment="Pseudonymous child id"
        ),
        sa.PrimaryKeyConstraint("household_key", "child_key"),
        comment="A child named in a household by an enrolment or a family case (never removed)",
    )
    op.create_index(
        op.f("ix_child_households_child_key"), "child_households", ["child_key"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_child_households_child_key"), table_name="child_households")
    op.drop_table("child_households")
