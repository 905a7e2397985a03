"""Decode one canonical message and run the flagging step for each child in it."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flagstream.catalogue import child_input, label_of
from flagstream.codec import Codec
from flagstream.domain.events import (
    ActiveFlag,
    AttendanceMarksRecorded,
    ChildEventsRecorded,
    ChildFlagsSnapshot,
    ChildFlagsSnapshots,
    DayEnded,
    Event,
    FlagChanged,
    RulesDeployed,
)
from flagstream.domain.flagging import StepResult, TermOf, reevaluate, step
from flagstream.domain.memo import OutcomeMemo
from flagstream.domain.rules import DEFAULT_RULES, Rule, RuleConfig
from flagstream.rules_file import RulesFileError, parse_rules

from .state_codec import StateCodec
from .store import ChildStates, DurableTable, MappingTable, control_key

_BATCHES = uuid.UUID("3d6c1f0e-8a7b-4c2d-9e51-0b7a6f3c2d18")


def rules_key(partition: int, partitions: int) -> bytes:
    """Where the rules deployed to a partition are kept, so a restart resumes with them."""
    return control_key("rules", partition, partitions)


class Rejected(ValueError):
    """A message the flagger cannot use; reason is a stable code for metrics and logs."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


@dataclass(slots=True)
class Output:
    """What one message produced: flag changes, and a snapshot draft per child evaluated
    (built only when sent: StepResult.snapshot)."""

    changes: list[FlagChanged] = field(default_factory=list)
    drafts: list[StepResult] = field(default_factory=list)  # evaluated children
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def snapshots(self) -> list[ChildFlagsSnapshot]:
        """Every child's snapshot, built now."""
        return [s for d in self.drafts if (s := d.snapshot) is not None]


def snapshot_batch(snapshots: list[ChildFlagsSnapshot]) -> ChildFlagsSnapshots:
    """Snapshots as one message, with an id derived from theirs (replays repeat it)."""
    ids = ",".join(str(s.event_id) for s in snapshots[:2])
    batch_id = uuid.uuid5(_BATCHES, f"{ids}|{len(snapshots)}")
    return ChildFlagsSnapshots(batch_id=batch_id, snapshots=snapshots)


class MessageHandler:
    """Applies a message to the children's state; returns what to emit. State changes reach
    the durable table on flush() (see store.py); call it before acking the input."""

    def __init__(
        self,
        codec: Codec,
        table: DurableTable | MutableMapping[bytes, bytes],
        rules: RuleConfig,
        partitions: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        flag_rules: Mapping[str, Rule] = DEFAULT_RULES,
        term_of: TermOf | None = None,
    ) -> None:
        self._codec = codec
        self._table = MappingTable(table) if isinstance(table, MutableMapping) else table
        self._states = ChildStates(self._table, StateCodec(codec), partitions)
        self._flag_rules, self._term_of = flag_rules, term_of  # term_of: snapshots' term figures
        self._default, self._partitions, self._clock = rules, partitions, clock
        self._rules: dict[int, RuleConfig] = {}
        self._memo = OutcomeMemo()  # outcomes whose inputs did not change are not re-run

    @property
    def dirty(self) -> int:
        """Children changed since the last flush."""
        return self._states.dirty

    def flush(self) -> int:
        """Make every state change durable; returns the children written."""
        return self._states.flush()

    def forget(self) -> None:
        """Flush, then drop cached state and rules (another worker may now own some)."""
        self.flush()
        self._states.forget()
        self._rules.clear()
        self._memo.clear()

    def rules(self, partition: int) -> RuleConfig:
        """The rules in force on a partition: the last deployed there, else the file's."""
        config = self._rules.get(partition)
        if config is None:
            deployed = self._table.get(rules_key(partition, self._partitions))
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
        if isinstance(message, ChildEventsRecorded):
            inner = self._codec.unpack(message)
            return self.apply([e for m in inner for e in _unpack(m)], partition)
        return self.apply(message, partition)

    def apply(self, message: Any, partition: int) -> Output:
        """The application step, without bytes: a decoded message (or a list of per-child
        events) of one partition -> the state it leaves in the store and what to emit.
        Raises Rejected for a message that is not flagger input."""
        if isinstance(message, list):
            return self._events(message, partition)
        if isinstance(message, DayEnded):
            return self._tick(message, partition)
        if isinstance(message, RulesDeployed):
            return self._deploy(message, partition)
        return self._events(_unpack(message), partition)

    def _events(self, events: list[Event], partition: int) -> Output:
        """Apply child events in order; one step per child per message."""
        by_child: dict[str, list[Event]] = defaultdict(list)
        out = Output()
        for event in events:
            by_child[event.child_key].append(event)  # type: ignore[attr-defined]
            kind = label_of(type(event))
            out.counts[kind] = out.counts.get(kind, 0) + 1
        now = self._clock()
        rules = self.rules(partition)
        for child_key, events in by_child.items():
            key = child_key.encode()
            state = self._states.load(key, partition)
            result = step(
                state, events, rules, "flagger", now, self._flag_rules, self._term_of, self._memo
            )
            self._states.save(key, partition, result.state)
            out.changes.extend(result.changes)
            if result.evaluated:
                out.drafts.append(result)
        return out

    def _tick(self, tick: DayEnded, partition: int) -> Output:
        """Re-evaluate, as of the day that ended, the partition's children not already
        evaluated as of that day or later (those would not change: same state, same date)."""
        out = Output(counts={"day_ended": 1})
        now = self._clock()
        rules = self.rules(partition)
        for key in self._states.owned(partition):
            state = self._states.load(key, partition)
            if state.as_of is not None and state.as_of >= tick.day:
                continue
            result = step(
                state, [tick], rules, "flagger", now, self._flag_rules, self._term_of, self._memo
            )
            self._states.save(key, partition, result.state)
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
        key = rules_key(partition, self._partitions)
        self._table.put(partition, key, deployed.rules_toml.encode())
        self._rules[partition] = config
        out = Output(counts={"rules_deployed": 1})
        now = self._clock()
        for key in self._states.owned(partition):
            state = self._states.load(key, partition)
            result = reevaluate(
                state, deployed, config, "flagger", now, self._flag_rules, self._term_of,
                self._memo,
            )  # fmt: skip
            if result.state != state:
                self._states.save(key, partition, result.state)
            _keep_if_changed(out, result, state.flags)
        return out


def _unpack(message: Any) -> list[Event]:
    """The child events a message carries (a register batch carries many marks, any other
    per-child kind of the catalogue itself); Rejected if it is not flagger input."""
    if type(message) is AttendanceMarksRecorded:
        return list(message.marks)
    if child_input(type(message)):
        return [message]
    raise Rejected("not_canonical_event", f"{type(message).__name__} is not flagger input")


def _keep_if_changed(out: Output, result: StepResult, before: tuple[ActiveFlag, ...]) -> None:
    """Sweeps emit only children whose flags, reasons or tiers actually changed."""
    if result.evaluated and result.state.flags != before:
        out.changes.extend(result.changes)
        out.drafts.append(result)
