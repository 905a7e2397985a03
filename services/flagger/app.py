"""The Faust app: a thin agent that decodes, calls the handler, and hands the output and
the input to the checkpoint (checkpoint.py), which sends the one and acks the other after a
flush. Input it cannot use is stopped on or quarantined (Poison), never skipped."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal

import faust
from prometheus_client import CollectorRegistry, Counter, Gauge

from flagstream import kafka_clients
from flagstream.codec import Codec, CodecError
from flagstream.kafka_security import KafkaSecurity
from flagstream.metrics import ConsumerMetrics, ServiceMetrics
from flagstream.settings import FlaggerSettings
from flagstream.term_calendar import term_start_lookup
from flagstream.topics import FLAGGER_APP_ID, FLAGGER_TABLE, Topics

from . import guard, kafka_quirks
from .batches import BatchProducer
from .checkpoint import LIVE, Checkpoint, OutputTopics
from .handler import MessageHandler, Output, Rejected
from .stall import EXIT_STALLED, StallWatch, committed_lag
from .store import FaustTable

__all__ = ["APP_ID", "TABLE", "FaustTable", "Poison", "create_app", "exit_if_log_reset"]

log = logging.getLogger("flagstream.flagger")
APP_ID: Final = FLAGGER_APP_ID  # Faust's app id, group id and topic-name prefix
TABLE: Final = FLAGGER_TABLE
# Refusals of a rules deployment: counted, acked and gone past (the rules stay as they were).
REFUSALS: Final = frozenset({"invalid_rules", "rules_version_mismatch"})
LOG_WATCH_S: Final = 5.0
EXIT_LOG_RESET: Final = 3
STALL_CHECK_S: Final = 30.0
# Faust's RocksDB defaults are 3 x 64 MiB memtables and a 2 GiB block cache per partition's
# database; the flagger keeps its working set in memory, so RocksDB needs far less.
ROCKSDB_OPTIONS: Final = {
    "driver": "rocksdict",
    "write_buffer_size": 8 << 20,
    "max_write_buffer_number": 2,
    "block_cache_size": 16 << 20,
}

OnUndecodable = Literal["stop", "quarantine"]


class Poison:
    """A message that is not a usable event (undecodable bytes, or not flagger input): with
    "stop", say so, flush what came before it and take no more input - its offset stays
    uncommitted, so a restart meets it again; with "quarantine", park its bytes on the
    quarantine topic, and once the broker has them, let it be acked and go on."""

    def __init__(
        self,
        mode: OnUndecodable,
        health: ConsumerMetrics,
        quarantine: Callable[[Any, str], Awaitable[None]],
        flush: Callable[[], Awaitable[None]],
    ) -> None:
        self._mode, self._health, self._quarantine, self._flush = mode, health, quarantine, flush
        self.resume = asyncio.Event()  # never set in the service: a stop lasts until a restart

    async def __call__(self, message: Any, reason: str) -> None:
        """Returns once the message is quarantined; when stopping, only if resume is set."""
        where = f"{message.topic}[{message.partition}]@{message.offset}"
        self._health.undecodable.labels(message.topic).inc()
        if self._mode == "quarantine":
            await self._quarantine(message, reason)
            log.warning("quarantined unusable input at %s: %s", where, reason)
            return
        self._health.stopped.labels("undecodable").set(1)
        log.critical(
            "stopped on unusable input at %s: %s; nothing after it is read until it is dealt "
            "with (docs/operations.md; FLAGSTREAM_ON_UNDECODABLE=quarantine parks such input)",
            where,
            reason,
        )
        await self._flush()
        await self.resume.wait()


def quarantine_to(topic: str, producer: Callable[[], Any]) -> Callable[[Any, str], Awaitable[None]]:
    """A copy of a message's own bytes, with where it came from, on the quarantine topic."""

    async def park(message: Any, reason: str) -> None:
        headers = [
            ("source_topic", str(message.topic).encode()),
            ("source_partition", str(message.partition).encode()),
            ("source_offset", str(message.offset).encode()),
            ("reason", reason.encode()),
        ]
        await producer().send_and_wait(
            topic, value=message.value, key=message.key, partition=0, headers=headers
        )

    return park


class Recovery:
    """How much of the changelog a start or rebalance read back into the table, and how long
    the table took to be ready (from partitions assigned to Faust's recovery complete)."""

    def __init__(self, registry: CollectorRegistry, progressed: Callable[[], None]) -> None:
        self._progressed = progressed  # each record read back is progress (stall.py)
        self.read = Counter(
            "flagstream_flagger_changelog_read",
            "Changelog records read back into the flagger's table (recovery, standbys)",
            registry=registry,
        )
        self.seconds = Gauge(
            "flagstream_flagger_recovery_seconds",
            "Duration of the last table recovery, from partitions assigned to recovered",
            registry=registry,
        )
        self._assigned_at = time.monotonic()
        self.records = 0  # read since the process started

    async def on_changelog_event(self, _event: Any) -> None:
        """Faust's callback for each changelog record it reads."""
        self.records += 1
        self.read.inc()
        self._progressed()

    def assigned(self) -> None:
        """Partitions assigned: a recovery starts."""
        self._assigned_at = time.monotonic()

    def recovered(self) -> None:
        """Faust says recovery is complete."""
        took = time.monotonic() - self._assigned_at
        self.seconds.set(took)
        log.info("table recovered in %.1fs (%d changelog records read so far)", took, self.records)


