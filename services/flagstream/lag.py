"""How far consumers are behind: Faust's committed group offsets, the projector's stored ones."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from kafka import KafkaConsumer, TopicPartition

from . import kafka_clients

Offsets = dict[tuple[str, int], int]

FETCH_TIMEOUT_S = 30.0


def fetched_ends(
    consumer: KafkaConsumer, parts: list[TopicPartition], timeout_s: float = FETCH_TIMEOUT_S
) -> dict[TopicPartition, int]:
    """Each partition's listed end raised to the high watermark a fetch from there reports.

    The embedded broker (Tansu 0.6) lists the base offset of a partition's last record batch
    as its end (ListOffsets latest), not the offset after its last record; a Fetch response's
    high watermark is right (tests/integration/test_log_end.py). On Kafka the two agree.
    Leaves the consumer assigned to `parts` at some position past the listed ends.
    """
    if not parts:
        return {}
    listed: dict[TopicPartition, int] = consumer.end_offsets(parts)
    consumer.unsubscribe()  # A fresh assignment: no high watermark left from an older fetch.
    consumer.assign(parts)
    for tp in parts:
        consumer.seek(tp, listed[tp])
    deadline = time.monotonic() + timeout_s
    while any(consumer.highwater(tp) is None for tp in parts):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no fetch response for {sorted(parts)} in {timeout_s}s")
        consumer.poll(timeout_ms=100)
    return {tp: max(listed[tp], consumer.highwater(tp)) for tp in parts}


def end_offsets(bootstrap: str, topics: Iterable[str]) -> Offsets:
    """Log-end offset (the offset after the last record) of every partition of the topics."""
    consumer = kafka_clients.consumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
        allow_auto_create_topics=False,
    )
    try:
        tps = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        return {(tp.topic, tp.partition): o for tp, o in fetched_ends(consumer, tps).items()}
    finally:
        consumer.close()


def group_offsets(bootstrap: str, group: str, partitions: Iterable[tuple[str, int]]) -> Offsets:
    """Offsets a consumer group has committed for these partitions (-1 = none yet)."""
    admin = kafka_clients.admin(bootstrap_servers=bootstrap)
    try:
        tps = [TopicPartition(t, p) for t, p in partitions]
        committed = admin.list_group_offsets({group: tps}).get(group, {})
        return {(tp.topic, tp.partition): meta.offset for tp, meta in committed.items()}
    finally:
        admin.close()


def behind(ends: Mapping[tuple[str, int], int], done: Mapping[tuple[str, int], int]) -> int:
    """Records not yet consumed, summed over partitions (missing = nothing consumed). Never
    floored at zero: a position past a partition's end (a reset log) counts negative."""
    return sum(end - max(done.get(tp, 0), 0) for tp, end in ends.items())


def ahead(
    ends: Mapping[tuple[str, int], int], done: Mapping[tuple[str, int], int]
) -> list[tuple[str, int]]:
    """Partitions whose consumed position is past the log end: the log was reset."""
    return sorted(tp for tp, end in ends.items() if done.get(tp, 0) > end)
