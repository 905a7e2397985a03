"""The batch oracle: every child's flags as of a date, from an event log, with plain code.

It shares the rule functions and the term calendar with the flagger but none of its
machinery: no Kafka, no Faust, no incremental state. Facts are gathered with last-wins
dictionaries in log order, then the rules run once per child and its term to date is
counted from its marks (oracle_term.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flagstream import catalogue
from flagstream.domain import events as ev
from flagstream.domain.observations import Observation
from flagstream.domain.register import SessionRegister, register_origin
from flagstream.domain.rules import DEFAULT_RULES, Outcome, Rule, RuleConfig, evaluate
from flagstream.domain.state import Case, ChildState, Result
from flagstream.term_calendar import TermCalendar, england

from .oracle_households import Households, NhsLinks
from .oracle_term import TermToDate, term_to_date


@dataclass(slots=True)
class _Facts:
    marks: dict[tuple[date, str], str] = field(default_factory=dict)
    urn: str = ""
    enrolled: bool = False  # once an enrolment is known, marks no longer set the school
    sen: dict[date, str] = field(default_factory=dict)
    fsm: dict[date, date | None] = field(default_factory=dict)
    results: dict[tuple[str, date], str] = field(default_factory=dict)
    cases: dict[str, tuple[date, date | None]] = field(default_factory=dict)
    notifications: set[date] = field(default_factory=set)
    observed: dict[tuple[str, str], Observation] = field(default_factory=dict)


def _gather(log: Iterable[Any], as_of: date) -> dict[str, _Facts]:
    facts: dict[str, _Facts] = defaultdict(_Facts)
    households = Households()  # a case on a household is every member's (docs/families.md)
    links = NhsLinks()  # an NHS number's records are the linked child's (docs/families.md)
    origin = register_origin(as_of)  # the school year and the last weeks of the one before
    for event in log:
        marks = event.marks if isinstance(event, ev.AttendanceMarksRecorded) else [event]
        for e in marks:
            if not hasattr(e, "child_key"):  # Ticks, reference data, rules deployments.
                continue
            if not e.child_key:  # A case naming only its household (a generator file's).
                households.note(e)
                continue
            f = facts[e.child_key]
            if isinstance(e, ev.AttendanceMarkRecorded):
                if origin <= e.date <= as_of:
                    f.marks[(e.date, e.session)] = e.code
                if not f.enrolled:
                    f.urn = e.urn
            elif isinstance(e, ev.SenProvisionRecorded):
                f.sen[e.effective_on] = e.provision
            elif isinstance(e, ev.FsmEligibilityRecorded):
                f.fsm[e.eligible_from] = e.eligible_to
            elif isinstance(e, ev.AssessmentRecorded):
                f.results[(e.assessment, e.assessed_on)] = e.result
            elif isinstance(e, ev.FamilyCaseRecorded):
                if not households.note(e):
                    f.cases[e.case_id] = (e.opened_on, e.closed_on)
            elif isinstance(e, ev.DomesticAbuseNotified):
                f.notifications.add(e.incident_on)
            elif isinstance(e, ev.EnrolmentRecorded):
                households.note(e)
                links.note(e)
                # The latest enrolment wins; leaving another school changes nothing.
                if e.left_on is None or not f.enrolled or e.urn == f.urn:
                    f.urn, f.enrolled = e.urn, True
            elif (o := catalogue.observe(e)) is not None:  # a generic stream's event
                f.observed[(o.stream, o.ref)] = o
    for child_key, cases in households.cases_of().items():
        facts[child_key].cases.update(cases)
    links.merge(facts)
    return facts


def _state(child_key: str, f: _Facts, as_of: date) -> ChildState:
    register = None
    if f.marks:
        register = SessionRegister(register_origin(as_of))
        for (day, session), code in sorted(f.marks.items()):
            register = register.with_mark(day, session, code)  # type: ignore[arg-type]
    return ChildState(
        child_key=child_key,
        urn=f.urn,
        as_of=as_of,
        register=register,
        sen=tuple(sorted(f.sen.items())),  # type: ignore[arg-type]
        fsm=tuple(sorted(f.fsm.items(), key=lambda p: p[0])),
        results=tuple(Result(a, r, d) for (a, d), r in f.results.items()),
        cases=tuple(Case(k, o, c) for k, (o, c) in sorted(f.cases.items())),
        notifications=tuple(sorted(f.notifications)),
        observations=_kept(f.observed.values()),
    )


def _kept(observed: Iterable[Observation]) -> tuple[Observation, ...]:
    """The newest observations of each stream, as many as the stream keeps."""
    streams = catalogue.observed_streams()
    by_stream: dict[str, list[Observation]] = defaultdict(list)
    for o in sorted(observed, key=lambda o: (o.on, o.ref)):
        by_stream[o.stream].append(o)
    return tuple(o for name, obs in by_stream.items() for o in obs[-streams[name] :])


@dataclass(frozen=True, slots=True)
class Recomputed:
    """One child's school (as the log last said), every rule's outcome and its term to date."""

    urn: str
    outcomes: dict[str, Outcome]
    term: TermToDate | None = None

    @property
    def flags(self) -> frozenset[str]:
        """The flags raised."""
        return frozenset(flag for flag, o in self.outcomes.items() if o.raised)


def recompute_children(
    log: Iterable[Any],
    as_of: date,
    config: RuleConfig,
    rules: Mapping[str, Rule] = DEFAULT_RULES,
    calendar: TermCalendar | None = None,
) -> dict[str, Recomputed]:
    """child_key -> school, outcomes and term to date, for every child with any event in the
    log; the term by `calendar`, the flagger's (default: England's, as the flagger's with no
    FLAGSTREAM_TERM_CALENDAR)."""
    term_start = (calendar if calendar is not None else england()).term_start_of(as_of)
    return {
        key: Recomputed(
            facts.urn,
            evaluate(_state(key, facts, as_of), as_of, config, rules),
            term_to_date(facts.marks, as_of, term_start),
        )
        for key, facts in _gather(log, as_of).items()
    }


def recompute(
    log: Iterable[Any],
    as_of: date,
    config: RuleConfig,
    rules: Mapping[str, Rule] = DEFAULT_RULES,
) -> dict[str, dict[str, Outcome]]:
    """child_key -> flag -> outcome, for every child with any event in the log."""
    return {k: r.outcomes for k, r in recompute_children(log, as_of, config, rules).items()}


def raised(outcomes: Mapping[str, Outcome]) -> dict[str, str]:
    """Just the raised flags and their tiers."""
    return {flag: o.tier for flag, o in outcomes.items() if o.raised}
