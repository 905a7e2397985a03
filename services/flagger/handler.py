"""Decode one canonical message and run the flagging step for each child in it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flagstream.codec import Codec
from flagstream.domain.events import (
    ActiveFlag,
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
    RulesDeployed,
    SenProvisionRecorded,
)
from flagstream.domain.flagging import StepResult, reevaluate, step
from flagstream.domain.observations import STREAMS
from flagstream.domain.rules import DEFAULT_RULES, Rule, RuleConfig
from flagstream.domain.state import ChildState
from flagstream.rules_file import RulesFileError, parse_rules
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


def _single(event: Any) -> list[Event]:
    return [event]


UNPACK: dict[type[Any], Callable[[Any], list[Event]]] = {
    AttendanceMarksRecorded: lambda batch: list(batch.marks),
    **dict.fromkeys(SINGLE, _single),
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
    RulesDeployed: "rules_deployed",
}
# Table keys starting with NUL are the handler's own records, never a child.
CONTROL = b"\x00"


def rules_key(partition: int) -> bytes:
    """Where the rules deployed to a partition are kept, so a restart resumes with them."""
    return CONTROL + b"rules/%d" % partition


class Rejected(ValueError):
    """A message the flagger cannot use; reason is a stable code for metrics and logs."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


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
        flag_rules: Mapping[str, Rule] = DEFAULT_RULES,
    ) -> None:
        self._codec, self._state, self._table = codec, StateCodec(codec), table
        self._flag_rules = flag_rules
        self._default, self._partitions, self._clock = rules, partitions, clock
        self._rules: dict[int, RuleConfig] = {}

    def rules(self, partition: int) -> RuleConfig:
        """The rules in force on a partition: the last deployed there, else the file's."""
        config = self._rules.get(partition)
        if config is None:
            deployed = self._table.get(rules_key(partition))
            config = (
                parse_rules(deployed.decode(), "deployed", self._flag_rules)
                if deployed
                else self._default
            )
            self._rules[partition] = config
        return config

    def __call__(self, value: bytes, partition: int) -> Output:
        """Raises CodecError for bytes that are not an event, Rejected for unusable ones."""
        message = self._codec.decode(value)
        if isinstance(message, DayEnded):
            return self._tick(message, partition)
        if isinstance(message, RulesDeployed):
            return self._deploy(message, partition)
        unpack = UNPACK.get(type(message))
        if unpack is None and type(message) in STREAMS:
            unpack = _single  # An extension stream's event (domain/observations.py).
        if unpack is None:
            raise Rejected("not_canonical_event", f"{type(message).__name__} is not flagger input")
        by_child: dict[str, list[Event]] = defaultdict(list)
        out = Output()
        for event in unpack(message):
            by_child[event.child_key].append(event)  # type: ignore[attr-defined]
            kind = KIND.get(type(event)) or STREAMS[type(event)].name
            out.counts[kind] = out.counts.get(kind, 0) + 1
        now = self._clock()
        for child_key, events in by_child.items():
            key = child_key.encode()
            result = self._step(key, self._table.get(key), events, now, partition)
            out.changes.extend(result.changes)
            if result.snapshot is not None:
                out.snapshots.append(result.snapshot)
        return out

    def _step(
        self, key: bytes, raw: bytes | None, events: list[Event], now: datetime, partition: int
    ) -> StepResult:
        """Load one child's state, apply the events, store it back only if it changed."""
        state = self._state.decode(raw) if raw else ChildState(key.decode())
        result = step(state, events, self.rules(partition), "flagger", now, self._flag_rules)
        self._store(key, raw, result)
        return result

    def _store(self, key: bytes, raw: bytes | None, result: StepResult) -> None:
        encoded = self._state.encode(result.state)
        if encoded != raw:
            self._table[key] = encoded  # Unchanged children cost no changelog write.

    def _owned(self, partition: int) -> list[bytes]:
        return [
            key
            for key in self._table
            if not key.startswith(CONTROL)
            and partition_for(key.decode(), self._partitions) == partition
        ]

    def _tick(self, tick: DayEnded, partition: int) -> Output:
        """Re-evaluate every child this partition owns as of the day that ended."""
        out = Output(counts={"day_ended": 1})
        now = self._clock()
        rules = self.rules(partition)
        for key in self._owned(partition):
            raw = self._table[key]
            state = self._state.decode(raw)
            result = step(state, [tick], rules, "flagger", now, self._flag_rules)
            self._store(key, raw, result)
            _keep_if_changed(out, result, state.flags)
        return out

    def _deploy(self, deployed: RulesDeployed, partition: int) -> Output:
        """Switch this partition to new rules; re-evaluate its children from held state."""
        try:
            config = parse_rules(deployed.rules_toml, f"rules {deployed.version}", self._flag_rules)
        except RulesFileError as exc:
            raise Rejected("invalid_rules", str(exc)) from None
        if config.version != deployed.version:
            raise Rejected(
                "rules_version_mismatch",
                f"event says {deployed.version}, its file says {config.version}",
            )
        self._table[rules_key(partition)] = deployed.rules_toml.encode()
        self._rules[partition] = config
        out = Output(counts={"rules_deployed": 1})
        now = self._clock()
        for key in self._owned(partition):
            raw = self._table[key]
            state = self._state.decode(raw)
            result = reevaluate(state, deployed, config, "flagger", now, self._flag_rules)
            self._store(key, raw, result)
            _keep_if_changed(out, result, state.flags)
        return out


def _keep_if_changed(out: Output, result: StepResult, before: tuple[ActiveFlag, ...]) -> None:
    """Sweeps emit only children whose flags, reasons or tiers actually changed."""
    if result.snapshot is not None and result.state.flags != before:
        out.changes.extend(result.changes)
        out.snapshots.append(result.snapshot)
