"""Control events for every flagger partition: day-end ticks and rules deployments.

Each is sent once to every partition. A day-end tick goes to the attendance topic, so in
each partition it follows that day's registers - also when the topics are replayed, where
ticks on a topic of their own would race ahead of the marks. A rules deployment goes to
the clock topic.

Both belong in the durable record (a rebuild after a broker loss must see the same ticks and
rules in the same order), so the commands write them into ingest's outbox by default
(`ingest.record.keep_control`) and `publish_*` here are the direct path, for tests and
`--direct`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

from flagstream import kafka_clients
from flagstream.codec import Codec
from flagstream.domain.events import DayEnded, RulesDeployed
from flagstream.rules_file import parse_rules
from flagstream.topics import Topics


def day_ended(day: date, codec: Codec) -> bytes:
    """The encoded day-end tick of a day (one id per day)."""
    tick = DayEnded(
        # One id per day: a repeated tick for the same day is recognisably the same event.
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"flagstream:day-ended:{day}"),
        source="clock",
        occurred_at=datetime.combine(day, time(23, 59), UTC),
        recorded_at=datetime.now(UTC),
        day=day,
    )
    return codec.encode(tick)


def publish_day_ended(
    bootstrap: str, topics: Topics, partitions: int, day: date, codec: Codec
) -> int:
    """Tell every flagger partition, straight on Kafka, that a day has ended."""
    return _to_every_partition(bootstrap, topics.attendance, partitions, day_ended(day, codec))


def rules_deployed(text: str, codec: Codec) -> tuple[str, bytes]:
    """(version, encoded RulesDeployed) of a rules file's text, validated first."""
    config = parse_rules(text)
    deployed = RulesDeployed(
        event_id=uuid.uuid4(),
        source="rules",
        occurred_at=datetime.now(UTC),
        recorded_at=datetime.now(UTC),
        version=config.version,
        rules_toml=text,
    )
    return config.version, codec.encode(deployed)


def publish_rules(bootstrap: str, topics: Topics, partitions: int, text: str, codec: Codec) -> str:
    """Deploy a rules file's text (validated first) to every flagger, straight on Kafka."""
    version, value = rules_deployed(text, codec)
    _to_every_partition(bootstrap, topics.clock, partitions, value)
    return version


def _to_every_partition(bootstrap: str, topic: str, partitions: int, value: bytes) -> int:
    producer = kafka_clients.producer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        client_id="clock",
        allow_auto_create_topics=False,
    )
    try:
        futures = [producer.send(topic, value=value, partition=p) for p in range(partitions)]
        for future in futures:
            future.get(timeout=30)
        return len(futures)
    finally:
        producer.close()
