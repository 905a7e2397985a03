"""One step of the flagger: apply a child's new events, re-evaluate, say what changed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from .events import ActiveFlag, ChildFlagsSnapshot, Event, FlagChanged
from .rules import RuleConfig, evaluate
from .state import ChildState, apply_all

# Derived ids make a replay emit the same event ids, so sinks can drop repeats.
_IDS = uuid.UUID("6b1f5c2e-6a41-4e55-9f8e-2f1d3c4b5a69")


@dataclass(frozen=True, slots=True)
class StepResult:
    """The new state and what to emit for it."""

    state: ChildState
    changes: list[FlagChanged]
    snapshot: ChildFlagsSnapshot | None


def step(
    state: ChildState,
    events: Sequence[Event],
    config: RuleConfig,
    source: str,
    recorded_at: datetime,
) -> StepResult:
    """Apply events to one child's state; emit flag changes and the child's snapshot."""
    if not events:
        return StepResult(state, [], None)
    state = apply_all(state, events)
    if state.as_of is None:
        return StepResult(state, [], None)  # Enrolled, no marks yet: nothing to evaluate.
    as_of = state.as_of
    last = events[-1]
    outcomes = evaluate(state, config)
    raised = {flag: o.reason for flag, o in outcomes.items() if o.raised}
    before = {f.flag: f for f in state.flags}

    def change(flag: str, kind: str, reason: str) -> FlagChanged:
        key = f"{state.child_key}|{flag}|{kind}|{as_of}|{last.event_id}"
        return FlagChanged(
            event_id=uuid.uuid5(_IDS, key),
            source=source,
            occurred_at=last.occurred_at,
            recorded_at=recorded_at,
            child_key=state.child_key,
            urn=state.urn,
            flag=flag,  # type: ignore[arg-type]
            change=kind,  # type: ignore[arg-type]
            reason=reason,
            rule_version=config.version,
            as_of=as_of,
        )

    changes = [change(f, "RAISED", r) for f, r in raised.items() if f not in before]
    changes += [change(f, "CLEARED", outcomes[f].reason) for f in before if f not in raised]
    flags = tuple(
        ActiveFlag(flag=f, reason=r, raised_on=before[f].raised_on if f in before else as_of)
        for f, r in raised.items()
    )
    state = replace(state, flags=flags)
    possible, absent = state.register.totals() if state.register else (0, 0)
    snapshot = ChildFlagsSnapshot(
        event_id=uuid.uuid5(_IDS, f"{state.child_key}|snapshot|{last.event_id}"),
        source=source,
        occurred_at=last.occurred_at,
        recorded_at=recorded_at,
        child_key=state.child_key,
        urn=state.urn,
        nc_year=state.nc_year,
        sex=state.sex,
        as_of=as_of,
        possible_sessions=possible,
        absent_sessions=absent,
        flags=list(flags),
        rule_version=config.version,
    )
    return StepResult(state, changes, snapshot)
