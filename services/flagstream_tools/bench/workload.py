"""The benchmark's input: a generated county's timeline as encoded canonical messages.

Messages are shaped as ingest publishes them (one AttendanceMarksRecorded per register and
partition, one ChildEventsRecorded per kind, day and partition for other partner records, a
DayEnded tick in every partition), so the flagger sees exactly what production would send it;
later days' registers are kept apart for the end-to-end run, which sends them through the
ingest HTTP API.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flagstream import catalogue
from flagstream.codec import Codec
from flagstream.domain import events as ev
from flagstream.partition_messages import by_partition
from flagstream.topics import Topics, partition_for
from flagstream_tools import generator as gen
from flagstream_tools.generator.canonical import convert, reference_events


@dataclass(frozen=True, slots=True)
class Message:
    """One encoded record for a canonical topic, and how many domain events it carries."""

    topic: str
    partition: int
    key: bytes | None
    value: bytes
    events: int
    kind: str


@dataclass(slots=True)
class Workload:
    """Messages to preload, registers to send later over HTTP, and what they contain."""

    county: gen.County
    messages: list[Message] = field(default_factory=list)
    later: list[gen.Register] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def events(self) -> int:
        """Domain events the flagger consumes from the preloaded messages."""
        return sum(m.events for m in self.messages if m.kind != "school")

    @property
    def canonical(self) -> list[Message]:
        """The messages for the flagger's topics (not the schools' reference data)."""
        return [m for m in self.messages if m.kind != "school"]


class _Encoder:
    """Canonical events (generator/canonical.py, keyed by child_key) -> encoded messages,
    routed, partitioned and batched as ingest publishes them: a day's partner records of
    each kind arrive as one request, so they become one message per partition."""

    def __init__(
        self, codec: Codec, topics: Topics, partitions: int, key: Callable[[str], str]
    ) -> None:
        self._codec, self._topics, self._partitions = codec, topics, partitions
        self._key = key
        self._keys: dict[str, str] = {}
        self._pending: dict[str, list[Any]] = defaultdict(list)  # kind -> one request's events

    def child(self, upn: str) -> str:
        """The child_key of a UPN (the HMAC is computed once per pupil)."""
        key = self._keys.get(upn)
        if key is None:
            key = self._keys[upn] = self._key(upn)
        return key

    def messages(self, event: Any) -> list[Message]:
        """The message(s) ingest would publish for one canonical event; partner records wait
        for flush() (the end of their day's request)."""
        topics, encode = self._topics, self._codec.encode
        if isinstance(event, ev.SchoolRecorded):
            return [Message(topics.schools, 0, event.urn.encode(), encode(event), 1, "school")]
        if isinstance(event, ev.AttendanceMarksRecorded):
            by_partition: dict[int, list[ev.AttendanceMarkRecorded]] = defaultdict(list)
            for m in event.marks:
                by_partition[partition_for(m.child_key, self._partitions)].append(m)
            return [
                Message(
                    topics.attendance,
                    p,
                    marks[0].urn.encode(),
                    encode(ev.AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=marks)),
                    len(marks),
                    "attendance_mark",
                )
                for p, marks in sorted(by_partition.items())
            ]
        if isinstance(event, ev.DayEnded):
            value = encode(event)
            ticks = [
                Message(topics.attendance, p, None, value, 1, "day_ended")
                for p in range(self._partitions)
            ]
            return self.flush() + ticks
        self._pending[_ledger_label(event)].append(event)
        return []

    def flush(self) -> list[Message]:
        """The held partner records, one message per kind and partition."""
        out: list[Message] = []
        for kind, events in self._pending.items():
            topic = self._topics.enrolments if kind == "enrolment" else self._topics.child_events
            out += [
                Message(topic, b.partition, b.key, b.value, b.events, kind)
                for b in by_partition(self._codec, events, self._partitions)
            ]
        self._pending.clear()
        return out


def build(
    county: gen.County,
    items: Iterable[gen.Item],
    preload_days: int,
    codec: Codec,
    topics: Topics,
    partitions: int,
    key: Callable[[str], str],
    on_item: Callable[[int], None] | None = None,
) -> Workload:
    """Encode schools, enrolments and the first preload_days of the timeline; keep the rest's
    registers (only registers: ingest's HTTP API takes registers) for the end-to-end run."""
    enc = _Encoder(codec, topics, partitions, key)
    work = Workload(county)
    for event in reference_events(county, enc.child):
        work.messages += enc.messages(event)
    work.messages += enc.flush()
    days_done = 0
    for item in items:
        if days_done >= preload_days:
            if isinstance(item, gen.Register):
                work.later.append(item)
                if on_item:
                    on_item(len(item.marks))
            continue
        work.messages += enc.messages(convert(item, enc.child))
        if isinstance(item, gen.DayEnded):
            days_done += 1
        if on_item:
            on_item(len(item.marks) if isinstance(item, gen.Register) else 0)
    work.messages += enc.flush()
    for m in work.messages:
        work.kinds[m.kind] += m.events
    return work


def _ledger_label(event: Any) -> str:
    label = catalogue.ledger_label(type(event))
    assert label is not None, type(event).__name__
    return label
