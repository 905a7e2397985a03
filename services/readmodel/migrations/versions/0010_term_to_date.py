"""Term-to-date attendance (issue 18.2): children gains term_start, term_possible_sessions and
term_absent_sessions, from the snapshot's fields of the same names (docs/read-model.md).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:55:00

Rows written before read no term and 0 sessions until the child's next snapshot (its next
marks). children is already scoped by row-level security (deploy/postgres/read_model.sql):
the new columns need nothing there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from readmodel import flag_views
from readmodel.flags import open_flags

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.add_column(
            sa.Column(
                "term_start",
                sa.Date(),
                nullable=True,
                comment="First day of the term of as_of (term calendar)",
            )
        )
        for column, words in (
            ("term_possible_sessions", "Possible sessions, term to date"),
            ("term_absent_sessions", "Absent sessions, term to date"),
        ):
            batch.add_column(
                sa.Column(column, sa.Integer(), nullable=False, server_default="0", comment=words)
            )
    flag_views.create(op.get_bind(), open_flags())  # child_flag_columns with the new columns


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS child_flag_columns")  # its c.* holds the columns
    with op.batch_alter_table("children") as batch:
        for column in ("term_absent_sessions", "term_possible_sessions", "term_start"):
            batch.drop_column(column)
    flag_views.create(op.get_bind(), open_flags())
