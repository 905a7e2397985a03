"""What the flagger's stall watch reads on the real embedded broker: records past the group's
committed offsets on the given partitions only (another worker's partitions do not count)."""

from __future__ import annotations

import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from flagger.stall import committed_lag
from flagstream.topics import Topics, create_topics
from flagstream_tools.broker import EmbeddedBroker


def test_committed_lag_counts_the_assigned_partitions_only(broker: EmbeddedBroker) -> None:
    topics = Topics(f"stall{uuid.uuid4().hex[:8]}")
    create_topics(broker.bootstrap, topics, partitions=2)
    topic, group = topics.attendance, f"g{uuid.uuid4().hex[:8]}"
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    for partition, n in ((0, 5), (1, 2)):
        for _ in range(n):
            producer.send(topic, b"x", partition=partition).get(timeout=10)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group,
                             enable_auto_commit=False)  # fmt: skip
    consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "", -1)})
    consumer.close()
    assert committed_lag(broker.bootstrap, group, [(topic, 0)]) == 3
    assert committed_lag(broker.bootstrap, group, [(topic, 1)]) == 2  # nothing committed
    assert committed_lag(broker.bootstrap, group, [(topic, 0), (topic, 1)]) == 5
    assert committed_lag(broker.bootstrap, group, []) == 0
