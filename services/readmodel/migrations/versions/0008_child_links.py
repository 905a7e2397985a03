"""NHS links (issue 18.4): child_links, an NHS number's key linked to a child's key by an
enrolment, so the read model shows the child once (docs/families.md, projector/links.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 15:05:00

Row-level security for child_links (it has a child_key) comes from
deploy/postgres/read_model.sql, which `flagstream migrate --admin-url` runs after migrating.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "child_links",
        sa.Column(
            "nhs_key",
            sa.String(length=64),
            nullable=False,
            comment="Keyed hash of the NHS number",
        ),
        sa.Column(
            "child_key",
            sa.String(length=64),
            nullable=False,
            comment="The child it is linked to",
        ),
        sa.PrimaryKeyConstraint("nhs_key"),
        comment="An NHS number's key linked to a child's key by an enrolment: the number's own "
        "rows are gone from children and child_flags, and no later snapshot of it is written",
    )
    op.create_index(op.f("ix_child_links_child_key"), "child_links", ["child_key"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_child_links_child_key"), table_name="child_links")
    op.drop_table("child_links")
