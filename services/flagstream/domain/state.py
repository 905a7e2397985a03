"""Per-child state and the mutators that apply each event type to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from .events import (
    ActiveFlag,
    AssessmentRecorded,
    AttendanceMarkRecorded,
    DayEnded,
    DomesticAbuseNotified,
    EnrolmentRecorded,
    FamilyCaseRecorded,
    FsmEligibilityRecorded,
    SenProvision,
    SenProvisionRecorded,
    Sex,
)
from .observations import Observation
from .register import SessionRegister, register_origin

MAX_NOTIFICATIONS = 20  # Older incidents are outside any sensible window; keep state small.


@dataclass(frozen=True, slots=True)
class Result:
    """One assessment result held for the Attain rule."""

    assessment: str
    result: str
    assessed_on: date


@dataclass(frozen=True, slots=True)
class Case:
    """A family-support case: open while closed_on is None or later than as-of."""

    case_id: str
    opened_on: date
    closed_on: date | None


@dataclass(frozen=True, slots=True)
class ChildState:
    """Everything the flag rules need to know about one child."""

    child_key: str
    urn: str = ""
    nc_year: int | None = None
    sex: Sex | None = None
    as_of: date | None = None
    register: SessionRegister | None = None
    sen: tuple[tuple[date, SenProvision], ...] = ()
    fsm: tuple[tuple[date, date | None], ...] = ()
    results: tuple[Result, ...] = ()
    cases: tuple[Case, ...] = ()
    notifications: tuple[date, ...] = ()
    observations: tuple[Observation, ...] = ()
    flags: tuple[ActiveFlag, ...] = ()

    def observed(self, stream: str) -> tuple[Observation, ...]:
        """An extension stream's observations, oldest first."""
        return tuple(o for o in self.observations if o.stream == stream)


def with_register(
    state: ChildState, urn: str, as_of: date | None, register: SessionRegister | None
) -> ChildState:
    """The state with a new school, as-of date and register: dataclasses.replace in half the
    time (it was ~4% of the flagger, once per child per batch); a test holds the two equal."""
    return ChildState(
        state.child_key, urn, state.nc_year, state.sex, as_of, register, state.sen, state.fsm,
        state.results, state.cases, state.notifications, state.observations, state.flags,
    )  # fmt: skip


def with_flags(state: ChildState, flags: tuple[ActiveFlag, ...]) -> ChildState:
    """The state with new flags held, as with_register (once per evaluated child)."""
    return ChildState(
        state.child_key, state.urn, state.nc_year, state.sex, state.as_of, state.register,
        state.sen, state.fsm, state.results, state.cases, state.notifications,
        state.observations, flags,
    )  # fmt: skip


def later(current: date | None, day: date) -> date:
    return day if current is None or current < day else current


def _register_for(register: SessionRegister | None, day: date) -> SessionRegister | None:
    """The register a mark on this day goes into; None: the mark is too old to matter (it is
    before the register's origin: neither the year to date nor the last 10 school weeks)."""
    origin = register_origin(day)
    if register is None:
        return SessionRegister(origin)
    if origin > register.origin:
        return register.moved_to(origin)  # A new school year: keep the old one's last weeks.
    return register if day >= register.origin else None


def on_mark(state: ChildState, mark: AttendanceMarkRecorded) -> ChildState:
    register = _register_for(state.register, mark.date)
    if register is None:
        return state
    return with_register(
        state,
        # A school is the child's by enrolment; marks place a child only until one arrives,
        # so a mover's late correction from the old school does not move them back.
        urn=mark.urn if state.nc_year is None else state.urn,
        as_of=later(state.as_of, mark.date),
        register=register.with_mark(mark.date, mark.session, mark.code),
    )


def on_enrolment(state: ChildState, enrolment: EnrolmentRecorded) -> ChildState:
    # The latest enrolment wins (nc_year is set once one has); a leaver stays at the school
    # they left. The urn therefore depends only on enrolments, in their topic's order.
    enrolled = state.nc_year is not None
    if enrolment.left_on is not None and enrolled and enrolment.urn != state.urn:
        return state  # Leaving an earlier school does not move the child back to it.
    return replace(state, urn=enrolment.urn, nc_year=enrolment.nc_year, sex=enrolment.sex)


def on_sen(state: ChildState, event: SenProvisionRecorded) -> ChildState:
    # One provision per effective date; the latest record for a date replaces the earlier.
    kept = tuple(p for p in state.sen if p[0] != event.effective_on)
    return replace(state, sen=tuple(sorted((*kept, (event.effective_on, event.provision)))))


def on_fsm(state: ChildState, event: FsmEligibilityRecorded) -> ChildState:
    kept = tuple(p for p in state.fsm if p[0] != event.eligible_from)
    periods = (*kept, (event.eligible_from, event.eligible_to))
    return replace(state, fsm=tuple(sorted(periods, key=lambda p: p[0])))


def on_assessment(state: ChildState, event: AssessmentRecorded) -> ChildState:
    result = Result(event.assessment, event.result, event.assessed_on)
    kept = tuple(
        r for r in state.results
        if (r.assessment, r.assessed_on) != (event.assessment, event.assessed_on)
    )  # fmt: skip
    ordered = sorted((*kept, result), key=lambda r: (r.assessed_on, r.assessment))
    return replace(state, results=tuple(ordered))


def on_case(state: ChildState, event: FamilyCaseRecorded) -> ChildState:
    case = Case(event.case_id, event.opened_on, event.closed_on)
    kept = tuple(c for c in state.cases if c.case_id != event.case_id)
    cases = tuple(sorted((*kept, case), key=lambda c: c.case_id))
    return replace(state, cases=cases, as_of=later(state.as_of, event.opened_on))


def on_notification(state: ChildState, event: DomesticAbuseNotified) -> ChildState:
    """A sensitive event leaves the as-of date alone: the flags everyone else sees are
    evaluated on the same date whether or not it arrived. SAFEGUARD is raised at once when
    the incident is on or before the child's as-of date (incidents are reported after they
    happen, so nearly always), else by the next tick or register that reaches its date."""
    incidents = sorted({*state.notifications, event.incident_on})[-MAX_NOTIFICATIONS:]
    return replace(state, notifications=tuple(incidents))


def on_day_ended(state: ChildState, event: DayEnded) -> ChildState:
    return replace(state, as_of=later(state.as_of, event.day))


def on_marks(state: ChildState, marks: list[AttendanceMarkRecorded]) -> ChildState:
    """Many marks at once, exactly as on_mark one by one but with one register copy."""
    if len(marks) == 1:
        return on_mark(state, marks[0])
    origins = {register_origin(m.date) for m in marks}
    held = state.register
    if len(origins) > 1 or (held is not None and origins != {held.origin}):
        for mark in marks:  # A new school year starts within the batch: the plain path.
            state = on_mark(state, mark)
        return state
    register = held or SessionRegister(origins.pop())
    last = marks[-1]
    return with_register(
        state,
        urn=last.urn if state.nc_year is None else state.urn,
        as_of=later(state.as_of, max(m.date for m in marks)),
        register=register.with_marks((m.date, m.session, m.code) for m in marks),
    )


def apply_all(state: ChildState, events: Iterable[object]) -> ChildState:
    """Fold events into the state, routed by their catalogue entry (flagstream/catalogue.py,
    which names every kind and so sits above the domain)."""
    from .. import catalogue

    return catalogue.apply_all(state, events)
