"""The projector loop: read from stored offsets, decode, write rows + offsets in one txn.

Partitions are assigned explicitly (no consumer group): the database, not Kafka, holds
the offsets, so a crash at any point replays from the last committed transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from kafka import KafkaConsumer, TopicPartition
from prometheus_client import Counter
from sqlalchemy import Engine

from flagstream.codec import Codec, CodecError
from flagstream.metrics import ServiceMetrics
from flagstream.topics import Topics

from .rows import Plain
from .writer import Consumed, KnownSchools, project, stored_offsets

log = logging.getLogger("flagstream.projector")
FETCH_MAX_WAIT_MS = 100
KINDS = {
    "SchoolRecorded": "school",
    "FlagChanged": "flag_changed",
    "ChildFlagsSnapshot": "child_flags_snapshot",
    "ChildFlagsSnapshots": "child_flags_snapshots",
    "OutcomeRecorded": "outcome",
    "EnrolmentRecorded": "enrolment",
    "AttendanceMarksRecorded": "attendance_batch",
    "AttendanceMarkBatch": "attendance_batch",
    "DayEnded": "day_ended",
}


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


def _is_event(codec: Codec, name: str) -> bool:
    try:
        codec.event_type(name)
    except KeyError:
        return False
    return True


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
    ) -> None:
        self._engine, self._codec, self._metrics = engine, codec, metrics
        self._topics, self._batch_size = source_topics(topics), batch_size
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id="flagstream-projector",
            enable_auto_commit=False,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            # The embedded broker holds a fetch to its deadline even when data arrives: at
            # kafka-python's default of 500 ms a record reached the projector ~205 ms after
            # it was produced, at 100 ms within 5-31 ms. Kafka answers as data arrives.
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        self._stop = threading.Event()
        # Label children resolved once: .labels() per record was ~5% of the projector.
        self._events_in = {
            name: metrics.events_in.labels(KINDS.get(name, "other"))
            for name in codec.schema_names
            if _is_event(codec, name)
        }
        self._rejected: dict[str, Counter] = {}
        self._events_out: dict[str, Counter] = {}
        self._batch_latency = metrics.latency.labels("batch")
        self._known = KnownSchools()

    def _assign(self, timeout: float = 60.0) -> None:
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
            records = self._codec.decode_plain_all(value)
            kinds: dict[str, int] = {}  # one inc per kind and message, not per event
            for name, _ in records:
                kinds[name] = kinds.get(name, 0) + 1
            for name in kinds:
                if name not in self._events_in:
                    raise CodecError("unknown_fingerprint", f"{name} is not an event schema")
        except CodecError as exc:
            if exc.reason not in self._rejected:
                self._rejected[exc.reason] = self._metrics.rejected.labels(exc.reason)
            self._rejected[exc.reason].inc()
            return [None]
        for name, n in kinds.items():
            self._events_in[name].inc(n)
        return [Plain(name, record) for name, record in records]

    def _poll(self, timeout_ms: int, max_records: int) -> list[Consumed]:
        polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        return [
            Consumed(tp.topic, tp.partition, r.offset, event)
            for tp, records in polled.items()
            for r in records
            for event in self._decode(r.value)
        ]

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
            written = project(conn, batch, self._known)
        self._known.commit()
        for table, n in written.items():
            if table not in self._events_out:
                self._events_out[table] = self._metrics.events_out.labels(table)
            self._events_out[table].inc(n)
        self._batch_latency.observe(time.perf_counter() - started)

    def run(self) -> None:
        """Consume until stop() is called."""
        self._assign()
        log.info("projector reading %s", ", ".join(self._topics))
        while not self._stop.is_set():
            self.poll_once()
        self._consumer.close()

    def stop(self) -> None:
        """Ask run() to return after the current batch."""
        self._stop.set()
