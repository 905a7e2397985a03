"""One step of the flagger: apply a child's new events, re-evaluate, say what changed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from .events import ActiveFlag, ChildFlagsSnapshot, Event, FlagChanged
from .ids import derived_id
from .memo import OutcomeMemo
from .rules import DEFAULT_RULES, Outcome, Rule, RuleConfig, evaluate
from .state import ChildState, apply_all, with_flags

# Derived ids make a replay emit the same event ids, so sinks can drop repeats.
_IDS = uuid.UUID("6b1f5c2e-6a41-4e55-9f8e-2f1d3c4b5a69")

# The first day of the term holding a date (TermCalendar.term_start_of), None if none: the
# composition root passes the council's calendar in, so the domain never reads settings.
TermOf = Callable[[date], date | None]


@dataclass(frozen=True, slots=True)
class StepResult:
    """The new state, its flag changes, and what its snapshot is made from: `snapshot()`
    builds it when read (the flagger reads only each child's latest per output window)."""

    state: ChildState
    changes: list[FlagChanged]
    evaluated: bool = False  # False: nothing dated yet, no snapshot
    cause_id: uuid.UUID | None = None
    occurred_at: datetime | None = None
    source: str = ""
    recorded_at: datetime | None = None
    rule_version: str = ""
    term_of: TermOf | None = None  # None: no calendar, no term-to-date figures

    @property
    def snapshot(self) -> ChildFlagsSnapshot | None:
        """The child's snapshot after this step (the same every time: the state is
        immutable); None if it has not been evaluated."""
        if not self.evaluated:
            return None
        state, as_of = self.state, self.state.as_of
        assert as_of is not None and self.occurred_at is not None and self.recorded_at is not None
        register = state.register
        term_start = self.term_of(as_of) if self.term_of is not None else None
        # A term starting after as_of (1 September before the autumn term) has counted nothing.
        possible, absent, term_possible, term_absent = (
            register.year_and_term(as_of, term_start) if register else (0, 0, 0, 0)
        )
        key = f"{state.child_key}|snapshot|{self.cause_id}|{self.rule_version}"
        return ChildFlagsSnapshot(
            event_id=derived_id(_IDS, key),
            source=self.source,
            occurred_at=self.occurred_at,
            recorded_at=self.recorded_at,
            child_key=state.child_key,
            urn=state.urn,
            nc_year=state.nc_year,
            sex=state.sex,
            as_of=as_of,
            possible_sessions=possible,
            absent_sessions=absent,
            flags=list(state.flags),
            rule_version=self.rule_version,
            term_start=term_start,
            term_possible_sessions=term_possible,
            term_absent_sessions=term_absent,
        )


def step(
    state: ChildState,
    events: Sequence[Event],
    config: RuleConfig,
    source: str,
    recorded_at: datetime,
    rules: Mapping[str, Rule] = DEFAULT_RULES,
    term_of: TermOf | None = None,
    memo: OutcomeMemo | None = None,
) -> StepResult:
    """Apply events to one child's state; emit flag changes and the child's snapshot."""
    if not events:
        return StepResult(state, [])
    state = apply_all(state, events)
    return reevaluate(state, events[-1], config, source, recorded_at, rules, term_of, memo)


def reevaluate(
    state: ChildState,
    cause: Event,
    config: RuleConfig,
    source: str,
    recorded_at: datetime,
    rules: Mapping[str, Rule] = DEFAULT_RULES,
    term_of: TermOf | None = None,
    memo: OutcomeMemo | None = None,
) -> StepResult:
    """Evaluate every enabled rule as of the child's as-of date; diff against held flags.
    With a memo, a rule whose inputs are as at the child's last evaluation is not run again
    (domain/memo.py): the same outcome, sooner."""
    if state.as_of is None:
        return StepResult(state, [])  # Nothing dated yet: nothing to evaluate.
    as_of = state.as_of
    known = memo.reusable(state, as_of, config, rules) if memo is not None else None
    outcomes = evaluate(state, as_of, config, rules, known)
    raised = {flag: o for flag, o in outcomes.items() if o.raised}
    before = {f.flag: f for f in state.flags}

    def change(flag: str, kind: str, reason: str) -> FlagChanged:
        key = f"{state.child_key}|{flag}|{kind}|{as_of}|{cause.event_id}|{config.version}"
        return FlagChanged(
            event_id=derived_id(_IDS, key),
            source=source,
            occurred_at=cause.occurred_at,
            recorded_at=recorded_at,
            child_key=state.child_key,
            urn=state.urn,
            flag=flag,
            change=kind,  # type: ignore[arg-type]
            reason=reason,
            rule_version=config.version,
            as_of=as_of,
        )

    changes = [change(f, "RAISED", o.reason) for f, o in raised.items() if f not in before]
    changes += [
        change(f, "CLEARED", outcomes[f].reason if f in outcomes else "flag switched off")
        for f in before
        if f not in raised
    ]
    flags = tuple(_active(f, o, before.get(f), as_of) for f, o in sorted(raised.items()))
    if flags != state.flags:
        state = with_flags(state, flags)
    if memo is not None:
        memo.keep(state, config)
    return StepResult(
        state, changes, True, cause.event_id, cause.occurred_at, source, recorded_at,
        config.version, term_of,
    )  # fmt: skip


def _active(flag: str, outcome: Outcome, held: ActiveFlag | None, as_of: date) -> ActiveFlag:
    """The raised flag; the one held when nothing about it changed (the usual case)."""
    if held is not None and (held.reason, held.tier) == (outcome.reason, outcome.tier):
        return held
    raised_on = held.raised_on if held is not None else as_of
    return ActiveFlag(flag=flag, reason=outcome.reason, raised_on=raised_on, tier=outcome.tier)
