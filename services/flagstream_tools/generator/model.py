"""Synthetic county data model: schools, pupils and the registers their MIS send."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias

from flagstream.domain.events import Phase, Session, Sex
from flagstream.domain.rules.assessments import ASSESSMENTS as ATTAIN_ASSESSMENTS

Preset = Literal["tiny", "demo", "dorset"]
SenProvision = Literal["N", "K", "E"]  # none, SEN support, EHC plan

# The kinds Attain reads, each with its result form (flagstream/domain/rules/assessments.py):
# EYFS_GLD GLD/NOT_GLD, PHONICS 0-40, MTC 0-25, TA_* PKS/WTS/EXS/GDS, KS2 reading/maths
# scaled score 80-120, KS2 writing WTS/EXS/GDS, KS3 (in-year) and KS4 grade "1".."9".
ASSESSMENTS: Final = ATTAIN_ASSESSMENTS


@dataclass(frozen=True, slots=True)
class School:
    """A fictional school's reference data (GIAS-style)."""

    urn: str
    name: str
    phase: Phase
    pyramid: str
    zone: str
    la_code: int
    establishment: int


@dataclass(frozen=True, slots=True)
class Pupil:
    """A fictional pupil on one school's roll."""

    upn: str
    urn: str
    nc_year: int
    sex: Sex
    month_of_birth: str
    joined_on: dt.date
    # The family around the child (docs/families.md), given by generator/families.py: the
    # council's household reference and the NHS number its enrolment brings, if any.
    household_ref: str | None = None
    nhs_number: str | None = None


@dataclass(frozen=True, slots=True)
class RawMark:
    """One register mark exactly as a school's MIS sends it."""

    upn: str
    date: dt.date
    session: Session
    code: str


@dataclass(frozen=True, slots=True, repr=False)
class Register:
    """One submission by a school's MIS; it may also carry corrections of earlier days."""

    urn: str
    day: dt.date
    marks: tuple[RawMark, ...]

    def __repr__(self) -> str:
        # The default repr would print every mark, which swamps test failure output.
        return f"Register(urn={self.urn!r}, day={self.day!r}, marks=<{len(self.marks)}>)"


@dataclass(frozen=True, slots=True, repr=False)
class County:
    """A fictional local authority: its schools and every pupil on their rolls."""

    name: str
    schools: tuple[School, ...]
    pupils: tuple[Pupil, ...]
    _by_urn: dict[str, School] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen, so the lookup index has to be set past the frozen __setattr__.
        object.__setattr__(self, "_by_urn", {s.urn: s for s in self.schools})

    def __repr__(self) -> str:
        # Tens of thousands of pupils are no use in a repr.
        return (
            f"County(name={self.name!r}, schools=<{len(self.schools)}>, "
            f"pupils=<{len(self.pupils)}>)"
        )

    def zones(self) -> list[str]:
        """Zone names, sorted."""
        return sorted({s.zone for s in self.schools})

    def school(self, urn: str) -> School:
        """The school with this URN (KeyError if there is none)."""
        return self._by_urn[urn]


# Partner sources, in the raw form each partner sends: keyed by UPN, never by child_key.


@dataclass(frozen=True, slots=True)
class SenRecorded:
    """A pupil's SEN provision as of a date, from the school MIS / census."""

    upn: str
    urn: str
    provision: SenProvision
    effective_on: dt.date


@dataclass(frozen=True, slots=True)
class FsmRecorded:
    """A free-school-meals eligibility period from the council's eligibility checks.

    eligible_to None is open-ended; a later record with the same upn and eligible_from and
    eligible_to set ends the period.
    """

    upn: str
    eligible_from: dt.date
    eligible_to: dt.date | None


@dataclass(frozen=True, slots=True)
class AssessmentRecorded:
    """One statutory assessment result (see ASSESSMENTS for the kinds and result forms)."""

    upn: str
    urn: str
    assessment: str
    result: str
    assessed_on: dt.date


@dataclass(frozen=True, slots=True)
class FamilyCaseRecorded:
    """A family-support case opened, or closed (the same case_id sent again with closed_on).

    On a household (household_ref), upn may be '': the case names only the household."""

    upn: str
    case_id: str
    opened_on: dt.date
    closed_on: dt.date | None
    outcome_areas: tuple[str, ...]  # ids from flagstream.domain.events.OUTCOME_AREAS
    household_ref: str | None = None  # a case on a household: it reaches every child of it


@dataclass(frozen=True, slots=True, repr=False)
class DomesticAbuseNotified:
    """An Operation Encompass notification to the school's DSL; the details are sensitive."""

    upn: str
    urn: str
    incident_on: dt.date
    child_present: bool
    police_reference: str
    circumstances: str

    def __repr__(self) -> str:
        # Keep the circumstances out of logs and test failure output.
        return (
            f"DomesticAbuseNotified(upn={self.upn!r}, urn={self.urn!r}, "
            f"incident_on={self.incident_on!r}, police_reference=<redacted>, "
            "circumstances=<redacted>)"
        )


@dataclass(frozen=True, slots=True)
class EnrolmentChanged:
    """A pupil's enrolment at a school as the MIS sends it after a mid-year change.

    left_on set: the pupil left urn (moved school, or left the county); left_on None: the
    pupil joined urn on joined_on, or (same urn and joined_on as before) changed year group.
    """

    upn: str
    urn: str
    nc_year: int
    sex: Sex
    month_of_birth: str
    joined_on: dt.date
    left_on: dt.date | None


@dataclass(frozen=True, slots=True)
class EarlyYearsRecorded:
    """An early-years check as a setting or health visitor sends it, keyed by NHS number
    (POST /v1/streams/early_years; the stream is flagstream.early_years)."""

    nhs_number: str
    setting: str
    zone: str
    check_ref: str
    checked_on: dt.date
    on_track: bool


@dataclass(frozen=True, slots=True)
class DayEnded:
    """Marker: every source has sent what it will send for this school day."""

    day: dt.date


Item: TypeAlias = (
    Register
    | SenRecorded
    | FsmRecorded
    | AssessmentRecorded
    | FamilyCaseRecorded
    | DomesticAbuseNotified
    | EnrolmentChanged
    | EarlyYearsRecorded
    | DayEnded
)
