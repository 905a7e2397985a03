"""Partition end offsets after multi-record batches: what the embedded broker lists, and
what the flagger's table recovery reads to (flagger/log_end.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from flagger.log_end import fetched_ends
from flagstream_tools.broker import EmbeddedBroker

RECORDS = 40  # ~32 fit one 16 KB producer batch: the partition ends with a batch of several


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as b:
        admin = KafkaAdminClient(bootstrap_servers=b.bootstrap)
        admin.create_topics([NewTopic("batched", 1, 1), NewTopic("empty", 1, 1)])
        admin.close()
        producer = KafkaProducer(bootstrap_servers=b.bootstrap, linger_ms=50)
        for i in range(RECORDS):
            producer.send("batched", key=b"k%d" % i, value=b"x" * 500, partition=0)
        producer.flush()
        producer.close()
        yield b


def _listed_end(bootstrap: str, tp: TopicPartition) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        return int(consumer.end_offsets([tp])[tp])
    finally:
        consumer.close()


def test_the_embedded_broker_lists_the_last_batch_start_as_the_end(broker: EmbeddedBroker) -> None:
    # The quirk the flagger works around; if this fails, Tansu was fixed and
    # flagger/log_end.py may go.
    tp = TopicPartition("batched", 0)
    assert 0 < _listed_end(broker.bootstrap, tp) < RECORDS


def test_fetched_ends_are_the_offset_after_the_last_record(broker: EmbeddedBroker) -> None:
    batched, empty = TopicPartition("batched", 0), TopicPartition("empty", 0)
    listed = {batched: _listed_end(broker.bootstrap, batched), empty: 0}
    ends = asyncio.run(fetched_ends([broker.bootstrap], listed))
    assert ends == {batched: RECORDS, empty: 0}
