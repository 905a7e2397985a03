"""The alerts store: sent ledger, inbox, preferences, visits.

Revision ID: 0001
Revises:
Create Date: 2026-12-07 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_ledger",
        sa.Column("message_id", sa.String(80), nullable=False, comment="Event id or digest period"),
        sa.Column("recipient", sa.String(320), nullable=False, comment="User name, or an address"),
        sa.Column("channel", sa.String(8), nullable=False, comment="email or inbox"),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column(
            "address", sa.String(320), nullable=True, comment="Where the email goes (email rows)"
        ),
        sa.Column("subject", sa.Text(), nullable=False, comment="No child detail, ever"),
        sa.Column(
            "body", sa.Text(), nullable=False, comment="No child detail, ever: counts and a link"
        ),
        sa.Column(
            "status", sa.String(8), nullable=False, comment="pending, sent or failed (for good)"
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "last_error",
            sa.String(120),
            nullable=True,
            comment="The SMTP error class, never a message body",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_id", "recipient", "channel"),
        comment="Every message the notifier decided to send, once per recipient and channel",
    )
    op.create_table(
        "alert_inbox",
        sa.Column("message_id", sa.String(80), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False, comment="Dashboard user name"),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column(
            "link", sa.Text(), nullable=False, comment="Dashboard path the message points to"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_id", "recipient"),
        comment="The dashboard inbox: one row per message and user",
    )
    op.create_table(
        "alert_preferences",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("safeguarding_email", sa.Boolean(), nullable=False),
        sa.Column("daily_school", sa.Boolean(), nullable=False),
        sa.Column("weekly_zone", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username"),
        comment="What each user chose to be emailed (no row: the defaults)",
    )
    op.create_table(
        "alert_visits",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("page", sa.String(200), nullable=False, comment="A list page's path"),
        sa.Column(
            "previous_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="The visit before the last",
        ),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", "page"),
        comment="Each user's visits to each list, for the 'new since your last visit' marker",
    )
    op.create_table(
        "alert_offsets",
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("kafka_partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic", "kafka_partition"),
        comment="The notifier's position in the flag-change topic, stored with what it decided",
    )


def downgrade() -> None:
    for table in (
        "alert_offsets",
        "alert_visits",
        "alert_preferences",
        "alert_inbox",
        "alert_ledger",
    ):
        op.drop_table(table)
