"""The ingest database: the durable record (the outbox), upload receipts (Idempotency-Key),
partner event ids seen, and per source/day counts. One transaction per upload, so a 202 means
durably stored.

The outbox is the durable record of everything accepted, not a queue: a row stays after the
broker acknowledges it (marked `sent`), until FLAGSTREAM_RECORD_RETENTION_DAYS says it may
go. When the topics are new or recreated (their topic ids changed: a reset broker), every
kept row is marked unsent and published again, in order (outbox.Drainer)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

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


def legacy_scope(partner: str) -> str:
    """The Idempotency-Key scope of an upload sent without a key id (and of answers kept before
    key ids were): the partner's name, hashed to a key id's length."""
    return "-" + hashlib.sha256(partner.encode()).hexdigest()[:31]


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

    def prior(self, scope: str, partner: str, key: str) -> Prior | None:
        """The first answer to this key's Idempotency-Key (or to the partner's, kept before
        answers were kept per key), if there was one."""
        scopes = {scope, legacy_scope(partner)}
        query = select(uploads).where(
            uploads.c.key_id.in_(sorted(scopes)), uploads.c.idempotency_key == key
        )
        row = self.conn.execute(query.order_by(uploads.c.created_at)).first()
        if row is None:
            return None
        return Prior(row.request_hash, row.status, json.loads(row.receipt))

    def seen(self, event_ids: Sequence[str], unscoped: bool = False) -> set[str]:
        """Which of these (published) event ids were accepted before; with unscoped, which of
        these partners' own ids were accepted before ids were scoped per key."""
        found: set[str] = set()
        for start in range(0, len(event_ids), 500):
            chunk = event_ids[start : start + 500]
            query = select(seen_events.c.event_id).where(seen_events.c.event_id.in_(chunk))
            if unscoped:
                query = query.where(seen_events.c.key_id.is_(None))
            found |= set(self.conn.scalars(query))
        return found

    def remember(self, event_ids: Iterable[str], now: datetime, scope: str | None = None) -> None:
        """Record partner event ids (as published) as accepted under a key's scope."""
        rows = [
            {"event_id": e, "created_at": now, "key_id": scope} for e in dict.fromkeys(event_ids)
        ]
        if rows:
            self.conn.execute(seen_events.insert(), rows)

    def publish(
        self,
        messages: Sequence[Message],
        source: str,
        day: date,
        kind: str,
        dead: bool = False,
        key_id: str | None = None,
    ) -> None:
        """Keep messages in the outbox (the durable record), in order, to be published; key_id
        is the API key that sent them."""
        now = datetime.now(UTC)
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
                "sent": False,
                "created_at": now,
                "key_id": key_id,
            }
            for m in messages
        ]
        if rows:
            self.conn.execute(self._outbox.insert(), rows)

    def save(
        self,
        scope: str,
        partner: str,
        key: str,
        request_hash: str,
        status: int,
        receipt: dict[str, Any],
    ) -> None:
        """Keep the answer for retries with the same Idempotency-Key and API key."""
        self.conn.execute(
            uploads.insert(),
            [
                {
                    "key_id": scope,
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
        _upgrade(engine)
        create_tables(metadata, engine)

    @contextmanager
    def begin(self) -> Iterator[Transaction]:
        """One upload's transaction: committed on exit, rolled back on error."""
        with self.engine.begin() as conn:
            yield Transaction(conn, self.queue)

    def _unsent(self) -> ColumnElement[bool]:
        """Records not yet on the current log, parked ones excepted."""
        return and_(~self.queue.c.sent, self.queue.c.parked.is_(None))

    def pending(self) -> int:
        """Records of the outbox not yet on the current log (parked ones excepted)."""
        query = select(func.count()).where(self._unsent())
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    def oldest_unsent(self) -> datetime | None:
        """When the oldest record not yet on the current log was accepted."""
        query = select(func.min(self.queue.c.created_at)).where(self._unsent())
        with self.engine.connect() as conn:
            found = conn.scalar(query)
        if found is not None and found.tzinfo is None:  # SQLite drops the zone
            found = found.replace(tzinfo=UTC)
        return found  # type: ignore[no-any-return]

    def next_batch(self, limit: int) -> list[Any]:
        """The oldest records not yet on the current log."""
        q = self.queue
        query = select(q).where(self._unsent()).order_by(q.c.id).limit(limit)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def published(self, rows: Sequence[Any]) -> None:
        """Mark acknowledged records sent; count accepted ones as published the first time."""
        if not rows:
            return
        now = datetime.now(UTC)
        q = self.queue
        with self.engine.begin() as conn:
            ids = [r.id for r in rows]
            first = {
                r.id
                for r in conn.execute(select(q.c.id).where(q.c.id.in_(ids), q.c.sent_at.is_(None)))
            }
            stamp = func.coalesce(q.c.sent_at, now)
            conn.execute(update(q).where(q.c.id.in_(ids)).values(sent=True, sent_at=stamp))
            totals: dict[tuple[str, date, str], int] = {}
            for r in rows:
                if not r.dead and r.id in first and r.records:
                    k = (r.source, r.day, r.kind)
                    totals[k] = totals.get(k, 0) + r.records
            for (source, day, kind), n in sorted(totals.items()):
                add_counts(conn, source, day, kind, published=n)

    def park(self, row: Any, reason: str) -> None:
        """Set a record aside that the broker refuses for good (e.g. too large)."""
        with self.engine.begin() as conn:
            conn.execute(update(self.queue).where(self.queue.c.id == row.id).values(parked=reason))

    def parked(self) -> int:
        """Records set aside with a reason."""
        query = select(func.count()).where(self.queue.c.parked.is_not(None))
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    def log_topics(self, name: str) -> dict[str, str]:
        """Topic ids this outbox last published into."""
        query = select(log_topics).where(log_topics.c.outbox == name)
        with self.engine.connect() as conn:
            return {r.topic: r.topic_id for r in conn.execute(query)}

    def new_log(self, name: str, ids: dict[str, str]) -> int:
        """The topics are new or recreated: mark every kept record unsent (so all is published
        again, in order) and remember the new topic ids. Returns the records to publish."""
        with self.engine.begin() as conn:
            conn.execute(update(self.queue).where(self.queue.c.parked.is_(None)).values(sent=False))
            _keep_log_topics(conn, name, ids)
            return int(conn.scalar(select(func.count()).where(self._unsent())) or 0)

    def keep_log_topics(self, name: str, ids: dict[str, str]) -> None:
        """Remember the topic ids `name` now reads or writes."""
        with self.engine.begin() as conn:
            _keep_log_topics(conn, name, ids)

    def prune(self, before: datetime) -> int:
        """Delete records acknowledged before `before` (the configured retention)."""
        q = self.queue
        with self.engine.begin() as conn:
            done = conn.execute(delete(q).where(q.c.sent, q.c.sent_at < before))
            return int(done.rowcount or 0)

    def hold_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Take or renew the lease on draining this outbox; False while another holds it."""
        now = datetime.now(UTC)
        until = now + timedelta(seconds=seconds)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(leases)
                .where(
                    leases.c.outbox == name,
                    (leases.c.holder == holder) | (leases.c.expires_at < now),
                )
                .values(holder=holder, expires_at=until)
            )
            if done.rowcount:
                return True
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    leases.insert(), [{"outbox": name, "holder": holder, "expires_at": until}]
                )
            return True
        except IntegrityError:
            return False

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (on a clean stop) so another replica takes over at once."""
        with self.engine.begin() as conn:
            conn.execute(delete(leases).where(leases.c.outbox == name, leases.c.holder == holder))


def _keep_log_topics(conn: Connection, name: str, ids: dict[str, str]) -> None:
    conn.execute(delete(log_topics).where(log_topics.c.outbox == name))
    rows = [{"outbox": name, "topic": t, "topic_id": i} for t, i in sorted(ids.items())]
    if rows:
        conn.execute(log_topics.insert(), rows)


def add_columns(engine: Engine, table: Table, names: Sequence[str]) -> None:
    """Add columns made after the table (typed from its declaration) to an existing table."""
    found = inspect(engine)
    if not found.has_table(table.name):
        return
    have = {c["name"] for c in found.get_columns(table.name)}
    missing = [c for c in names if c not in have]
    with engine.begin() as conn:
        for name in missing:
            column = table.c[name]
            kind = column.type.compile(dialect=engine.dialect)
            extra = "" if column.nullable else " NOT NULL DEFAULT FALSE"  # only `sent`
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}{extra}"))


def _upgrade(engine: Engine) -> None:
    """Bring a database made by an earlier ingest up to date: the durable-record columns and
    the sender's key id on the outboxes and partner event ids, and Idempotency-Key answers
    kept per key rather than per partner name."""
    for table in (outbox, raw_outbox):
        add_columns(engine, table, ("sent", "created_at", "sent_at", "parked", "key_id"))
    add_columns(engine, seen_events, ("key_id",))
    found = inspect(engine)
    if found.has_table(uploads.name) and "key_id" not in {
        c["name"] for c in found.get_columns(uploads.name)
    }:
        _rekey_uploads(engine)


def _rekey_uploads(engine: Engine) -> None:
    """The answers table keyed by (partner, Idempotency-Key) becomes keyed by (key id, ...):
    copied into the new table, each old answer under its partner's legacy scope."""
    old = f"{uploads.name}_by_partner"
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {uploads.name} RENAME TO {old}"))
        if conn.dialect.name == "postgresql":  # the key's index keeps its name otherwise
            conn.execute(
                text(f"ALTER TABLE {old} RENAME CONSTRAINT {uploads.name}_pkey TO {old}_pkey")
            )
        uploads.create(conn)
        names = "partner, idempotency_key, request_hash, status, receipt, created_at"
        for partner in list(conn.scalars(text(f"SELECT DISTINCT partner FROM {old}"))):
            conn.execute(
                text(
                    f"INSERT INTO {uploads.name} (key_id, {names}) "
                    f"SELECT :scope, {names} FROM {old} WHERE partner = :partner"
                ),
                {"scope": legacy_scope(partner), "partner": partner},
            )
        conn.execute(text(f"DROP TABLE {old}"))
