"""How far consumers are behind: Faust's committed group offsets, the projector's stored ones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

Offsets = dict[tuple[str, int], int]


def end_offsets(bootstrap: str, topics: Iterable[str]) -> Offsets:
    """Log-end offset of every partition of the topics."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        return {(tp.topic, tp.partition): o for tp, o in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def group_offsets(bootstrap: str, group: str, partitions: Iterable[tuple[str, int]]) -> Offsets:
    """Offsets a consumer group has committed for these partitions (-1 = none yet)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        tps = [TopicPartition(t, p) for t, p in partitions]
        committed = admin.list_group_offsets({group: tps}).get(group, {})
        return {(tp.topic, tp.partition): meta.offset for tp, meta in committed.items()}
    finally:
        admin.close()


def behind(ends: Mapping[tuple[str, int], int], done: Mapping[tuple[str, int], int]) -> int:
    """Records not yet consumed, summed over partitions (missing = nothing consumed)."""
    return sum(max(0, end - max(done.get(tp, 0), 0)) for tp, end in ends.items())
