"""Event logs for the batch oracle: a generator file, or the canonical topics themselves."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from flagstream import catalogue, kafka_clients
from flagstream.codec import Codec, CodecError
from flagstream.domain import events as ev
from flagstream.lag import fetched_ends
from flagstream.topics import Topics
from flagstream_tools.generator import read_timeline
from flagstream_tools.generator.canonical import canonical_events, last_day


@dataclass(slots=True)
class EventLog:
    """Every canonical event in log order, with what the oracle needs to know about it."""

    events: list[Any]
    zones: dict[str, str]  # urn -> zone, from the reference data
    last_day: date | None  # latest day the log has ended (tick) or has marks for
    deployed: ev.RulesDeployed | None = None  # the last rules deployment in the log
    undecodable: int = 0
    read: dict[str, int] = field(default_factory=dict)  # topic -> records read
    # (source, day recorded, ledger kind) -> distinct records on the topics (by event_id),
    # marks counted one by one
    on_topics: Counter[tuple[str, date, str]] = field(default_factory=Counter)
    duplicates: int = 0  # records on the topics again (at-least-once delivery), not recounted


def from_file(path: Path, child_key: Callable[[str], str]) -> EventLog:
    """A timeline file written by `flagstream generate`, keyed the way ingest would key it."""
    county, items = read_timeline(path)
    return EventLog(
        events=list(canonical_events(county, items, child_key)),
        zones={s.urn: s.zone for s in county.schools},
        last_day=last_day(items),
        read={str(path): len(items)},
    )


def _read_to_end(consumer: KafkaConsumer, parts: list[TopicPartition]) -> Iterator[Any]:
    end = fetched_ends(consumer, parts)  # Not the listed end: it can miss the last batch.
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    remaining = {tp for tp in parts if end[tp] > 0}
    while remaining:
        for tp, records in consumer.poll(timeout_ms=1000, max_records=10_000).items():
            yield from records
            if consumer.position(tp) >= end[tp]:
                remaining.discard(tp)


def from_topics(bootstrap: str, topics: Topics, codec: Codec) -> EventLog:
    """Everything on the schools and canonical topics now, partition by partition."""
    reader = TopicReader(codec)
    consumer = kafka_clients.consumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        client_id="flagstream-oracle",
        fetch_max_wait_ms=10,  # A fetch at a partition's end answers at once.
        allow_auto_create_topics=False,
    )
    try:
        for topic in (topics.schools, *topics.canonical, topics.outcomes):
            partitions = sorted(consumer.partitions_for_topic(topic) or ())
            parts = [TopicPartition(topic, p) for p in partitions]
            for record in _read_to_end(consumer, parts):
                reader.record(topic, record.value)
    finally:
        consumer.close()
    return reader.done()


@dataclass(slots=True)
class TopicReader:
    """Records' values read off the topics -> an EventLog (no broker: from_topics feeds it).

    The ledger counts each event_id once: at-least-once delivery can put a message on a
    topic twice (published, then a crash before ingest recorded it), and ingest accepted it
    once. The events themselves stay as read, copies included: they are what the flagger
    consumed, and the oracle's last-wins facts are unchanged by a repeated event.
    """

    codec: Codec
    log: EventLog = field(default_factory=lambda: EventLog(events=[], zones={}, last_day=None))
    ticks: set[date] = field(default_factory=set)
    mark_days: set[date] = field(default_factory=set)
    counted: set[uuid.UUID] = field(default_factory=set)
    delivered: set[tuple[uuid.UUID, str | None]] = field(default_factory=set)

    def record(self, topic: str, value: bytes) -> None:
        """One record read from a topic."""
        log = self.log
        log.read[topic] = log.read.get(topic, 0) + 1
        try:
            events = self.codec.decode_all(value)
        except CodecError:
            log.undecodable += 1
            return
        for event in events:
            self._count(event)
            self._note(event)

    def done(self) -> EventLog:
        """The log, its last day set: the latest tick, or else the latest day with marks."""
        days = self.ticks or self.mark_days
        self.log.last_day = max(days, default=None)
        return self.log

    def _count(self, event: Any) -> None:
        log = self.log
        for e in event.marks if isinstance(event, ev.AttendanceMarksRecorded) else [event]:
            kind = catalogue.ledger_label(type(e))
            if kind is None:
                continue
            delivered = (e.event_id, getattr(e, "child_key", None))
            if delivered in self.delivered:
                log.duplicates += 1
                continue
            self.delivered.add(delivered)
            if e.event_id in self.counted:
                continue  # a household case's copy for another child: one partner record
            self.counted.add(e.event_id)
            log.on_topics[(e.source, e.recorded_at.date(), kind)] += 1

    def _note(self, event: Any) -> None:
        log = self.log
        if isinstance(event, ev.OutcomeRecorded):
            return  # Counted for the ledger; the flagger does not read outcomes.
        if isinstance(event, ev.SchoolRecorded):
            log.zones[event.urn] = event.zone
        elif isinstance(event, ev.RulesDeployed):
            log.deployed = event  # One copy per partition; the last deployment wins.
            return
        elif isinstance(event, ev.DayEnded):
            self.ticks.add(event.day)  # Ticks carry no child facts: the oracle needs the day.
            return
        elif isinstance(event, ev.AttendanceMarksRecorded):
            self.mark_days.update(m.date for m in event.marks)
        log.events.append(event)