async def exit_if_log_reset(
    watch: guard.LogWatch, health: ConsumerMetrics, exit: Callable[[int], Any] = os._exit
) -> None:
    """Exit at once - nothing flushed or acked, so no state from the old log is committed
    onto the new one - when the log has been reset under the flagger."""
    reason = await watch.changed()
    if reason is None:
        return
    log.critical("log reset: %s; exiting so the flagger is rebuilt (docs/operations.md)", reason)
    health.log_resets.labels("flagger").inc()
    exit(EXIT_LOG_RESET)


def create_app(
    settings: FlaggerSettings, codec: Codec, metrics: ServiceMetrics, *, health: ConsumerMetrics
) -> faust.App:
    """Build the Faust app; call once per process."""
    topics = Topics(settings.topic_prefix)
    partitions = settings.partitions
    app = kafka_clients.faust_app(
        APP_ID,
        settings.require_kafka(),
        security=KafkaSecurity.from_settings(settings),
        store=settings.flagger_store,
        datadir=str(settings.flagger_data_dir),
        topic_partitions=partitions,
        topic_replication_factor=settings.replication_factor,
        # Topics, changelog and leader topic included, are made by `flagstream topics create`.
        topic_allow_declare=False,
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
    canonical = set(topics.canonical)
    bootstrap = settings.require_kafka()

    def assigned() -> list[tuple[str, int]]:
        return [
            (tp.topic, tp.partition) for tp in app.consumer.assignment() if tp.topic in canonical
        ]

    stall = StallWatch(
        settings.flagger_stall_exit_s,
        assigned,
        lambda parts: committed_lag(bootstrap, APP_ID, parts),
    )
    recovery = Recovery(metrics.registry, stall.progressed)
    rocksdb = settings.flagger_store.startswith("rocksdb:")
    table = app.Table(
        TABLE,
        default=None,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        on_changelog_event=recovery.on_changelog_event,
        options=dict(ROCKSDB_OPTIONS) if rocksdb else None,  # a copy: Faust pops from it
    )

    def producer() -> Any:
        return kafka_quirks.faust_producer(app)

    durable = FaustTable(table, BatchProducer(producer))
    term_of = term_start_lookup(settings.calendar())  # a bad calendar file stops it here
    handle = MessageHandler(codec, durable, settings.rules(), partitions, term_of=term_of)
    pending = Checkpoint(
        handle,
        codec,
        metrics,
        OutputTopics(topics.flag_changes, topics.child_flags),
        BatchProducer(producer),
        durable.send,
    )
    poison = Poison(
        settings.on_undecodable, health, quarantine_to(topics.quarantine, producer), pending.flush
    )
    latency = metrics.latency.labels("message")

    @app.agent(source)
    async def flag(stream: Any) -> None:
        async for event in stream.noack().events():
            started = time.perf_counter()
            stall.progressed()
            message = event.message
            out: Output | None = None
            unusable: str | None = None
            try:
                if message.value is None:
                    raise Rejected("no_value", "a message without a value")
                out = handle(message.value, message.partition)
            except (CodecError, Rejected) as exc:
                unusable = str(exc.reason)
            else:
                for kind, n in out.counts.items():
                    metrics.events_in.labels(kind).inc(n)
            if unusable in REFUSALS:
                metrics.rejected.labels(unusable).inc()
                where = f"{message.topic}[{message.partition}]@{message.offset}"
                log.warning("refused a rules deployment at %s: %s", where, unusable)
            elif unusable is not None:
                await poison(message, unusable)
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

    watch = guard.LogWatch(settings)

    @app.timer(interval=LOG_WATCH_S)  # type: ignore[untyped-decorator]
    async def watch_log() -> None:
        await exit_if_log_reset(watch, health)

    @app.timer(interval=STALL_CHECK_S)  # type: ignore[untyped-decorator]
    async def exit_if_stalled() -> None:
        reason = await stall.stalled()
        if reason is not None:
            log.critical("stalled: %s; exiting so the flagger is started again", reason)
            os._exit(EXIT_STALLED)  # nothing consumed since the last flush: nothing to lose

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode's stubs want `signal=`
    async def on_revoked(_app: Any, *_args: Any, **_kwargs: Any) -> None:
        # A rebalance may be a rejoin on a new broker: check the log first, so nothing from
        # the old log is flushed or acked onto the new one.
        await exit_if_log_reset(watch, health)
        # Flush and ack what was processed, then forget cached state: the partitions may
        # go to another worker, and come back later with state it changed.
        await pending.flush()
        handle.forget()

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def on_assigned(_app: Any, *_args: Any, **_kwargs: Any) -> None:
        await exit_if_log_reset(watch, health)  # on every rebalance, before any input
        recovery.assigned()
        stall.progressed()

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]
    async def on_recovered(_app: Any, *_args: Any, **_kwargs: Any) -> None:
        recovery.recovered()
        stall.progressed()

    return app
