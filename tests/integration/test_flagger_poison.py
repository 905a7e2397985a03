"""A message the flagger cannot decode, between good ones in a canonical partition, on the
real embedded broker: with FLAGSTREAM_ON_UNDECODABLE=stop the flagger processes what came
before it and nothing after, leaves its group's offset on it (a restart meets it again) and
says so on /metrics; with quarantine its bytes go to the quarantine topic, with where they
came from, and what follows is processed."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from flagstream.codec import Codec
from flagstream.domain import events as ev
from flagstream.lag import end_offsets, group_offsets
from flagstream.topics import FLAGGER_APP_ID, partition_for
from flagstream_tools.demo.stack import Stack

from .flagger_harness import kill, metric, start_flagger, wait_until

PARTITIONS = 3
CODEC = Codec()
STOPPED = 'flagstream_consumer_stopped{reason="undecodable"}'
POISON = b"\xde\xad" + os.urandom(62)  # not single-object encoded: undecodable


def _same_partition(n: int) -> tuple[int, list[str]]:
    keys = [f"child-{i}" for i in range(50)]
    partition = partition_for(keys[0], PARTITIONS)
    return partition, [k for k in keys if partition_for(k, PARTITIONS) == partition][:n]


def _school() -> bytes:
    t = datetime(2025, 9, 8, 16, tzinfo=UTC)
    return CODEC.encode(
        ev.SchoolRecorded(
            event_id=uuid.UUID(int=1), source="test", occurred_at=t, recorded_at=t,
            urn="100001", name="Test School", phase="PRIMARY", pyramid="P", zone="Z",
        )
    )  # fmt: skip


def _marks(child: str) -> bytes:
    t = datetime(2025, 9, 8, 16, tzinfo=UTC)
    mark = ev.AttendanceMarkRecorded(
        event_id=uuid.uuid4(), source="test", occurred_at=t, recorded_at=t, child_key=child,
        urn="100001", date=date(2025, 9, 8), session="AM", code="/",
    )  # fmt: skip
    return CODEC.encode(ev.AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=[mark]))


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """Only the broker, with the topics; each test starts its flagger."""
    built = Stack(tmp_path, partitions=PARTITIONS)
    built.broker.start()
    built.create_topics()
    try:
        yield built
    finally:
        built.stop()


def _publish(stack: Stack, values: list[tuple[bytes | None, bytes]], partition: int) -> list[int]:
    """Send in order to one attendance partition; returns the offsets."""
    producer = KafkaProducer(bootstrap_servers=stack.broker.bootstrap, acks="all")
    try:
        return [
            producer.send(stack.topics.attendance, key=k, value=v, partition=partition)
            .get(timeout=30)
            .offset
            for k, v in values
        ]
    finally:
        producer.close()


def _committed(stack: Stack, partition: int) -> int:
    tp = (stack.topics.attendance, partition)
    return group_offsets(stack.broker.bootstrap, FLAGGER_APP_ID, [tp]).get(tp, -1)


def _read(bootstrap: str, topic: str) -> list[Any]:
    """Every record on a topic."""
    ends = end_offsets(bootstrap, [topic])
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    out: list[Any] = []
    try:
        parts = [TopicPartition(t, p) for t, p in ends]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        while any(consumer.position(tp) < ends[(tp.topic, tp.partition)] for tp in parts):
            for records in consumer.poll(timeout_ms=200).values():
                out.extend(records)
    finally:
        consumer.close()
    return out


def _snapshotted(stack: Stack) -> set[str]:
    """Children with a snapshot on the flagger's output."""
    return {
        s.child_key
        for r in _read(stack.broker.bootstrap, stack.topics.child_flags)
        for s in CODEC.decode(r.value).snapshots
    }


def test_stop_processes_what_came_before_and_nothing_after(stack: Stack) -> None:
    partition, (before, after) = _same_partition(2)
    good, bad, later = _publish(
        stack,
        [(None, _marks(before)), (None, POISON), (None, _marks(after))],
        partition,
    )
    port = stack.flagger_metrics_port
    for run in ("flagger", "flagger-again"):  # a restart meets the same message again
        flagger = start_flagger(stack, run, FLAGSTREAM_ON_UNDECODABLE="stop")
        wait_until(lambda: metric(port, STOPPED), 90, "the flagger says it stopped")
        wait_until(lambda: _committed(stack, partition) == bad, 30, "offset committed up to it")
        assert metric(port, 'flagstream_events_in_total{kind="attendance_mark"}') == (
            1.0 if run == "flagger" else None  # the restart has nothing before it to redo
        )
        topic_metric = f'flagstream_undecodable_total{{topic="{stack.topics.attendance}"}}'
        assert metric(port, topic_metric) == 1.0
        assert flagger.alive()  # up, serving /metrics, so the alert fires
        log = flagger.log_path.read_text()
        assert f"{stack.topics.attendance}[{partition}]@{bad}: not_single_object" in log
        kill(flagger)
        assert _committed(stack, partition) == bad  # still on it: never acked
    assert good < bad < later
    assert _snapshotted(stack) == {before}  # the one after it was never evaluated


def test_quarantine_parks_the_bytes_and_goes_on(stack: Stack) -> None:
    partition, (before, after) = _same_partition(2)
    _good, bad, school, later = _publish(
        stack,
        [(None, _marks(before)), (b"k", POISON), (None, _school()), (None, _marks(after))],
        partition,
    )
    port = stack.flagger_metrics_port
    start_flagger(stack, "flagger", FLAGSTREAM_ON_UNDECODABLE="quarantine")
    wait_until(lambda: _committed(stack, partition) == later + 1, 90, "all of it committed")
    assert metric(port, 'flagstream_events_in_total{kind="attendance_mark"}') == 2.0
    assert metric(port, STOPPED) is None
    parked, other = _read(stack.broker.bootstrap, stack.topics.quarantine)
    assert parked.value == POISON and parked.key == b"k"
    assert dict(parked.headers) == {
        "source_topic": stack.topics.attendance.encode(),
        "source_partition": str(partition).encode(),
        "source_offset": str(bad).encode(),
        "reason": b"not_single_object",
    }
    # Well-formed, but not flagger input: parked too, not skipped.
    assert other.value == _school()
    assert dict(other.headers)["source_offset"] == str(school).encode()
    assert dict(other.headers)["reason"] == b"not_canonical_event"
    assert _snapshotted(stack) == {before, after}
