"""Domain events: frozen dataclasses whose shapes mirror schemas/*.avsc one to one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal

Session = Literal["AM", "PM"]
Phase = Literal[
    "NURSERY", "PRIMARY", "FIRST", "MIDDLE", "SECONDARY", "UPPER", "SPECIAL", "ALL_THROUGH"
]
Sex = Literal["F", "M", "U"]
SenProvision = Literal["N", "K", "E"]
# Flags are strings on the wire so a new flag needs no schema change to FlagChanged.
FlagName = str
Change = Literal["RAISED", "CLEARED"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Envelope every event carries: identity, origin, event time and ingest time."""

    event_id: uuid.UUID
    source: str
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SchoolRecorded(Event):
    """A school's reference data (GIAS-style) was recorded."""

    urn: str
    name: str
    phase: Phase
    pyramid: str
    zone: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolmentRecorded(Event):
    """A pupil's enrolment at a school was recorded (joined, or left when left_on is set)."""

    child_key: str
    urn: str
    nc_year: int
    sex: Sex
    month_of_birth: str
    joined_on: date
    left_on: date | None = None
    household_key: str | None = None  # keyed hash of the household reference (docs/families.md)
    nhs_key: str | None = None  # keyed hash of the NHS number: links NHS-keyed records to it


@dataclass(frozen=True, slots=True, kw_only=True)
class AttendanceMarkRecorded(Event):
    """One register mark: a child's DfE code for one session of one day."""

    child_key: str
    urn: str
    date: date
    session: Session
    code: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AttendanceMarksRecorded:
    """A message carrying many marks, all owned by one partition (docs/architecture.md,
    "Throughput")."""

    batch_id: uuid.UUID
    marks: list[AttendanceMarkRecorded]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildEventsRecorded:
    """A message carrying many partner events of one kind, all owned by one partition; each
    is single-object encoded with its own schema (Codec.decode_all unpacks them)."""

    batch_id: uuid.UUID
    events: list[bytes]


@dataclass(frozen=True, slots=True, kw_only=True)
class SenProvisionRecorded(Event):
    """A child's SEN provision (N none, K SEN support, E EHC plan) from a date."""

    child_key: str
    urn: str
    provision: SenProvision
    effective_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class FsmEligibilityRecorded(Event):
    """A free-school-meals eligibility period; a repeat with eligible_to set ends it."""

    child_key: str
    eligible_from: date
    eligible_to: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AssessmentRecorded(Event):
    """One assessment result, e.g. KS2_READING '98', KS2_WRITING 'EXS', KS4_MATHS '4'."""

    child_key: str
    urn: str
    assessment: str
    result: str
    assessed_on: date


# Supporting Families outcome framework (2022-25): the 10 headline outcomes, the ids a
# family case's outcome_areas take.
OUTCOME_AREAS: Final = (
    "education",
    "early_years",
    "health",
    "substance_use",
    "family_relationships",
    "abuse_exploitation",
    "crime",
    "domestic_abuse",
    "housing",
    "finance",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FamilyCaseRecorded(Event):
    """A family-support case opened, or closed when closed_on is set."""

    child_key: str
    case_id: str
    opened_on: date
    closed_on: date | None = None
    outcome_areas: list[str]
    household_key: str | None = None  # on a household: every child of it (docs/families.md)


@dataclass(frozen=True, slots=True, kw_only=True)
class DomesticAbuseNotified(Event):
    """An Operation Encompass notification: that there was one, when, and for which child.
    The police reference and circumstances never travel: ingest keeps them in the restricted
    store beside the identity store (flagstream.restricted), for the school's DSL only."""

    child_key: str
    urn: str
    incident_on: date
    child_present: bool
    sensitive: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DayEnded(Event):
    """A clock tick: the school day has ended; time-dependent flags are re-evaluated."""

    day: date


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagChanged(Event):
    """A flag was raised or cleared for a child, with the reason and rule version."""

    child_key: str
    urn: str
    flag: FlagName
    change: Change
    reason: str
    rule_version: str
    as_of: date


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveFlag:
    """One flag currently raised on a child."""

    flag: FlagName
    reason: str
    raised_on: date
    tier: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildFlagsSnapshot(Event):
    """A child's current flags and the figures behind them, after an update."""

    child_key: str
    urn: str
    nc_year: int | None
    sex: Sex | None
    as_of: date
    possible_sessions: int
    absent_sessions: int
    flags: list[ActiveFlag]
    rule_version: str
    # Term to date: from the first day of as_of's term (term calendar) to as_of.
    term_start: date | None = None
    term_possible_sessions: int = 0
    term_absent_sessions: int = 0

    @property
    def indicators(self) -> int:
        """Number of active flags."""
        return len(self.flags)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildFlagsSnapshots:
    """The snapshots one input message produced, sent as one message (docs/architecture.md,
    "Throughput")."""

    batch_id: uuid.UUID
    snapshots: list[ChildFlagsSnapshot]


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeRecorded(Event):
    """A professional recorded the response agreed for a child and its status."""

    child_key: str
    urn: str
    response: str
    status: str
    recorded_by: str
    recorded_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class HuddleReview:
    """One child a huddle reviewed and the response agreed for them."""

    child_key: str
    response: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HuddleRecorded(Event):
    """A school's half-termly huddle was recorded: when it met, who came (roles, never names)
    and each child reviewed with the response agreed. Keyed by urn, on the outcomes topic."""

    urn: str
    half_term: str
    held_on: date
    attendees: list[str]
    recorded_by: str
    reviews: list[HuddleReview]


@dataclass(frozen=True, slots=True, kw_only=True)
class RulesDeployed(Event):
    """A new rules version (the whole TOML file) deployed to every flagger partition."""

    version: str
    rules_toml: str
