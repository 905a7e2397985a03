"""The embedded broker: starts, answers Kafka clients, creates co-partitioned topics, stops."""

from __future__ import annotations

import socket

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from flagstream.topics import (
    Topics,
    TopicsNotReady,
    check_topics,
    create_topics,
    partition_for,
    topic_specs,
)
from flagstream_tools.broker import EmbeddedBroker


def test_start_create_topics_round_trip_and_stop() -> None:
    broker = EmbeddedBroker().start()
    try:
        topics = Topics("bt")
        created = create_topics(broker.bootstrap, topics, partitions=4)
        assert set(created) == {
            topics.schools,
            *topics.canonical,
            topics.flag_changes,
            topics.child_flags,
            topics.outcomes,
            topics.dead_letters,
            topics.quarantine,
            topics.record_replays,
            topics.flagger_changelog,
            topics.flagger_leader,
        }
        assert create_topics(broker.bootstrap, topics, partitions=4) == []  # idempotent
        # Each as its role needs: what rebuilds read kept for good, snapshots compacted.
        found = check_topics(broker.bootstrap, topic_specs(topics, 4))
        assert found[topics.child_flags].configs["cleanup.policy"] == "compact"
        assert found[topics.attendance].configs["retention.ms"] == "-1"
        assert all(d.topic_id for d in found.values())
        with pytest.raises(TopicsNotReady, match="has 4 partition"):
            check_topics(broker.bootstrap, topic_specs(topics, 6))
        probe = KafkaConsumer(bootstrap_servers=broker.bootstrap)
        for name in (*topics.canonical, topics.flag_changes, topics.child_flags, topics.outcomes):
            assert probe.partitions_for_topic(name) == {0, 1, 2, 3}, name
        assert probe.partitions_for_topic(topics.schools) == {0}
        probe.close()
        # A keyed record lands where partition_for says (same as the Java/Faust partitioner).
        producer = KafkaProducer(
            bootstrap_servers=broker.bootstrap, acks="all", enable_idempotence=True
        )
        meta = producer.send(topics.enrolments, key=b"child-1", value=b"v").get(timeout=10)
        assert meta.partition == partition_for("child-1", 4)
        producer.close()
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
        tp = TopicPartition(topics.enrolments, meta.partition)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        records = consumer.poll(timeout_ms=5000)
        consumer.close()
        assert [r.value for r in records[tp]] == [b"v"]
    finally:
        broker.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", broker.port), timeout=1).close()
