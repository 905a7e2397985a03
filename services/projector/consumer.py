"""The projector loop: read from stored offsets, decode, write rows + offsets in one txn.

Partitions are assigned explicitly (no consumer group): the database, not Kafka, holds
the offsets, so a crash at any point replays from the last committed transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from kafka import KafkaProducer, TopicPartition
from kafka.errors import OffsetOutOfRangeError
from prometheus_client import Counter
from sqlalchemy import Engine

from flagstream import catalogue, kafka_clients
from flagstream.codec import Codec, CodecError
from flagstream.codec_plain import Plain
from flagstream.metrics import ConsumerMetrics, ServiceMetrics, consumer_metrics
from flagstream.topics import Topics

from .logcheck import LogReset, StatusWatch, check_log
from .writer import Consumed, KnownSchools, project, stored_offsets

log = logging.getLogger("flagstream.projector")
FETCH_MAX_WAIT_MS = 100


def source_topics(topics: Topics) -> list[str]:
    """The topics the projector reads: flagger output, reference data, outcomes, and the
    canonical topics (for data freshness, rolls and school days)."""
    return [
        topics.schools,
        topics.flag_changes,
        topics.child_flags,
        topics.outcomes,
        *topics.canonical,
    ]


class Projector:
    """Consumes flagger output and reference data into the read model."""

    def __init__(
        self,
        bootstrap: str,
        topics: Topics,
        engine: Engine,
        codec: Codec,
        metrics: ServiceMetrics,
        batch_size: int = 5000,
        partitions: int | None = None,
        on_reset: str = "refuse",
        on_undecodable: str = "stop",
        health: ConsumerMetrics | None = None,
        reflag_after_days: int = 0,
    ) -> None:
        self._engine, self._codec, self._metrics = engine, codec, metrics
        self._reflag_after_days = reflag_after_days
        self._topics, self._batch_size = source_topics(topics), batch_size
        self._names, self._bootstrap, self._partitions = topics, bootstrap, partitions
        self._on_reset, self._on_undecodable = on_reset, on_undecodable
        self.health = health or consumer_metrics(metrics.registry)
        self._watch: StatusWatch | None = None
        self._quarantine: KafkaProducer | None = None
        self.stopped_on: str | None = None  # where it stopped on undecodable input
        self._consumer = kafka_clients.consumer(
            bootstrap_servers=bootstrap,
            client_id="flagstream-projector",
            enable_auto_commit=False,
            allow_auto_create_topics=False,
            # A position past a partition's end is a reset log: raise, never jump elsewhere.
            auto_offset_reset="none",
            max_partition_fetch_bytes=8 * 1024 * 1024,
            # The embedded broker holds a fetch to its deadline even when data arrives: at
            # kafka-python's default of 500 ms a record reached the projector ~205 ms after
            # it was produced, at 100 ms within 5-31 ms. Kafka answers as data arrives.
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        self._stop = threading.Event()
        # Label children resolved once: .labels() per record was ~5% of the projector.
        self._events_in = {
            kind: metrics.events_in.labels(catalogue.label_of(kind)) for kind in codec.event_types
        }
        self._rejected: dict[str, Counter] = {}
        self._events_out: dict[str, Counter] = {}
        self._batch_latency = metrics.latency.labels("batch")
        self._known = KnownSchools()

    def check_log(self) -> None:
        """Refuse or rebuild a read model of another log; start the status watch."""
        if self._partitions is None:
            return
        ids = check_log(
            self._bootstrap,
            self._names,
            self._topics,
            self._partitions,
            self._engine,
            self._on_reset,
            self.health,
        )
        self._watch = StatusWatch(
            self._bootstrap, self._names, self._topics, ids, self._engine, self.health
        ).start()

    def _assign(self, timeout: float = 60.0) -> None:
        self.check_log()
        deadline = time.monotonic() + timeout
        tps: list[TopicPartition] = []
        for topic in self._topics:
            while not (parts := self._consumer.partitions_for_topic(topic)):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"topic {topic} not found: run `flagstream topics create` first"
                    )
                time.sleep(0.5)
            tps += [TopicPartition(topic, p) for p in sorted(parts)]
        self._consumer.assign(tps)
        with self._engine.connect() as conn:
            offsets = stored_offsets(conn)
        for tp in tps:
            stored = offsets.get((tp.topic, tp.partition))
            if stored is None:
                self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, stored)

    def _decode(self, value: bytes) -> list[Plain | None]:
        """The records a message carries (each event of a ChildEventsRecorded batch)."""
        try:
            records = self._codec.read_plain(value)
        except CodecError as exc:
            if exc.reason not in self._rejected:
                self._rejected[exc.reason] = self._metrics.rejected.labels(exc.reason)
            self._rejected[exc.reason].inc()
            return [None]
        kinds: dict[type[Any], int] = {}  # one inc per kind and message, not per event
        for p in records:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        for kind, n in kinds.items():
            self._events_in[kind].inc(n)
        out: list[Plain | None] = list(records)
        return out

    def _poll(self, timeout_ms: int, max_records: int) -> list[Consumed]:
        if self._watch is not None and self._watch.reset is not None:
            raise LogReset(self._watch.reset)
        try:
            polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        except OffsetOutOfRangeError as exc:
            raise LogReset(f"stored offsets past the log end: {exc}") from None
        out: list[Consumed] = []
        for tp, records in polled.items():
            for r in records:
                events = self._decode(r.value)
                if events == [None] and not self._undecodable(tp.topic, tp.partition, r):
                    return out  # stopped: nothing from here on is stored
                out += [Consumed(tp.topic, tp.partition, r.offset, e) for e in events]
        return out

    def _undecodable(self, topic: str, partition: int, record: Any) -> bool:
        """Stop on an undecodable message (False), or quarantine it and go on (True)."""
        self.health.undecodable.labels(topic).inc()
        where = f"{topic}[{partition}]@{record.offset}"
        if self._on_undecodable == "quarantine":
            if self._quarantine is None:
                self._quarantine = kafka_clients.producer(
                    bootstrap_servers=self._bootstrap,
                    acks="all",
                    allow_auto_create_topics=False,
                    max_request_size=16 * 1024 * 1024,
                )
            headers = [
                ("source_topic", topic.encode()),
                ("source_partition", str(partition).encode()),
                ("source_offset", str(record.offset).encode()),
                ("reason", b"undecodable"),
            ]
            self._quarantine.send(
                self._names.quarantine, value=record.value, key=record.key, partition=0,
                headers=headers,
            ).get(timeout=30)  # fmt: skip
            log.error("undecodable message at %s copied to %s", where, self._names.quarantine)
            return True
        self.stopped_on = where
        self.health.stopped.labels("undecodable").set(1)
        log.critical(
            "undecodable message at %s: the projector stopped before it (nothing after it is "
            "stored). Deploy the schema it needs, or restart with FLAGSTREAM_ON_UNDECODABLE="
            "quarantine to set it aside; see docs/operations.md",
            where,
        )
        return False

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Read one batch and commit it with its offsets; returns the records consumed (each
        event of a ChildEventsRecorded counts as one)."""
        batch = self._poll(timeout_ms, self._batch_size)
        if batch:
            self._write(batch)
        return len(batch)

    def _write(self, batch: Sequence[Consumed]) -> None:
        started = time.perf_counter()
        with self._engine.begin() as conn:
            written = project(conn, batch, self._known, self._reflag_after_days)
        self._known.commit()
        for table, n in written.items():
            if table not in self._events_out:
                self._events_out[table] = self._metrics.events_out.labels(table)
            self._events_out[table].inc(n)
        self._batch_latency.observe(time.perf_counter() - started)

    def run(self) -> None:
        """Consume until stop() is called. Stopped on undecodable input, it stays up (serving
        /metrics, so the alert fires) without reading on. A log reset found while running
        ends it with LogReset."""
        self._assign()
        log.info("projector reading %s", ", ".join(self._topics))
        try:
            while not self._stop.is_set():
                if self.stopped_on is not None:
                    self._stop.wait(1.0)
                    continue
                self.poll_once()
        finally:
            if self._watch is not None:
                self._watch.stop()
            self._consumer.close()

    def stop(self) -> None:
        """Ask run() to return after the current batch."""
        self._stop.set()
