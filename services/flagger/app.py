"""The Faust app: thin agent that decodes, calls the handler and sends."""

from __future__ import annotations

import logging
import time
from typing import Any

import faust

from flagstream.codec import Codec, CodecError
from flagstream.metrics import ServiceMetrics
from flagstream.settings import Settings
from flagstream.topics import Topics

from .handler import MessageHandler, Rejected

log = logging.getLogger("flagstream.flagger")
APP_ID = "flagstream-flagger"
TABLE = "child-state"


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
    handle = MessageHandler(codec, table, settings.rules(), partitions)

    @app.agent(source)
    async def flag(stream: Any) -> None:
        async for event in stream.events():
            started = time.perf_counter()
            try:
                out = handle(event.message.value, event.message.partition)
            except (CodecError, Rejected) as exc:
                reason = exc.reason
                metrics.rejected.labels(reason).inc()
                log.warning(
                    "skipped undecodable message at %s[%d]@%d: %s",
                    event.message.topic,
                    event.message.partition,
                    event.message.offset,
                    reason,
                )
                continue
            for kind, n in out.counts.items():
                metrics.events_in.labels(kind).inc(n)
            for change in out.changes:
                await changes_out.send(key=change.child_key.encode(), value=codec.encode(change))
            for snap in out.snapshots:
                await snapshots_out.send(key=snap.child_key.encode(), value=codec.encode(snap))
            metrics.events_out.labels("flag_changed").inc(len(out.changes))
            metrics.events_out.labels("child_flags_snapshot").inc(len(out.snapshots))
            metrics.latency.labels("message").observe(time.perf_counter() - started)

    return app
