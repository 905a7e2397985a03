"""Log ends and reads to the end on the embedded broker, whose ListOffsets(latest) stops at the
start of a partition's last record batch (test_log_end.py): `lag.end_offsets` and the event
log read from the topics must count and read every record, the last batch included."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from flagstream.codec import Codec
from flagstream.domain import events as ev
from flagstream.lag import end_offsets
from flagstream.topics import Topics, create_topics
from flagstream_tools.broker import EmbeddedBroker
from flagstream_tools.eventlog import _read_to_end, from_topics
from flagstream_tools.generator import make_county, timeline
from flagstream_tools.generator.canonical import canonical_events

CHUNK = 30  # Records sent between flushes: each flush closes a batch of several records.


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as b:
        yield b


def _send_in_batches(bootstrap: str, records: list[tuple[str, int, bytes]]) -> None:
    """Send in flushed chunks of CHUNK, the last chunk full, so every batch holds several."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=50)
    try:
        for i, (topic, partition, value) in enumerate(records):
            if i and (len(records) - i) % CHUNK == 0:
                producer.flush()
            producer.send(topic, value=value, partition=partition)
        producer.flush()
    finally:
        producer.close()


def test_end_offsets_count_every_record_of_every_partition(broker: EmbeddedBroker) -> None:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic("counted", 4, 1), NewTopic("untouched", 2, 1)])
    admin.close()
    produced = {0: 95, 1: 30, 2: 7}  # Partition 3 stays empty.
    records = [
        ("counted", p, b"%d-%d" % (p, i) + b"x" * 300)
        for i in range(max(produced.values()))
        for p, n in produced.items()
        if i < n
    ]
    _send_in_batches(broker.bootstrap, records)

    ends = end_offsets(broker.bootstrap, ["counted", "untouched"])

    assert ends == {
        ("counted", 0): 95,
        ("counted", 1): 30,
        ("counted", 2): 7,
        ("counted", 3): 0,
        ("untouched", 0): 0,
        ("untouched", 1): 0,
    }


def _topic(topics: Topics, event: Any) -> str:
    by_type: dict[type[Any], str] = {
        ev.SchoolRecorded: topics.schools,
        ev.EnrolmentRecorded: topics.enrolments,
        ev.AttendanceMarksRecorded: topics.attendance,
        ev.DayEnded: topics.attendance,
        ev.RulesDeployed: topics.clock,
    }
    return by_type.get(type(event), topics.child_events)


def test_the_event_log_reads_every_record_from_the_topics(broker: EmbeddedBroker) -> None:
    topics, partitions, codec = Topics("eventlog"), 3, Codec()
    create_topics(broker.bootstrap, topics, partitions)
    county = make_county("tiny", seed=5)
    events = list(canonical_events(county, timeline(county, date(2025, 9, 8), 3, seed=5)))
    records = [
        (_topic(topics, e), 0 if isinstance(e, ev.SchoolRecorded) else i % partitions, e)
        for i, e in enumerate(events)
    ]
    _send_in_batches(broker.bootstrap, [(t, p, codec.encode(e)) for t, p, e in records])

    log = from_topics(broker.bootstrap, topics, codec)

    assert log.undecodable == 0
    assert log.read == dict(Counter(t for t, _, _ in records))
    kept = [e for e in events if not isinstance(e, ev.DayEnded | ev.RulesDeployed)]
    assert sorted(map(repr, log.events)) == sorted(map(repr, kept))


def test_a_read_to_the_end_includes_the_last_batch_past_a_full_poll(
    broker: EmbeddedBroker,
) -> None:
    # One poll hands back at most 10,000 records; here the last batch starts before the
    # 10,000th record, so a read that stops once past the listed end would drop its tail.
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic("long", 1, 1)])
    admin.close()
    total = 10_000 + CHUNK // 3
    _send_in_batches(broker.bootstrap, [("long", 0, b"%d" % i) for i in range(total)])
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    try:
        values = [r.value for r in _read_to_end(consumer, [TopicPartition("long", 0)])]
    finally:
        consumer.close()
    assert values == [b"%d" % i for i in range(total)]
