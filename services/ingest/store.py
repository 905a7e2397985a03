"""The ingest database: the outbox, upload receipts (Idempotency-Key), partner event ids seen,
and per source/day counts. One transaction per upload, so a 202 means durably stored."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from flagstream.schema import create_tables

from .routing import Message

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
        comment=comment,
    )


outbox = _outbox(
    "ingest_outbox", "Accepted records and dead letters waiting to be published, in order"
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
    Column("partner", String(100), primary_key=True),
    Column("idempotency_key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("receipt", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    comment="The first answer to each Idempotency-Key, returned again on a retry",
)
seen_events = Table(
    "ingest_seen_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
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


def dialect_insert(conn: Connection, table: Table) -> Any:
    inserts = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    return inserts[conn.dialect.name](table)


def add_counts(conn: Connection, source: str, day: date, kind: str, **counts: int) -> None:
    """Add to one ledger row, creating it if needed."""
    row = {"source": source, "day": day, "kind": kind, **dict.fromkeys(COUNTS, 0), **counts}
    stmt = dialect_insert(conn, ledger)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "day", "kind"],
        set_={name: ledger.c[name] + stmt.excluded[name] for name in counts},
    )
    conn.execute(stmt, [row])


def add_refusal(conn: Connection, source: str, day: date, kind: str, reason: str) -> None:
    """Count one refused request."""
    stmt = dialect_insert(conn, refusals)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "day", "kind", "reason"],
        set_={"requests": refusals.c.requests + 1},
    )
    conn.execute(
        stmt, [{"source": source, "day": day, "kind": kind, "reason": reason, "requests": 1}]
    )


@dataclass(frozen=True, slots=True)
class Prior:
    """The stored first answer to an upload."""

    request_hash: str
    status: int
    receipt: dict[str, Any]


class Transaction:
    """Everything one upload writes, in one database transaction."""

    def __init__(self, conn: Connection, queue: Table = outbox) -> None:
        self.conn, self._outbox = conn, queue

    def prior(self, partner: str, key: str) -> Prior | None:
        """The first answer to this Idempotency-Key, if there was one."""
        row = self.conn.execute(
            select(uploads).where(uploads.c.partner == partner, uploads.c.idempotency_key == key)
        ).first()
        if row is None:
            return None
        return Prior(row.request_hash, row.status, json.loads(row.receipt))

    def seen(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these partner event ids were accepted before."""
        found: set[str] = set()
        for start in range(0, len(event_ids), 500):
            chunk = event_ids[start : start + 500]
            query = select(seen_events.c.event_id).where(seen_events.c.event_id.in_(chunk))
            found |= set(self.conn.scalars(query))
        return found

    def remember(self, event_ids: Iterable[str], now: datetime) -> None:
        """Record partner event ids as accepted."""
        rows = [{"event_id": e, "created_at": now} for e in dict.fromkeys(event_ids)]
        if rows:
            self.conn.execute(seen_events.insert(), rows)

    def publish(
        self, messages: Sequence[Message], source: str, day: date, kind: str, dead: bool = False
    ) -> None:
        """Queue messages in the outbox, in order."""
        rows = [
            {
                "topic": m.topic,
                "partition": m.partition,
                "key": m.key,
                "value": m.value,
                "records": m.records,
                "source": source,
                "day": day,
                "kind": kind,
                "dead": dead,
            }
            for m in messages
        ]
        if rows:
            self.conn.execute(self._outbox.insert(), rows)

    def save(
        self, partner: str, key: str, request_hash: str, status: int, receipt: dict[str, Any]
    ) -> None:
        """Keep the answer for retries with the same Idempotency-Key."""
        self.conn.execute(
            uploads.insert(),
            [
                {
                    "partner": partner,
                    "idempotency_key": key,
                    "request_hash": request_hash,
                    "status": status,
                    "receipt": json.dumps(receipt),
                    "created_at": datetime.now(UTC),
                }
            ],
        )


class Store:
    """The ingest database; creates its tables if missing. `queue` is the outbox table this
    store's writer fills and its drainer empties (ingest's, or the validator's)."""

    def __init__(self, engine: Engine, queue: Table = outbox) -> None:
        self.engine, self.queue = engine, queue
        create_tables(metadata, engine)

    @contextmanager
    def begin(self) -> Iterator[Transaction]:
        """One upload's transaction: committed on exit, rolled back on error."""
        with self.engine.begin() as conn:
            yield Transaction(conn, self.queue)

    def pending(self) -> int:
        """Messages in the outbox not yet acknowledged by the broker."""
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(self.queue)) or 0)

    def next_batch(self, limit: int) -> list[Any]:
        """The oldest queued messages."""
        query = select(self.queue).order_by(self.queue.c.id).limit(limit)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def published(self, rows: Sequence[Any]) -> None:
        """Remove acknowledged messages and count their accepted records as published."""
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(delete(self.queue).where(self.queue.c.id.in_([r.id for r in rows])))
            totals: dict[tuple[str, date, str], int] = {}
            for r in rows:
                if not r.dead:
                    k = (r.source, r.day, r.kind)
                    totals[k] = totals.get(k, 0) + r.records
            for (source, day, kind), n in sorted(totals.items()):
                add_counts(conn, source, day, kind, published=n)
