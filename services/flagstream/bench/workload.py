"""The benchmark's input: a generated county's timeline as encoded canonical messages.

Messages are shaped as ingest publishes them (one AttendanceMarksRecorded per register and
partition, one message per other event, a DayEnded tick in every partition), so the flagger
sees exactly what production would send it; later days' registers are kept apart for the
end-to-end run, which sends them through the ingest HTTP API.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from .. import generator as gen
from ..codec import Codec
from ..domain import events as ev
from ..topics import Topics, partition_for

_SESSION_START = {"AM": time(9, 0), "PM": time(13, 30)}


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
    """Generator items (raw, keyed by UPN) -> encoded canonical messages (keyed by child_key)."""

    def __init__(
        self, codec: Codec, topics: Topics, partitions: int, key: Callable[[str], str]
    ) -> None:
        self._codec, self._topics, self._partitions = codec, topics, partitions
        self._key = key
        self._keys: dict[str, str] = {}
        self.now = datetime.now(UTC)

    def child(self, upn: str) -> str:
        key = self._keys.get(upn)
        if key is None:
            key = self._keys[upn] = self._key(upn)
        return key

    def envelope(self, source: str, occurred: datetime) -> dict[str, Any]:
        return {
            "event_id": uuid.uuid4(),
            "source": source,
            "occurred_at": occurred,
            "recorded_at": self.now,
        }

    def single(self, event: Any, kind: str) -> Message:
        p = partition_for(event.child_key, self._partitions)
        topic = self._topics.enrolments if kind == "enrolment" else self._topics.child_events
        return Message(topic, p, event.child_key.encode(), self._codec.encode(event), 1, kind)

    def register(self, reg: gen.Register) -> Iterator[Message]:
        by_partition: dict[int, list[ev.AttendanceMarkRecorded]] = defaultdict(list)
        for m in reg.marks:
            child_key = self.child(m.upn)
            by_partition[partition_for(child_key, self._partitions)].append(
                ev.AttendanceMarkRecorded(
                    **self.envelope(
                        "bench-mis", datetime.combine(m.date, _SESSION_START[m.session], UTC)
                    ),
                    child_key=child_key,
                    urn=reg.urn,
                    date=m.date,
                    session=m.session,
                    code=m.code,
                )
            )
        for p, marks in sorted(by_partition.items()):
            batch = ev.AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=marks)
            value = self._codec.encode(batch)
            yield Message(
                self._topics.attendance, p, reg.urn.encode(), value, len(marks), "attendance_mark"
            )

    def tick(self, day: date) -> Iterator[Message]:
        tick = ev.DayEnded(
            **self.envelope("clock", datetime.combine(day, time(23, 59), UTC)), day=day
        )
        value = self._codec.encode(tick)
        for p in range(self._partitions):
            yield Message(self._topics.attendance, p, None, value, 1, "day_ended")

    def item(self, item: gen.Item) -> Iterator[Message]:
        midnight = (
            datetime.combine(d, time(), UTC) if (d := _day_of(item)) is not None else self.now
        )
        if isinstance(item, gen.Register):
            yield from self.register(item)
        elif isinstance(item, gen.DayEnded):
            yield from self.tick(item.day)
        elif isinstance(item, gen.SenRecorded):
            yield self.single(
                ev.SenProvisionRecorded(
                    **self.envelope("bench-census", midnight),
                    child_key=self.child(item.upn),
                    urn=item.urn,
                    provision=item.provision,
                    effective_on=item.effective_on,
                ),
                "sen_provision",
            )
        elif isinstance(item, gen.FsmRecorded):
            yield self.single(
                ev.FsmEligibilityRecorded(
                    **self.envelope("bench-fsm", midnight),
                    child_key=self.child(item.upn),
                    eligible_from=item.eligible_from,
                    eligible_to=item.eligible_to,
                ),
                "fsm_eligibility",
            )
        elif isinstance(item, gen.AssessmentRecorded):
            yield self.single(
                ev.AssessmentRecorded(
                    **self.envelope("bench-results", midnight),
                    child_key=self.child(item.upn),
                    urn=item.urn,
                    assessment=item.assessment,
                    result=item.result,
                    assessed_on=item.assessed_on,
                ),
                "assessment",
            )
        elif isinstance(item, gen.FamilyCaseRecorded):
            yield self.single(
                ev.FamilyCaseRecorded(
                    **self.envelope("bench-family", midnight),
                    child_key=self.child(item.upn),
                    case_id=item.case_id,
                    opened_on=item.opened_on,
                    closed_on=item.closed_on,
                    outcome_areas=list(item.outcome_areas),
                ),
                "family_case",
            )
        elif isinstance(item, gen.DomesticAbuseNotified):
            yield self.single(
                ev.DomesticAbuseNotified(
                    **self.envelope("bench-police", midnight),
                    child_key=self.child(item.upn),
                    urn=item.urn,
                    incident_on=item.incident_on,
                    child_present=item.child_present,
                    police_reference=item.police_reference,
                    circumstances=item.circumstances,
                ),
                "domestic_abuse_notification",
            )

    def enrolment(self, pupil: gen.Pupil) -> Message:
        return self.single(
            ev.EnrolmentRecorded(
                **self.envelope("bench-census", datetime.combine(pupil.joined_on, time(), UTC)),
                child_key=self.child(pupil.upn),
                urn=pupil.urn,
                nc_year=pupil.nc_year,
                sex=pupil.sex,
                month_of_birth=pupil.month_of_birth,
                joined_on=pupil.joined_on,
            ),
            "enrolment",
        )

    def school(self, school: gen.School) -> Message:
        event = ev.SchoolRecorded(
            **self.envelope("bench-gias", self.now),
            urn=school.urn,
            name=school.name,
            phase=school.phase,
            pyramid=school.pyramid,
            zone=school.zone,
        )
        return Message(
            self._topics.schools, 0, school.urn.encode(), self._codec.encode(event), 1, "school"
        )


def _day_of(item: gen.Item) -> date | None:
    for name in ("effective_on", "eligible_from", "assessed_on", "opened_on", "incident_on"):
        value = getattr(item, name, None)
        if isinstance(value, date):
            closed = getattr(item, "closed_on", None) or getattr(item, "eligible_to", None)
            return closed if isinstance(closed, date) else value
    return None


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
    work.messages += [enc.school(s) for s in county.schools]
    work.messages += [enc.enrolment(p) for p in county.pupils]
    days_done = 0
    for item in items:
        if days_done >= preload_days:
            if isinstance(item, gen.Register):
                work.later.append(item)
                if on_item:
                    on_item(len(item.marks))
            continue
        for message in enc.item(item):
            work.messages.append(message)
        if isinstance(item, gen.DayEnded):
            days_done += 1
        if on_item:
            on_item(len(item.marks) if isinstance(item, gen.Register) else 0)
    for m in work.messages:
        work.kinds[m.kind] += m.events
    return work
