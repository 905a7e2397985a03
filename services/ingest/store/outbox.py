"""The ingest database as the outbox drainer sees it (kafka/drainer.py), and where each
upload's transaction begins (transaction.py). Creates its tables if missing.

The outbox is the durable record of everything accepted, not a queue: a row stays after the
broker acknowledges it (marked `sent`), until FLAGSTREAM_RECORD_RETENTION_DAYS says it may
go. When the topics are new or recreated (their topic ids changed: a reset broker), every
kept row is marked unsent and published again, in order (kafka.drainer.Drainer)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from flagstream.schema import create_tables

from .counts import add_counts
from .offsets import forget_offsets
from .tables import leases, log_topics, metadata, outbox
from .transaction import Transaction
from .upgrade import upgrade


class Store:
    """The ingest database; creates its tables if missing. `queue` is the outbox table this
    store's writer fills and its drainer empties (ingest's, or the validator's)."""

    def __init__(self, engine: Engine, queue: Table = outbox) -> None:
        self.engine, self.queue = engine, queue
        upgrade(engine)
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

    def forget_offsets(self, topics: Sequence[str]) -> None:
        """Read these raw topics from their start again (they were recreated)."""
        with self.engine.begin() as conn:
            forget_offsets(conn, topics)

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
