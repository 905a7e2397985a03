"""Publish canonical events straight to the topics, routed and partitioned as ingest does."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from kafka import KafkaProducer

from flagstream.codec import Codec
from flagstream.domain import events as ev
from flagstream.topics import Topics, partition_for


def publish(bootstrap: str, topics: Topics, partitions: int, events: Iterable[Any]) -> int:
    """Send every event in order; a register is split into one batch per partition."""
    codec = Codec()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    futures = []

    def send(topic: str, partition: int, key: bytes | None, event: Any) -> None:
        futures.append(
            producer.send(topic, key=key, value=codec.encode(event), partition=partition)
        )

    for e in events:
        if isinstance(e, ev.SchoolRecorded):
            send(topics.schools, 0, e.urn.encode(), e)
        elif isinstance(e, ev.DayEnded | ev.RulesDeployed):
            topic = topics.attendance if isinstance(e, ev.DayEnded) else topics.clock
            for p in range(partitions):
                send(topic, p, None, e)
        elif isinstance(e, ev.AttendanceMarksRecorded):
            groups: dict[int, list[ev.AttendanceMarkRecorded]] = defaultdict(list)
            for m in e.marks:
                groups[partition_for(m.child_key, partitions)].append(m)
            for p, marks in sorted(groups.items()):
                batch = ev.AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=marks)
                send(topics.attendance, p, None, batch)
        else:
            topic = (
                topics.enrolments if isinstance(e, ev.EnrolmentRecorded) else topics.child_events
            )
            send(topic, partition_for(e.child_key, partitions), e.child_key.encode(), e)
    for future in futures:
        future.get(timeout=30)
    producer.close()
    return len(futures)
