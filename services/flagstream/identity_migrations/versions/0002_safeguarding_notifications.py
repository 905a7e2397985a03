"""The restricted store beside the identities: safeguarding_notifications (police Operation
Encompass references and circumstances, for the DSL of the child's school only).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 04:30:00

Ingest created the table itself before this revision: one already there is adopted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("safeguarding_notifications"):
        return
    op.create_table(
        "safeguarding_notifications",
        sa.Column(
            "event_id", sa.String(length=36), nullable=False, comment="The published event's id"
        ),
        sa.Column("child_key", sa.String(length=64), nullable=False, comment="Pseudonymous child"),
        sa.Column("urn", sa.String(length=6), nullable=False, comment="School the police notified"),
        sa.Column("incident_on", sa.Date(), nullable=False),
        sa.Column("child_present", sa.Boolean(), nullable=False),
        sa.Column("police_reference", sa.String(length=64), nullable=False, comment="Sensitive"),
        sa.Column("circumstances", sa.Text(), nullable=False, comment="Sensitive"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
        comment="Sensitive: Operation Encompass details, for the DSL of the child's school only",
    )
    op.create_index(
        op.f("ix_safeguarding_notifications_child_key"),
        "safeguarding_notifications",
        ["child_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_safeguarding_notifications_child_key"), table_name="safeguarding_notifications"
    )
    op.drop_table("safeguarding_notifications")
