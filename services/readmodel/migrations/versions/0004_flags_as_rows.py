"""One catalogue of flags (issue 16): current flags become rows of child_flags and per-school
counts rows of school_flag_counts; children and school_summary lose their per-flag columns,
which the views child_flag_columns and school_flag_columns now offer, made from the flag
catalogue (readmodel/flag_views.py, made again at start when the catalogue changes).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 07:00:00

The BI views that read the old columns are dropped here; `flagstream migrate --admin-url`
makes them again from deploy/postgres/read_model.sql after migrating.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from readmodel import flag_views
from readmodel.flags import open_flags

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The flags that had columns before this revision.
FLAGS = ("ATTAIN", "ATTEND", "FAMILY", "FSM", "SEN")


def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS bi_flag_counts")
    op.execute("DROP VIEW IF EXISTS bi_school_summary")
    op.create_table(
        "child_flags",
        sa.Column(
            "child_key", sa.String(length=64), nullable=False, comment="Pseudonymous child id"
        ),
        sa.Column(
            "flag",
            sa.String(length=16),
            nullable=False,
            comment="A flag raised now (never sensitive)",
        ),
        sa.Column("urn", sa.String(length=6), nullable=False, comment="The child's current school"),
        sa.Column(
            "reason", sa.Text(), nullable=False, comment="Evidence the rule gave when raised"
        ),
        sa.Column(
            "tier", sa.String(length=32), nullable=False, comment="Tier within the flag, '' if none"
        ),
        sa.Column("since", sa.Date(), nullable=False, comment="Date the current flag was raised"),
        sa.PrimaryKeyConstraint("child_key", "flag"),
        comment="Flags raised now, one row per child and flag (no row: not raised)",
    )
    op.create_index("ix_child_flags_urn", "child_flags", ["urn"])
    op.create_table(
        "school_flag_counts",
        sa.Column("urn", sa.String(length=6), nullable=False),
        sa.Column("flag", sa.String(length=16), nullable=False),
        sa.Column(
            "flagged", sa.Integer(), nullable=False, comment="Children with the flag raised now"
        ),
        sa.PrimaryKeyConstraint("urn", "flag"),
        comment="Per school and flag raised there: children flagged now (no row: none)",
    )
    for flag in FLAGS:
        n = flag.lower()
        op.execute(
            f"INSERT INTO child_flags (child_key, flag, urn, reason, tier, since) "
            f"SELECT child_key, '{flag}', urn, COALESCE({n}_reason, ''), COALESCE({n}_tier, ''), "
            f"COALESCE({n}_since, as_of) FROM children WHERE {n}"
        )
        op.execute(
            f"INSERT INTO school_flag_counts (urn, flag, flagged) "
            f"SELECT urn, '{flag}', {n}_flagged FROM school_summary WHERE {n}_flagged > 0"
        )
    with op.batch_alter_table("children") as batch:
        for flag in FLAGS:
            n = flag.lower()
            for column in (n, f"{n}_reason", f"{n}_tier", f"{n}_since"):
                batch.drop_column(column)
    with op.batch_alter_table("school_summary") as batch:
        for flag in FLAGS:
            batch.drop_column(f"{flag.lower()}_flagged")
    flag_views.create(op.get_bind(), open_flags())


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS bi_flag_counts")  # made again by read_model.sql
    op.execute("DROP VIEW IF EXISTS bi_school_summary")
    for name in flag_views.expected_columns(()):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("children") as batch:
        for flag in FLAGS:
            n = flag.lower()
            batch.add_column(
                sa.Column(
                    n,
                    sa.Boolean(),
                    nullable=False,
                    server_default=sa.false(),
                    comment=f"{flag} flag raised",
                )
            )
            batch.add_column(
                sa.Column(
                    f"{n}_reason", sa.Text(), comment=f"Evidence for the {flag} flag when raised"
                )
            )
            batch.add_column(
                sa.Column(
                    f"{n}_tier",
                    sa.String(length=32),
                    comment=f"{flag} tier (e.g. severe), '' if none",
                )
            )
            batch.add_column(
                sa.Column(
                    f"{n}_since", sa.Date(), comment=f"Date the current {flag} flag was raised"
                )
            )
    with op.batch_alter_table("school_summary") as batch:
        for flag in FLAGS:
            batch.add_column(
                sa.Column(
                    f"{flag.lower()}_flagged",
                    sa.Integer(),
                    nullable=False,
                    server_default="0",
                    comment=flag,
                )
            )
    for flag in FLAGS:
        n = flag.lower()
        op.execute(
            f"UPDATE children SET {n} = true, {n}_reason = f.reason, {n}_tier = f.tier, "
            f"{n}_since = f.since FROM child_flags f "
            f"WHERE f.child_key = children.child_key AND f.flag = '{flag}'"
        )
        op.execute(
            f"UPDATE school_summary SET {n}_flagged = k.flagged FROM school_flag_counts k "
            f"WHERE k.urn = school_summary.urn AND k.flag = '{flag}'"
        )
    op.drop_table("school_flag_counts")
    op.drop_index("ix_child_flags_urn", table_name="child_flags")
    op.drop_table("child_flags")
