"""The ingest database's tables: the durable record (the outboxes), the drainers' leases and
log topic ids, the raw topics' offsets, upload answers (Idempotency-Key), partner event ids
seen, the ledger and refusals, and the roll, known schools and pending transfers."""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()


def _outbox(name: str, comment: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("topic", String(255), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("key", LargeBinary, nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("records", Integer, nullable=False, comment="Partner records the message carries"),
        Column("source", String(200), nullable=False),
        Column("day", Date, nullable=False),
        Column("kind", String(64), nullable=False),
        Column("dead", Boolean, nullable=False, comment="A dead letter, not an accepted record"),
        Column("sent", Boolean, nullable=False, default=False, comment="On the current log"),
        Column("created_at", DateTime(timezone=True), nullable=True, comment="When accepted"),
        Column("sent_at", DateTime(timezone=True), nullable=True, comment="First acknowledged"),
        Column("parked", String(64), nullable=True, comment="Why the broker refused it for good"),
        Column(
            "key_id",
            String(32),
            nullable=True,
            comment="API key (fsk_<id>) that sent it; none for control events and raw topics",
        ),
        Index(f"ix_{name}_unsent", "sent", "id"),
        comment=comment,
    )


outbox = _outbox(
    "ingest_outbox", "The durable record: accepted records and dead letters, in publish order"
)
# The validator's own outbox: one drainer per table, so ingest and the validator never both
# publish (and so duplicate) the same row.
raw_outbox = _outbox(
    "ingest_raw_outbox",
    "What the validator accepted or dead-lettered from partners' raw topics, in order",
)
raw_offsets = Table(
    "ingest_raw_offsets",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
    comment="Next offset of each raw-topic partition, committed with what it produced",
)
log_topics = Table(
    "ingest_log_topics",
    metadata,
    Column("outbox", String(64), primary_key=True),
    Column("topic", String(255), primary_key=True),
    Column("topic_id", String(64), nullable=False),
    comment="The topic ids each outbox last published into: a change means a reset log",
)
leases = Table(
    "ingest_drainer_lease",
    metadata,
    Column("outbox", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    comment="Which ingest replica drains each outbox (one at a time)",
)
refusals = Table(
    "ingest_refusals",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("kind", String(64), primary_key=True),
    Column("reason", String(64), primary_key=True),
    Column("requests", BigInteger, nullable=False, default=0),
    comment="Requests refused whole (401, 403, 413, ...): nothing from them was counted as "
    "received",
)

uploads = Table(
    "ingest_uploads",
    metadata,
    Column(
        "key_id",
        String(32),
        primary_key=True,
        comment="API key that sent it (Idempotency-Keys are per key); '-<hash of the partner>' "
        "for answers kept before keys were recorded",
    ),
    Column("idempotency_key", String(200), primary_key=True),
    Column("partner", String(100), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("receipt", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    comment="The first answer to each Idempotency-Key, returned again on a retry",
)
seen_events = Table(
    "ingest_seen_events",
    metadata,
    Column("event_id", String(36), primary_key=True, comment="As published (scoped per key)"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column(
        "key_id",
        String(32),
        nullable=True,
        comment="Scope it was sent under (API key id, or 'raw'); none: kept before scoping, "
        "the partner's own id",
    ),
    comment="event_ids partners chose, so a resent record is not published twice",
)
ledger = Table(
    "ingest_ledger",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("kind", String(64), primary_key=True),
    Column("received", BigInteger, nullable=False, default=0),
    Column("accepted", BigInteger, nullable=False, default=0),
    Column("rejected", BigInteger, nullable=False, default=0),
    Column("published", BigInteger, nullable=False, default=0),
    comment="Per source, day (of receipt) and kind: received = accepted + rejected",
)
COUNTS = ("received", "accepted", "rejected", "published")

roll = Table(
    "ingest_roll",
    metadata,
    Column("child_key", String(64), primary_key=True),
    Column("urn", String(6), primary_key=True),
    Column("joined_on", Date, primary_key=True),
    Column("left_on", Date, nullable=True, comment="None: still on this school's roll"),
    Column("key_id", String(32), nullable=True, comment="API key that sent the enrolment"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    comment="Each child's enrolments as accepted: who is on which school's roll, when",
)
schools = Table(
    "ingest_schools",
    metadata,
    Column("urn", String(6), primary_key=True),
    Column("key_id", String(32), nullable=True, comment="API key that first sent it"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    comment="URNs a school record was accepted for: records naming others are refused",
)
transfers = Table(
    "ingest_transfers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("child_key", String(64), nullable=False, index=True),
    Column("from_urn", String(6), nullable=False, comment="School whose roll the child is on"),
    Column("to_urn", String(6), nullable=False, comment="School that enrolled the child"),
    Column("joined_on", Date, nullable=False),
    Column("left_on", Date, nullable=True),
    Column("status", String(16), nullable=False, comment="pending or confirmed"),
    Column("source", String(200), nullable=False, comment="Ledger source, day and kind of the"),
    Column("day", Date, nullable=False, comment="held record, counted accepted on receipt"),
    Column("kind", String(64), nullable=False),
    Column("topic", String(255), nullable=False, comment="The held message, as the outbox"),
    Column("partition", Integer, nullable=False, comment="would have kept it"),
    Column("key", LargeBinary, nullable=False),
    Column("value", LargeBinary, nullable=False, comment="EnrolmentRecorded (no names)"),
    Column("records", Integer, nullable=False),
    Column("key_id", String(32), nullable=True, comment="API key that sent it"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
    Column("confirmed_by", String(64), nullable=True, comment="Key id, 'raw' or 'admin'"),
    comment="Enrolments held because the child is on another school's roll",
)
ROLL_TABLES: Final = (roll, schools, transfers)
