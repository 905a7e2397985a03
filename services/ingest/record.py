"""Control events into the durable record: day-end ticks and rules deployments are kept in
ingest's outbox like partner records, one row per partition, so the drainer publishes them
in order with what came before them and a rebuild after a broker loss sees them again."""

from __future__ import annotations

from datetime import UTC, datetime

from .routing import Message
from .store import Store


def keep_control(
    store: Store, topic: str, partitions: int, value: bytes, kind: str, source: str = "clock"
) -> int:
    """Keep one copy of `value` for every partition of `topic`; returns the rows kept. They
    carry no partner records, so the ledger's counts are unchanged."""
    messages = [Message(topic, p, b"", value, records=0) for p in range(partitions)]
    with store.begin() as tx:
        tx.publish(messages, source, datetime.now(UTC).date(), kind)
    return len(messages)
