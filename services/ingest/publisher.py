"""Publishing accepted events to the canonical topics with acks=all and idempotence on."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError

from flagstream.codec import Codec
from flagstream.domain.events import (
    AssessmentRecorded,
    AttendanceMarkRecorded,
    AttendanceMarksRecorded,
    DomesticAbuseNotified,
    EnrolmentRecorded,
    FamilyCaseRecorded,
    FsmEligibilityRecorded,
    OutcomeRecorded,
    SchoolRecorded,
    SenProvisionRecorded,
)
from flagstream.topics import Topics, partition_for

ChildEvent = (
    SenProvisionRecorded
    | FsmEligibilityRecorded
    | AssessmentRecorded
    | FamilyCaseRecorded
    | DomesticAbuseNotified
)


class PublishError(RuntimeError):
    """The broker did not acknowledge every record in time."""


class Publisher(Protocol):
    """Where accepted events go."""

    def marks(self, marks: Sequence[AttendanceMarkRecorded]) -> int: ...
    def enrolments(self, enrolments: Sequence[EnrolmentRecorded]) -> int: ...
    def schools(self, schools: Sequence[SchoolRecorded]) -> int: ...
    def child_events(self, events: Sequence[ChildEvent]) -> int: ...
    def outcomes(self, outcomes: Sequence[OutcomeRecorded]) -> int: ...


class KafkaPublisher:
    """Sends events and waits for the broker's acknowledgement before returning."""

    def __init__(
        self, bootstrap: str, topics: Topics, partitions: int, codec: Codec, timeout: float = 30.0
    ) -> None:
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id="flagstream-ingest",
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_request_size=8 * 1024 * 1024,
        )
        self._topics, self._partitions, self._codec = topics, partitions, codec
        self._timeout = timeout

    def _send_all(self, sends: list[tuple[str, int, bytes, bytes]]) -> int:
        futures = [
            self._producer.send(topic, key=key, value=value, partition=partition)
            for topic, partition, key, value in sends
        ]
        try:
            for future in futures:
                future.get(timeout=self._timeout)
        except KafkaError as exc:
            raise PublishError(f"broker did not acknowledge: {exc}") from exc
        return len(futures)

    def marks(self, marks: Sequence[AttendanceMarkRecorded]) -> int:
        """One message per partition, carrying every mark of the children it owns."""
        by_partition: dict[int, list[AttendanceMarkRecorded]] = defaultdict(list)
        for m in marks:
            by_partition[partition_for(m.child_key, self._partitions)].append(m)
        sends = [
            (
                self._topics.attendance,
                p,
                group[0].urn.encode(),
                self._codec.encode(AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=group)),
            )
            for p, group in sorted(by_partition.items())
        ]
        return self._send_all(sends)

    def enrolments(self, enrolments: Sequence[EnrolmentRecorded]) -> int:
        """One message per enrolment, keyed by child_key."""
        return self._send_all(
            [
                (
                    self._topics.enrolments,
                    partition_for(e.child_key, self._partitions),
                    e.child_key.encode(),
                    self._codec.encode(e),
                )
                for e in enrolments
            ]
        )

    def _by_child(self, topic: str, events: Sequence[ChildEvent | OutcomeRecorded]) -> int:
        return self._send_all(
            [
                (
                    topic,
                    partition_for(e.child_key, self._partitions),
                    e.child_key.encode(),
                    self._codec.encode(e),
                )
                for e in events
            ]
        )

    def child_events(self, events: Sequence[ChildEvent]) -> int:
        """SEN, FSM, assessment, family-case and notification events, keyed by child_key."""
        return self._by_child(self._topics.child_events, events)

    def outcomes(self, outcomes: Sequence[OutcomeRecorded]) -> int:
        """Professionals' outcomes to their own topic, keyed by child_key."""
        return self._by_child(self._topics.outcomes, outcomes)

    def schools(self, schools: Sequence[SchoolRecorded]) -> int:
        """One message per school, keyed by URN."""
        return self._send_all(
            [(self._topics.schools, 0, s.urn.encode(), self._codec.encode(s)) for s in schools]
        )

    def close(self) -> None:
        """Flush and close the producer."""
        self._producer.close(timeout=self._timeout)
