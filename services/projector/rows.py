"""Pure conversions from decoded events to read-model rows and source facts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flagstream.domain.events import (
    AssessmentRecorded,
    AttendanceMarksRecorded,
    ChildFlagsSnapshot,
    DomesticAbuseNotified,
    EnrolmentRecorded,
    FamilyCaseRecorded,
    FlagChanged,
    FsmEligibilityRecorded,
    OutcomeRecorded,
    SchoolRecorded,
    SenProvisionRecorded,
)

from .tables import FLAGS


@dataclass(frozen=True, slots=True)
class SourceFact:
    """A partner event seen: which child and school, from which source, received when."""

    child_key: str
    urn: str  # '' when the source is council-wide (FSM, family support)
    source: str
    received_at: datetime
    data_as_of: date


def school_row(e: SchoolRecorded) -> dict[str, Any]:
    """schools row."""
    return {
        "urn": e.urn,
        "name": e.name,
        "phase": e.phase,
        "pyramid": e.pyramid,
        "zone": e.zone,
        "updated_at": e.recorded_at,
    }


def _flag_values(e: ChildFlagsSnapshot) -> dict[str, Any]:
    active = {f.flag: f for f in e.flags}
    row: dict[str, Any] = {}
    for flag in FLAGS:
        name, f = flag.lower(), active.get(flag)
        row[name] = f is not None
        row[f"{name}_reason"] = f.reason if f else None
        row[f"{name}_tier"] = f.tier if f else None
        row[f"{name}_since"] = f.raised_on if f else None
    return row


def child_row(e: ChildFlagsSnapshot) -> dict[str, Any]:
    """The snapshot's columns of a children row (outcome and source columns come elsewhere)."""
    possible = e.possible_sessions
    return {
        "child_key": e.child_key,
        "urn": e.urn,
        "nc_year": e.nc_year,
        "sex": e.sex,
        "as_of": e.as_of,
        "possible_sessions": possible,
        "absent_sessions": e.absent_sessions,
        "attendance_pct": round(100.0 * (possible - e.absent_sessions) / possible, 2)
        if possible
        else None,
        **_flag_values(e),
        "indicators": len(e.flags),
        "flags": ",".join(sorted(f.flag for f in e.flags)),
        "rule_version": e.rule_version,
        "updated_at": e.recorded_at,
    }


def change_row(e: FlagChanged, partition: int, offset: int) -> dict[str, Any]:
    """flag_changes row; partition and offset keep the flagger's order per child."""
    return {
        "event_id": str(e.event_id),
        "child_key": e.child_key,
        "urn": e.urn,
        "flag": e.flag,
        "change": e.change,
        "reason": e.reason,
        "rule_version": e.rule_version,
        "as_of": e.as_of,
        "recorded_at": e.recorded_at,
        "kafka_partition": partition,
        "kafka_offset": offset,
    }


def outcome_row(e: OutcomeRecorded) -> dict[str, Any]:
    """outcomes row."""
    return {
        "event_id": str(e.event_id),
        "child_key": e.child_key,
        "urn": e.urn,
        "response": e.response,
        "status": e.status,
        "recorded_by": e.recorded_by,
        "recorded_on": e.recorded_on,
        "recorded_at": e.recorded_at,
    }


def roll_row(e: EnrolmentRecorded) -> dict[str, Any]:
    """rolls row: one enrolment spell."""
    return {"child_key": e.child_key, "urn": e.urn, "joined_on": e.joined_on, "left_on": e.left_on}


def _fact(e: Any, urn: str, source: str, day: date) -> SourceFact:
    return SourceFact(e.child_key, urn, source, e.recorded_at, day)


_FACTS: dict[type[Any], Callable[[Any], SourceFact]] = {
    EnrolmentRecorded: lambda e: _fact(e, e.urn, "enrolment", e.left_on or e.joined_on),
    SenProvisionRecorded: lambda e: _fact(e, e.urn, "sen", e.effective_on),
    FsmEligibilityRecorded: lambda e: _fact(e, "", "fsm", e.eligible_to or e.eligible_from),
    AssessmentRecorded: lambda e: _fact(e, e.urn, "assessment", e.assessed_on),
    FamilyCaseRecorded: lambda e: _fact(e, "", "family", e.closed_on or e.opened_on),
    DomesticAbuseNotified: lambda e: _fact(e, e.urn, "police", e.incident_on),
    OutcomeRecorded: lambda e: _fact(e, e.urn, "outcome", e.recorded_on),
}


def source_facts(event: Any) -> Iterator[SourceFact]:
    """The partner events a message carries (a register batch carries many marks)."""
    if isinstance(event, AttendanceMarksRecorded):
        for m in event.marks:
            yield SourceFact(m.child_key, m.urn, "register", m.recorded_at, m.date)
        return
    to_fact = _FACTS.get(type(event))
    if to_fact is not None:
        yield to_fact(event)
