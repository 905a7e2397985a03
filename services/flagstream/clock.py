"""The day-end scheduler: one DayEnded tick into every partition of the clock topic."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

from kafka import KafkaProducer

from .codec import Codec
from .domain.events import DayEnded
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
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, client_id="clock"
    )
    try:
        value = codec.encode(tick)
        futures = [producer.send(topics.clock, value=value, partition=p) for p in range(partitions)]
        for future in futures:
            future.get(timeout=30)
        return len(futures)
    finally:
        producer.close()
