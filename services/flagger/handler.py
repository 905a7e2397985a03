"""Decode one canonical message and run the flagging step for each child in it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flagstream.codec import Codec
from flagstream.domain.events import (
    AssessmentRecorded,
    AttendanceMarkRecorded,
    AttendanceMarksRecorded,
    ChildFlagsSnapshot,
    DayEnded,
    DomesticAbuseNotified,
    EnrolmentRecorded,
    Event,
    FamilyCaseRecorded,
    FlagChanged,
    FsmEligibilityRecorded,
    SenProvisionRecorded,
)
from flagstream.domain.flagging import StepResult, step
from flagstream.domain.rules import RuleConfig
from flagstream.domain.state import ChildState
from flagstream.topics import partition_for

from .state_codec import StateCodec

# Message type -> the per-child events it carries.
SINGLE = (
    EnrolmentRecorded,
    SenProvisionRecorded,
    FsmEligibilityRecorded,
    AssessmentRecorded,
    FamilyCaseRecorded,
    DomesticAbuseNotified,
)
UNPACK: dict[type[Any], Callable[[Any], list[Event]]] = {
    AttendanceMarksRecorded: lambda batch: list(batch.marks),
    **{cls: lambda event: [event] for cls in SINGLE},
}
KIND: dict[type[Any], str] = {
    AttendanceMarkRecorded: "attendance_mark",
    EnrolmentRecorded: "enrolment",
    SenProvisionRecorded: "sen_provision",
    FsmEligibilityRecorded: "fsm_eligibility",
    AssessmentRecorded: "assessment",
    FamilyCaseRecorded: "family_case",
    DomesticAbuseNotified: "domestic_abuse_notification",
    DayEnded: "day_ended",
}


@dataclass(slots=True)
class Output:
    """What one message produced."""

    changes: list[FlagChanged] = field(default_factory=list)
    snapshots: list[ChildFlagsSnapshot] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class MessageHandler:
    """Applies a message to the per-child state table; returns what to emit."""

    def __init__(
        self,
        codec: Codec,
        table: MutableMapping[bytes, bytes],
        rules: RuleConfig,
        partitions: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._codec, self._state, self._table = codec, StateCodec(codec), table
        self._rules, self._partitions, self._clock = rules, partitions, clock

    def __call__(self, value: bytes, partition: int) -> Output:
        """Raises CodecError for bytes that are not a canonical event."""
        message = self._codec.decode(value)
        if isinstance(message, DayEnded):
            return self._tick(message, partition)
        unpack = UNPACK.get(type(message))
        if unpack is None:
            raise TypeError(f"{type(message).__name__} is not a canonical input event")
        by_child: dict[str, list[Event]] = defaultdict(list)
        out = Output()
        for event in unpack(message):
            by_child[event.child_key].append(event)  # type: ignore[attr-defined]
            kind = KIND[type(event)]
            out.counts[kind] = out.counts.get(kind, 0) + 1
        now = self._clock()
        for child_key, events in by_child.items():
            key = child_key.encode()
            result = self._step(key, self._table.get(key), events, now)
            out.changes.extend(result.changes)
            if result.snapshot is not None:
                out.snapshots.append(result.snapshot)
        return out

    def _step(
        self, key: bytes, raw: bytes | None, events: list[Event], now: datetime
    ) -> StepResult:
        """Load one child's state, apply the events, store it back only if it changed."""
        state = self._state.decode(raw) if raw else ChildState(key.decode())
        result = step(state, events, self._rules, "flagger", now)
        encoded = self._state.encode(result.state)
        if encoded != raw:
            self._table[key] = encoded  # Unchanged children cost no changelog write.
        return result

    def _tick(self, tick: DayEnded, partition: int) -> Output:
        """Re-evaluate every child this partition owns as of the day that ended."""
        out = Output(counts={"day_ended": 1})
        now = self._clock()
        owned = [k for k in self._table if partition_for(k.decode(), self._partitions) == partition]
        for key in owned:
            result = self._step(key, self._table[key], [tick], now)
            if result.changes and result.snapshot is not None:
                out.changes.extend(result.changes)
                out.snapshots.append(result.snapshot)
        return out
