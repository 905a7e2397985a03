"""read_model_status: whether the read model is complete (issue 14).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 00:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "read_model_status",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False, comment="Always 1"),
        sa.Column(
            "state",
            sa.String(length=16),
            nullable=False,
            comment="current, rebuilding (being built again from the log) or stale (refused)",
        ),
        sa.Column(
            "since", sa.DateTime(timezone=True), nullable=False, comment="When the state began"
        ),
        sa.Column("detail", sa.Text(), nullable=False, comment="Why, in words"),
        sa.Column(
            "log_topics", sa.Text(), nullable=False, comment="JSON: topic -> topic id read from"
        ),
        sa.Column(
            "flagger_lag",
            sa.BigInteger(),
            nullable=True,
            comment="Canonical records the flagger has not consumed",
        ),
        sa.Column(
            "projector_lag",
            sa.BigInteger(),
            nullable=True,
            comment="Records the projector has not stored",
        ),
        sa.Column(
            "late_registers",
            sa.Integer(),
            nullable=True,
            comment="Schools without a register for the last day",
        ),
        sa.Column(
            "checked_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the projector last checked",
        ),
        sa.PrimaryKeyConstraint("id"),
        comment="Whether the read model is complete, as the projector last found it",
    )


def downgrade() -> None:
    op.drop_table("read_model_status")
