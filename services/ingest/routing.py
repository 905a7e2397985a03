"""Accepted events -> Kafka messages (topic, partition, key, value), as the outbox stores them.
Marks, enrolments and other partner events are grouped into one message per partition (see
flagstream/partition_messages.py); outcomes and schools are one message each."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flagstream.codec import Codec
from flagstream.domain.events import (
    AssessmentRecorded,
    AttendanceMarkRecorded,
    AttendanceMarksRecorded,
    DomesticAbuseNotified,
    EnrolmentRecorded,
    FamilyCaseRecorded,
    FsmEligibilityRecorded,
    HuddleRecorded,
    OutcomeRecorded,
    SchoolRecorded,
    SenProvisionRecorded,
)
from flagstream.partition_messages import MAX_MESSAGE_BYTES, by_partition, split
from flagstream.topics import Topics, partition_for

ChildEvent = (
    SenProvisionRecorded
    | FsmEligibilityRecorded
    | AssessmentRecorded
    | FamilyCaseRecorded
    | DomesticAbuseNotified
)


@dataclass(frozen=True, slots=True)
class Message:
    """One Kafka record to publish; `records` is how many partner records it carries."""

    topic: str
    partition: int
    key: bytes
    value: bytes
    records: int = 1


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Why a record was refused, with no raw identifier: source, kind and a reference."""

    reason: str
    field: str | None
    source: str
    kind: str
    reference: str
    received_at: datetime

    def to_json(self) -> bytes:
        """The dead-letter topic's value."""
        body: dict[str, Any] = {
            "reason": self.reason,
            "field": self.field,
            "source": self.source,
            "kind": self.kind,
            "reference": self.reference,
            "received_at": self.received_at.isoformat(),
        }
        return json.dumps(body, sort_keys=True).encode()


class Router:
    """Turns events into messages for the canonical topics, outcomes and dead letters."""

    def __init__(
        self,
        topics: Topics,
        partitions: int,
        codec: Codec,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.topics, self._partitions, self._codec = topics, partitions, codec
        self._max_bytes = max_message_bytes

    @property
    def codec(self) -> Codec:
        """The codec messages are encoded with (records held to publish later use it too)."""
        return self._codec

    def _by_child(self, topic: str, events: Sequence[Any]) -> list[Message]:
        return [
            Message(
                topic,
                partition_for(e.child_key, self._partitions),
                e.child_key.encode(),
                self._codec.encode(e),
            )
            for e in events
        ]

    def marks(self, marks: Sequence[AttendanceMarkRecorded]) -> list[Message]:
        """One message per partition, carrying every mark of the children it owns (more,
        in order, where they pass max_message_bytes)."""
        groups: dict[int, list[AttendanceMarkRecorded]] = defaultdict(list)
        for m in marks:
            groups[partition_for(m.child_key, self._partitions)].append(m)

        def encode(run: Sequence[AttendanceMarkRecorded]) -> bytes:
            batch = AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=list(run))
            return self._codec.encode(batch)

        return [
            Message(self.topics.attendance, p, run[0].urn.encode(), value, len(run))
            for p, group in sorted(groups.items())
            for run, value in split(group, encode, self._max_bytes)
        ]

    def _batched(self, topic: str, events: Sequence[Any]) -> list[Message]:
        return [
            Message(topic, b.partition, b.key, b.value, b.events)
            for b in by_partition(self._codec, events, self._partitions, self._max_bytes)
        ]

    def enrolments(self, enrolments: Sequence[EnrolmentRecorded]) -> list[Message]:
        """One message per partition: a ChildEventsRecorded of the enrolments it owns."""
        return self._batched(self.topics.enrolments, enrolments)

    def child_events(self, events: Sequence[ChildEvent]) -> list[Message]:
        """SEN, FSM, assessment, family-case and notification events: one message per
        partition (a ChildEventsRecorded of the events it owns)."""
        return self._batched(self.topics.child_events, events)

    def outcomes(self, outcomes: Sequence[OutcomeRecorded]) -> list[Message]:
        """Professionals' outcomes to their own topic, keyed by child_key."""
        return self._by_child(self.topics.outcomes, outcomes)

    def huddles(self, huddles: Sequence[HuddleRecorded]) -> list[Message]:
        """Recorded huddles to the outcomes topic, keyed by URN (one school's in order)."""
        topic = self.topics.outcomes
        return [
            Message(
                topic, partition_for(h.urn, self._partitions), h.urn.encode(), self._codec.encode(h)
            )
            for h in huddles
        ]

    def schools(self, schools: Sequence[SchoolRecorded]) -> list[Message]:
        """One message per school, keyed by URN, in the single partition."""
        return [
            Message(self.topics.schools, 0, s.urn.encode(), self._codec.encode(s)) for s in schools
        ]

    def dead_letter(self, letter: DeadLetter) -> Message:
        """A rejection for the dead-letter topic (one partition), keyed by source."""
        return Message(self.topics.dead_letters, 0, letter.source.encode(), letter.to_json())
