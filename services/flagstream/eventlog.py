"""Event logs for the batch oracle: a generator file, or the canonical topics themselves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from .codec import Codec, CodecError
from .domain import events as ev
from .generator import read_timeline
from .generator.canonical import canonical_events, last_day
from .lag import fetched_ends
from .topics import Topics


@dataclass(slots=True)
class EventLog:
    """Every canonical event in log order, with what the oracle needs to know about it."""

    events: list[Any]
    zones: dict[str, str]  # urn -> zone, from the reference data
    last_day: date | None  # latest day the log has ended (tick) or has marks for
    deployed: ev.RulesDeployed | None = None  # the last rules deployment in the log
    undecodable: int = 0
    read: dict[str, int] = field(default_factory=dict)  # topic -> records read
    # (source, day recorded, ledger kind) -> records on the topics, marks counted one by one
    on_topics: Counter[tuple[str, date, str]] = field(default_factory=Counter)


# Event type -> the kind name ingest's ledger uses for its records.
LEDGER_KINDS: dict[type[Any], str] = {
    ev.SchoolRecorded: "school",
    ev.EnrolmentRecorded: "enrolment",
    ev.AttendanceMarkRecorded: "attendance_mark",
    ev.SenProvisionRecorded: "sen_provision",
    ev.FsmEligibilityRecorded: "fsm_eligibility",
    ev.AssessmentRecorded: "assessment",
    ev.FamilyCaseRecorded: "family_case",
    ev.DomesticAbuseNotified: "domestic_abuse_notification",
    ev.OutcomeRecorded: "outcome",
}


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
    log = EventLog(events=[], zones={}, last_day=None)
    days: dict[str, set[date]] = {"tick": set(), "mark": set()}
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        client_id="flagstream-oracle",
        fetch_max_wait_ms=10,  # A fetch at a partition's end answers at once.
    )
    try:
        for topic in (topics.schools, *topics.canonical, topics.outcomes):
            partitions = sorted(consumer.partitions_for_topic(topic) or ())
            parts = [TopicPartition(topic, p) for p in partitions]
            for record in _read_to_end(consumer, parts):
                log.read[topic] = log.read.get(topic, 0) + 1
                try:
                    events = codec.decode_all(record.value)
                except CodecError:
                    log.undecodable += 1
                    continue
                for event in events:
                    _note(log, event, days)
    finally:
        consumer.close()
    log.last_day = max(days["tick"]) if days["tick"] else max(days["mark"], default=None)
    return log


def _count(log: EventLog, event: Any) -> None:
    for e in event.marks if isinstance(event, ev.AttendanceMarksRecorded) else [event]:
        kind = LEDGER_KINDS.get(type(e))
        if kind is not None:
            log.on_topics[(e.source, e.recorded_at.date(), kind)] += 1


def _note(log: EventLog, event: Any, days: dict[str, set[date]]) -> None:
    _count(log, event)
    if isinstance(event, ev.OutcomeRecorded):
        return  # Counted for the ledger; the flagger does not read outcomes.
    if isinstance(event, ev.SchoolRecorded):
        log.zones[event.urn] = event.zone
    elif isinstance(event, ev.RulesDeployed):
        log.deployed = event  # One copy per partition; the last deployment wins.
        return
    elif isinstance(event, ev.DayEnded):
        days["tick"].add(event.day)  # Ticks carry no child facts: the oracle needs the day.
        return
    elif isinstance(event, ev.AttendanceMarksRecorded):
        days["mark"].update(m.date for m in event.marks)
    log.events.append(event)
