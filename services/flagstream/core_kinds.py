"""The built-in kinds of the catalogue: the core partners' records (schools, enrolments,
registers, SEN, FSM, assessments, family cases, police notifications, outcomes, huddles),
the clock's ticks and rules deployments, and Flagstream's own output (flag changes,
snapshots)."""

from __future__ import annotations

from .domain import events as ev
from .domain import state as st
from .event_kinds import EventKind, Freshness


def core_kinds() -> tuple[EventKind, ...]:
    """The kinds of the core partners and of Flagstream's own output, in catalogue order."""
    fresh = Freshness
    return (
        EventKind(ev.SchoolRecorded, "SchoolRecorded", "school", "schools", key="urn"),
        EventKind(
            ev.EnrolmentRecorded,
            "EnrolmentRecorded",
            "enrolment",
            "enrolments",
            mutate=st.on_enrolment,
            freshness=fresh("enrolment", ("left_on", "joined_on")),
        ),
        EventKind(
            ev.AttendanceMarkRecorded,
            "AttendanceMarkRecorded",
            "attendance_mark",
            "attendance",
            mutate=st.on_mark,
            freshness=fresh("register", ("date",)),
        ),
        EventKind(
            ev.AttendanceMarksRecorded,
            "AttendanceMarkBatch",
            "attendance_batch",
            "attendance",
            key=None,
        ),
        EventKind(
            ev.ChildEventsRecorded,
            "ChildEventsRecorded",
            "child_events",
            "child_events",
            key=None,
        ),
        EventKind(
            ev.SenProvisionRecorded,
            "SenProvisionRecorded",
            "sen_provision",
            "child_events",
            mutate=st.on_sen,
            freshness=fresh("sen", ("effective_on",)),
        ),
        EventKind(
            ev.FsmEligibilityRecorded,
            "FsmEligibilityRecorded",
            "fsm_eligibility",
            "child_events",
            mutate=st.on_fsm,
            freshness=fresh("fsm", ("eligible_to", "eligible_from"), urn=None),
        ),
        EventKind(
            ev.AssessmentRecorded,
            "AssessmentRecorded",
            "assessment",
            "child_events",
            mutate=st.on_assessment,
            freshness=fresh("assessment", ("assessed_on",)),
        ),
        EventKind(
            ev.FamilyCaseRecorded,
            "FamilyCaseRecorded",
            "family_case",
            "child_events",
            mutate=st.on_case,
            freshness=fresh("family", ("closed_on", "opened_on"), urn=None),
        ),
        EventKind(
            ev.DomesticAbuseNotified,
            "DomesticAbuseNotified",
            "domestic_abuse_notification",
            "child_events",
            mutate=st.on_notification,
            sensitive=True,  # no freshness: police is not a source anyone else may see
        ),
        EventKind(
            ev.DayEnded, "DayEnded", "day_ended", "attendance", key=None, mutate=st.on_day_ended
        ),
        EventKind(ev.RulesDeployed, "RulesDeployed", "rules_deployed", "clock", key=None),
        EventKind(
            ev.OutcomeRecorded,
            "OutcomeRecorded",
            "outcome",
            "outcomes",
            freshness=fresh("outcome", ("recorded_on",)),
        ),
        EventKind(
            ev.HuddleRecorded,
            "HuddleRecorded",
            "huddle",
            "outcomes",
            key="urn",
        ),
        EventKind(ev.FlagChanged, "FlagChanged", "flag_changed", "flag_changes"),
        EventKind(ev.ChildFlagsSnapshot, "ChildFlagsSnapshot", "child_flags_snapshot", None),
        EventKind(
            ev.ChildFlagsSnapshots, "ChildFlagsSnapshots", "child_flags_snapshots", "child_flags"
        ),
    )
