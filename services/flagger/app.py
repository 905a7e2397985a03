"""The Faust app: a thin agent that decodes, calls the handler, and hands the output and
the input to Pending, which sends the one and acks the other after a flush."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable
from typing import Any

import faust

from flagstream.codec import Codec, CodecError
from flagstream.metrics import ServiceMetrics
from flagstream.settings import Settings
from flagstream.topics import Topics

from .batches import BatchProducer
from .handler import MessageHandler, Output, Rejected
from .pending import LIVE, OutputTopics, Pending

log = logging.getLogger("flagstream.flagger")
APP_ID = "flagstream-flagger"
TABLE = "child-state"


class FaustTable:
    """The Faust table as durable storage: the local store plus its changelog topic,
    written to the partition that owns the key (not the partition of the current event).

    Changelog records are queued by put() and written by send() as produce batches
    (batches.py) rather than through Faust's send_changelog; the records are the same (raw
    key and value, in the owning partition), so Faust's recovery reads them as its own.
    (Faust's callback only matters to a RocksDB store's persisted offset; the flagger uses
    the memory store.)"""

    def __init__(self, table: Any, changelog: BatchProducer) -> None:
        self._table, self._changelog = table, changelog

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
        self._changelog.queue(self._topic, partition, key, value)

    @functools.cached_property
    def _topic(self) -> str:
        return str(self._table.changelog_topic.get_topic_name())

    async def send(self) -> int:
        """Write the queued changelog records and wait until the broker has them all."""
        return await self._changelog.send()


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
    table = app.Table(TABLE, default=None, partitions=partitions, key_type=bytes, value_type=bytes)

    def producer() -> Any:
        # Faust's aiokafka producer (no public accessor; faust-streaming is pinned < 0.16).
        return app.producer._ensure_producer()  # type: ignore[attr-defined]

    durable = FaustTable(table, BatchProducer(producer))
    handle = MessageHandler(codec, durable, settings.rules(), partitions)
    pending = Pending(
        handle,
        codec,
        metrics,
        OutputTopics(topics.flag_changes, topics.child_flags),
        BatchProducer(producer),
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
            pending.add(event, message.partition, out, message.timestamp or 0.0)
            if pending.due():
                await pending.flush()
            elif pending.send_due():
                await pending.send()
            latency.observe(time.perf_counter() - started)

    @app.timer(interval=LIVE.send_s / 2)  # type: ignore[untyped-decorator]
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
