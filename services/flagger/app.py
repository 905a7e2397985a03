"""The Faust app: a thin agent that decodes, calls the handler, sends, and acks after flush."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import faust

from flagstream.codec import Codec, CodecError
from flagstream.domain.events import ChildFlagsSnapshot, FlagChanged
from flagstream.metrics import ServiceMetrics
from flagstream.settings import Settings
from flagstream.topics import Topics

from .handler import MessageHandler, Output, Rejected

log = logging.getLogger("flagstream.flagger")
APP_ID = "flagstream-flagger"
TABLE = "child-state"
SEND_SECONDS = 0.2  # output is sent at least this often: it bounds the added latency
FLUSH_EVERY = 50_000  # input messages between state flushes (and acks), at most ...
FLUSH_SECONDS = 5.0  # ... and seconds: a crash replays at most this much input
SNAPSHOTS_PER_MESSAGE = 1_000  # ~170 KB: well under Kafka's default 1 MB message limit


class FaustTable:
    """The Faust table as durable storage: the local store plus its changelog topic,
    written to the partition that owns the key (not the partition of the current event).

    Changelog records are queued by put() and written by send(), many to a produce batch:
    Faust's own send_changelog costs ~70 us a record (a FutureMessage, its buffer and
    callbacks), which on a Dorset-size rebuild was most of the flagger's time. The records
    are the same (raw key and value, in the owning partition), so Faust's recovery reads
    them as its own. (Faust's callback only matters to a RocksDB store's persisted offset;
    the flagger uses the memory store.)"""

    def __init__(self, table: Any, producer: Callable[[], Any]) -> None:
        self._table, self._producer = table, producer
        self._queued: dict[int, list[tuple[bytes, bytes]]] = {}

    def get(self, key: bytes) -> bytes | None:
        """The stored bytes, if any."""
        value = self._table.data.get(key)
        return bytes(value) if value is not None else None

    def stored_keys(self) -> Iterable[bytes]:
        """Every key in the local store (the partitions this worker holds)."""
        return list(self._table.data.keys())

    def put(self, partition: int, key: bytes, value: bytes) -> None:
        """Store locally now; the changelog record goes out with the next send()."""
        self._table.data[key] = value
        self._queued.setdefault(partition, []).append((key, value))

    async def send(self) -> int:
        """Write the queued changelog records and wait until the broker has them all."""
        queued, self._queued = self._queued, {}
        producer = self._producer()
        topic = self._table.changelog_topic.get_topic_name()
        delivered: list[asyncio.Future[Any]] = []
        for partition, records in sorted(queued.items()):
            batch = producer.create_batch()
            for key, value in records:
                if batch.append(key=key, value=value, timestamp=None) is None:
                    delivered.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    if batch.append(key=key, value=value, timestamp=None) is None:
                        raise ValueError(f"a {len(value)}-byte state exceeds the batch size")
            delivered.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*delivered)
        return sum(len(r) for r in queued.values())


class Pending:
    """Input processed since the last flush, and the output it produced. On flush the
    changed children are written to the table, the output is sent - one snapshot batch per
    partition, each child's latest snapshot only - and only then is the input acked, so
    Faust never commits an offset whose effects could still be lost."""

    def __init__(
        self,
        handle: MessageHandler,
        codec: Codec,
        metrics: ServiceMetrics,
        sinks: Any,
        producer_flush: Callable[[], Awaitable[None]],
        changelog: Callable[[], Awaitable[int]],
    ) -> None:
        self._handle, self._codec, self._metrics = handle, codec, metrics
        self._producer_flush, self._changelog = producer_flush, changelog
        self._changes_out, self._snapshots_out = sinks
        self.events: list[Any] = []
        self._changes: list[FlagChanged] = []
        self._snapshots: dict[int, dict[str, ChildFlagsSnapshot]] = {}
        self.flushed_at = self.sent_at = time.monotonic()

    def add(self, event: Any, partition: int, out: Output | None) -> None:
        """Hold an input event until flush, with what it produced."""
        self.events.append(event)
        if out is not None:
            self._changes += out.changes
            latest = self._snapshots.setdefault(partition, {})
            for snapshot in out.snapshots:
                latest[snapshot.child_key] = snapshot

    def due(self) -> bool:
        """Whether enough input or time has passed since the last state flush."""
        return len(self.events) >= FLUSH_EVERY or (
            bool(self.events) and time.monotonic() - self.flushed_at >= FLUSH_SECONDS
        )

    def send_due(self) -> bool:
        """Whether output has waited long enough to be sent."""
        return bool(self._changes or self._snapshots) and (
            time.monotonic() - self.sent_at >= SEND_SECONDS
        )

    async def send(self) -> None:
        """Send the output held so far (before the input it came from is acked)."""
        started = time.perf_counter()
        changes, self._changes = self._changes, []
        snapshots, self._snapshots = self._snapshots, {}
        for change in changes:
            await self._changes_out.send(
                key=change.child_key.encode(), value=self._codec.encode(change)
            )
        sent = 0
        for partition, latest in sorted(snapshots.items()):
            batch = list(latest.values())
            for i in range(0, len(batch), SNAPSHOTS_PER_MESSAGE):
                out = Output(snapshots=batch[i : i + SNAPSHOTS_PER_MESSAGE]).snapshot_batch()
                await self._snapshots_out.send(value=self._codec.encode(out), partition=partition)
            sent += len(batch)
        self.sent_at = time.monotonic()
        self._metrics.events_out.labels("flag_changed").inc(len(changes))
        self._metrics.events_out.labels("child_flags_snapshot").inc(sent)
        self._metrics.latency.labels("send").observe(time.perf_counter() - started)

    async def flush(self) -> None:
        """Output out, state to the table, wait until the broker has both, then ack the
        input: only now may Faust commit its offsets."""
        events, self.events = self.events, []
        await self.send()
        started = time.perf_counter()
        written = self._handle.flush()
        # An offset committed before its state is on the broker would lose that state if
        # the partition moved to another worker now: wait for the changelog and output.
        await self._changelog()
        await self._producer_flush()
        for event in events:
            event.ack()
        self.flushed_at = time.monotonic()
        self._metrics.events_out.labels("state_flushed").inc(written)
        self._metrics.latency.labels("flush").observe(time.perf_counter() - started)


def create_app(settings: Settings, codec: Codec, metrics: ServiceMetrics) -> faust.App:
    """Build the Faust app; call once per process."""
    topics = Topics(settings.topic_prefix)
    partitions = settings.partitions
    app = faust.App(
        APP_ID,
        broker=[f"kafka://{b}" for b in settings.require_kafka().split(",")],
        store=settings.flagger_store,
        datadir=str(settings.flagger_data_dir),
        topic_partitions=partitions,
        topic_replication_factor=settings.replication_factor,
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=False,
        producer_acks=-1,
        producer_linger_ms=5,  # fewer, larger produce requests
        consumer_auto_offset_reset="earliest",
        # The embedded broker waits the whole rebalance timeout before a join completes.
        broker_rebalance_timeout=settings.kafka_rebalance_timeout_s,
        broker_session_timeout=max(10.0, settings.kafka_rebalance_timeout_s),
        broker_heartbeat_interval=1.0,
    )
    source = app.topic(*topics.canonical, partitions=partitions)
    changes_out = app.topic(topics.flag_changes, partitions=partitions)
    snapshots_out = app.topic(topics.child_flags, partitions=partitions)
    table = app.Table(TABLE, default=None, partitions=partitions, key_type=bytes, value_type=bytes)
    # Faust's aiokafka producer (no public accessor; faust-streaming is pinned < 0.16).
    durable = FaustTable(table, lambda: app.producer._ensure_producer())  # type: ignore[attr-defined]
    handle = MessageHandler(codec, durable, settings.rules(), partitions)
    pending = Pending(
        handle,
        codec,
        metrics,
        (changes_out, snapshots_out),
        lambda: app.producer.flush(),
        durable.send,
    )
    rejected = {r: metrics.rejected.labels(r) for r in ("not_canonical_event", "invalid_rules")}
    latency = metrics.latency.labels("message")

    @app.agent(source)
    async def flag(stream: Any) -> None:
        async for event in stream.noack().events():
            started = time.perf_counter()
            message = event.message
            out: Output | None = None
            try:
                out = handle(message.value, message.partition)
            except (CodecError, Rejected) as exc:
                counter = rejected.get(exc.reason) or metrics.rejected.labels(exc.reason)
                counter.inc()
                log.warning(
                    "skipped unusable message at %s[%d]@%d: %s",
                    message.topic,
                    message.partition,
                    message.offset,
                    exc.reason,
                )
            else:
                for kind, n in out.counts.items():
                    metrics.events_in.labels(kind).inc(n)
            pending.add(event, message.partition, out)
            if pending.due():
                await pending.flush()
            elif pending.send_due():
                await pending.send()
            latency.observe(time.perf_counter() - started)

    @app.timer(interval=SEND_SECONDS / 2)  # type: ignore[untyped-decorator]
    async def flush_when_idle() -> None:
        if pending.due():
            await pending.flush()
        elif pending.send_due():
            await pending.send()

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode's stubs want `signal=`
    async def on_revoked(_app: Any, *_args: Any, **_kwargs: Any) -> None:
        # Flush and ack what was processed, then forget cached state: the partitions may
        # go to another worker, and come back later with state it changed.
        await pending.flush()
        handle.forget()

    return app
