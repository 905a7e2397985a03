"""Ingest's database: the durable record (outboxes), raw-topic offsets, log topic ids, the
drainer lease, refusals, Idempotency-Key answers, partner event ids, the ledger, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-12-07 03:00:00

Before this revision ingest created its tables itself: any already there is kept as it is
(adopted; ingest's own start-up check adds the durable-record columns to an older outbox).
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _outbox(name: str, comment: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column(
            "records", sa.Integer(), nullable=False, comment="Partner records the message carries"
        ),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "dead", sa.Boolean(), nullable=False, comment="A dead letter, not an accepted record"
        ),
        sa.Column("sent", sa.Boolean(), nullable=False, comment="On the current log"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True, comment="When accepted"),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), nullable=True, comment="First acknowledged"
        ),
        sa.Column(
            "parked",
            sa.String(length=64),
            nullable=True,
            comment="Why the broker refused it for good",
        ),
        sa.PrimaryKeyConstraint("id"),
        comment=comment,
    )
    op.create_index(f"ix_{name}_unsent", name, ["sent", "id"], unique=False)


def _api_keys() -> None:
    op.create_table(
        "ingest_api_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column(
            "secret_sha256",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the secret, hex",
        ),
        sa.Column("partner", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column(
            "urn",
            sa.String(length=6),
            nullable=True,
            comment="The only URN a school key may send for",
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id"),
        comment="Partner API keys; the secret itself is never stored",
    )


def _lease() -> None:
    op.create_table(
        "ingest_drainer_lease",
        sa.Column("outbox", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("outbox"),
        comment="Which ingest replica drains each outbox (one at a time)",
    )


def _ledger() -> None:
    op.create_table(
        "ingest_ledger",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("published", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", "day", "kind"),
        comment="Per source, day (of receipt) and kind: received = accepted + rejected",
    )


def _log_topics() -> None:
    op.create_table(
        "ingest_log_topics",
        sa.Column("outbox", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("topic_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("outbox", "topic"),
        comment="The topic ids each outbox last published into: a change means a reset log",
    )


def _raw_offsets() -> None:
    op.create_table(
        "ingest_raw_offsets",
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic", "partition"),
        comment="Next offset of each raw-topic partition, committed with what it produced",
    )


def _refusals() -> None:
    op.create_table(
        "ingest_refusals",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", "day", "kind", "reason"),
        comment="Requests refused whole (401, 403, 413, ...): nothing from them was counted as "
        "received",
    )


def _seen_events() -> None:
    op.create_table(
        "ingest_seen_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
        comment="event_ids partners chose, so a resent record is not published twice",
    )


def _uploads() -> None:
    op.create_table(
        "ingest_uploads",
        sa.Column("partner", sa.String(length=100), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("partner", "idempotency_key"),
        comment="The first answer to each Idempotency-Key, returned again on a retry",
    )


TABLES: dict[str, Callable[[], None]] = {
    "ingest_outbox": lambda: _outbox(
        "ingest_outbox", "The durable record: accepted records and dead letters, in publish order"
    ),
    "ingest_raw_outbox": lambda: _outbox(
        "ingest_raw_outbox",
        "What the validator accepted or dead-lettered from partners' raw topics, in order",
    ),
    "ingest_api_keys": _api_keys,
    "ingest_drainer_lease": _lease,
    "ingest_ledger": _ledger,
    "ingest_log_topics": _log_topics,
    "ingest_raw_offsets": _raw_offsets,
    "ingest_refusals": _refusals,
    "ingest_seen_events": _seen_events,
    "ingest_uploads": _uploads,
}


def upgrade() -> None:
    found = sa.inspect(op.get_bind())
    for name, create in TABLES.items():
        if not found.has_table(name):
            create()


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
