"""Children not yet in school (issue 18.4): child_places, where a child is seen outside school
(zone and early-years setting, from the latest record of a stream that places children),
so they are listed by zone and setting (docs/families.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 15:20:00

Row-level security for child_places (it has a child_key) comes from
deploy/postgres/read_model.sql, which `flagstream migrate --admin-url` runs after migrating.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "child_places",
        sa.Column(
            "child_key", sa.String(length=64), nullable=False, comment="Pseudonymous child id"
        ),
        sa.Column(
            "source", sa.String(length=64), nullable=False, comment="The stream that placed it"
        ),
        sa.Column(
            "setting",
            sa.Text(),
            nullable=False,
            comment="Early-years setting or team, e.g. EY123456",
        ),
        sa.Column("zone", sa.Text(), nullable=False, comment="Family Partnership Zone"),
        sa.Column("checked_on", sa.Date(), nullable=False, comment="Date of the record placing it"),
        sa.PrimaryKeyConstraint("child_key"),
        comment="Where a child is seen outside school (the latest record of a stream that "
        "places children, e.g. early years): children not yet in school are listed by zone "
        "and setting",
    )
    op.create_index(op.f("ix_child_places_zone"), "child_places", ["zone"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_child_places_zone"), table_name="child_places")
    op.drop_table("child_places")
