"""Control events for every flagger partition: day-end ticks and rules deployments.

Each is sent once to every partition. A day-end tick goes to the attendance topic, so in
each partition it follows that day's registers - also when the topics are replayed, where
ticks on a topic of their own would race ahead of the marks. A rules deployment goes to
the clock topic.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

from kafka import KafkaProducer

from .codec import Codec
from .domain.events import DayEnded, RulesDeployed
from .rules_file import parse_rules
from .topics import Topics


def publish_day_ended(
    bootstrap: str, topics: Topics, partitions: int, day: date, codec: Codec
) -> int:
    """Tell every flagger partition that a day has ended; returns ticks sent."""
    tick = DayEnded(
        # One id per day: a repeated tick for the same day is recognisably the same event.
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"flagstream:day-ended:{day}"),
        source="clock",
        occurred_at=datetime.combine(day, time(23, 59), UTC),
        recorded_at=datetime.now(UTC),
        day=day,
    )
    return _to_every_partition(bootstrap, topics.attendance, partitions, codec.encode(tick))


def publish_rules(bootstrap: str, topics: Topics, partitions: int, text: str, codec: Codec) -> str:
    """Deploy a rules file's text (validated first) to every flagger; returns its version."""
    config = parse_rules(text)
    deployed = RulesDeployed(
        event_id=uuid.uuid4(),
        source="rules",
        occurred_at=datetime.now(UTC),
        recorded_at=datetime.now(UTC),
        version=config.version,
        rules_toml=text,
    )
    _to_every_partition(bootstrap, topics.clock, partitions, codec.encode(deployed))
    return config.version


def _to_every_partition(bootstrap: str, topic: str, partitions: int, value: bytes) -> int:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, client_id="clock"
    )
    try:
        futures = [producer.send(topic, value=value, partition=p) for p in range(partitions)]
        for future in futures:
            future.get(timeout=30)
        return len(futures)
    finally:
        producer.close()
