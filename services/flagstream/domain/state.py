"""Per-child state and the mutators that apply each event type to it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from .events import ActiveFlag, AttendanceMarkRecorded, EnrolmentRecorded, Sex
from .register import SessionRegister, school_year_start


@dataclass(frozen=True, slots=True)
class ChildState:
    """Everything the flag rules need to know about one child."""

    child_key: str
    urn: str = ""
    nc_year: int | None = None
    sex: Sex | None = None
    as_of: date | None = None
    register: SessionRegister | None = None
    flags: tuple[ActiveFlag, ...] = ()


def _on_mark(state: ChildState, mark: AttendanceMarkRecorded) -> ChildState:
    year = school_year_start(mark.date)
    register = state.register
    if register is not None and year < register.year_start:
        return state  # A mark for an earlier school year no longer affects year-to-date flags.
    if register is None or year > register.year_start:
        register = SessionRegister(year)
    as_of = mark.date if state.as_of is None or state.as_of < mark.date else state.as_of
    return replace(
        state,
        urn=mark.urn,
        as_of=as_of,
        register=register.with_mark(mark.date, mark.session, mark.code),
    )


def _on_enrolment(state: ChildState, enrolment: EnrolmentRecorded) -> ChildState:
    if enrolment.left_on is not None and enrolment.urn != state.urn and state.urn:
        return state  # Leaving an earlier school does not move the child back to it.
    return replace(state, urn=enrolment.urn, nc_year=enrolment.nc_year, sex=enrolment.sex)


MUTATORS: dict[type[Any], Callable[[ChildState, Any], ChildState]] = {
    AttendanceMarkRecorded: _on_mark,
    EnrolmentRecorded: _on_enrolment,
}


def apply_all(state: ChildState, events: Iterable[object]) -> ChildState:
    """Fold events into the state, routed by event type."""
    for event in events:
        state = MUTATORS[type(event)](state, event)
    return state
