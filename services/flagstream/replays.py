"""Markers on the record-replays topic: a keeper of the durable record (ingest's outbox, the
validator's) says it began, or finished, publishing its whole record onto a new or reset log.

The projector reads them to know when a rebuild is complete: until every keeper that began
a replay on this log has finished it, the read model is incomplete and says so on screen.
The topic is created with the others, so a new broker starts with no markers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from kafka import KafkaConsumer, TopicPartition

from . import kafka_clients

State = Literal["replaying", "replayed"]
REQUIRED_KEEPER = "ingest"


@dataclass(frozen=True, slots=True)
class Marker:
    """One keeper's word about its replay onto this log."""

    keeper: str
    state: State
    records: int
    at: str

    def to_json(self) -> bytes:
        """The marker's message value."""
        body = {"keeper": self.keeper, "state": self.state, "records": self.records, "at": self.at}
        return json.dumps(body, sort_keys=True).encode()

    @staticmethod
    def now(keeper: str, state: State, records: int) -> Marker:
        """A marker stamped with the current time."""
        return Marker(keeper, state, records, datetime.now(UTC).isoformat(timespec="seconds"))


def parse(values: Iterable[bytes | None]) -> list[Marker]:
    """Markers from message values; anything else on the topic is ignored."""
    out = []
    for value in values:
        try:
            body: Any = json.loads(value or b"")
            out.append(
                Marker(str(body["keeper"]), body["state"], int(body["records"]), str(body["at"]))
            )
        except (ValueError, KeyError, TypeError):
            continue
    return [m for m in out if m.state in ("replaying", "replayed")]


def complete(markers: Sequence[Marker]) -> bool:
    """True when ingest has finished a replay and every keeper that began one has finished."""
    began = {m.keeper for m in markers if m.state == "replaying"}
    finished = {m.keeper for m in markers if m.state == "replayed"}
    return REQUIRED_KEEPER in finished and began <= finished


def read(bootstrap: str, topic: str, timeout_s: float = 10.0) -> list[Marker]:
    """Every marker on the topic (a handful: one pair per keeper per reset)."""
    consumer = kafka_clients.consumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        allow_auto_create_topics=False,
        fetch_max_wait_ms=10,
        consumer_timeout_ms=int(timeout_s * 1000),
    )
    try:
        return read_with(consumer, topic, timeout_s)
    finally:
        consumer.close()


def read_with(consumer: KafkaConsumer, topic: str, timeout_s: float = 10.0) -> list[Marker]:
    """Every marker, read with a consumer the caller keeps (it is reassigned here)."""
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    end = consumer.end_offsets([tp])[tp]
    consumer.seek_to_beginning(tp)
    values: list[bytes | None] = []
    deadline = time.monotonic() + timeout_s
    # The embedded broker may list the last batch's start as the end: read what a poll gives.
    while consumer.position(tp) < end or (not values and end > 0):
        if time.monotonic() > deadline:
            break
        for records in consumer.poll(timeout_ms=100).values():
            values += [r.value for r in records]
    for records in consumer.poll(timeout_ms=50).values():
        values += [r.value for r in records]
    return parse(values)
