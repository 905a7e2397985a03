"""HTTP bodies of the partner sources beyond registers: SEN, FSM, assessments, family cases,
Operation Encompass notifications and professionals' outcomes. Loose on purpose, as models.py."""

from __future__ import annotations

from pydantic import BaseModel, Field

from flagstream.domain.rules.assessments import CATALOGUE

from .models import RecordIn

_UPN = "13-character Unique Pupil Number (turned into child_key at the edge)"
_RESULTS = "; ".join(f"{a.code} {a.valid_words()}" for a in CATALOGUE.values())


class SenIn(RecordIn):
    """A pupil's SEN provision from a date (school MIS / census)."""

    upn: str | None = Field(None, description=_UPN)
    urn: str | None = Field(None, description="6-digit school URN")
    provision: str | None = Field(None, description="N none, K SEN support, E EHC plan")
    effective_on: str | None = Field(None, description="YYYY-MM-DD")


class SenBatchIn(BaseModel):
    """A batch of SEN provision records."""

    source: str = "census"
    records: list[SenIn]


class FsmIn(RecordIn):
    """A free-school-meals eligibility period; send it again with eligible_to to end it."""

    upn: str | None = Field(None, description=_UPN)
    eligible_from: str | None = Field(None, description="YYYY-MM-DD")
    eligible_to: str | None = Field(None, description="YYYY-MM-DD, when the period ends")


class FsmBatchIn(BaseModel):
    """A batch of FSM eligibility records (the council's eligibility checks)."""

    source: str = "fsm-checks"
    records: list[FsmIn]


class AssessmentIn(RecordIn):
    """One assessment result: a statutory check or test, or a termly teacher assessment or
    in-year grade (docs/attainment.md)."""

    upn: str | None = Field(None, description=_UPN)
    urn: str | None = Field(None, description="6-digit school URN")
    assessment: str | None = Field(None, description=", ".join(CATALOGUE))
    result: str | None = Field(None, description=_RESULTS)
    assessed_on: str | None = Field(None, description="YYYY-MM-DD")


class AssessmentBatchIn(BaseModel):
    """A batch of assessment results."""

    source: str = "assessments"
    records: list[AssessmentIn]


class FamilyCaseIn(RecordIn):
    """A family-support case opened, or closed when closed_on is set."""

    upn: str | None = Field(None, description=_UPN)
    case_id: str | None = Field(None, description="The case system's reference")
    opened_on: str | None = Field(None, description="YYYY-MM-DD")
    closed_on: str | None = Field(None, description="YYYY-MM-DD, when the case closed")
    outcome_areas: list[str] | str | None = Field(
        None,
        description="Supporting Families headline outcomes (list, or ';'-separated text): "
        "education, early_years, health, substance_use, family_relationships, "
        "abuse_exploitation, crime, domestic_abuse, housing, finance",
    )
    household_ref: str | None = Field(
        None,
        description="Optional: the household the case is on (the council's reference); the "
        "case then raises Family for every child of it, and upn may be left out "
        "(docs/families.md)",
    )


class FamilyCaseBatchIn(BaseModel):
    """A batch of family-support case records."""

    source: str = "family-support"
    records: list[FamilyCaseIn]


class NotificationIn(RecordIn):
    """An Operation Encompass domestic-abuse notification (details: safeguarding roles only)."""

    upn: str | None = Field(None, description=_UPN)
    urn: str | None = Field(None, description="6-digit URN of the child's school")
    incident_on: str | None = Field(None, description="YYYY-MM-DD")
    child_present: bool | str | None = Field(None, description="Was the child present")
    police_reference: str | None = Field(None, description="The force's incident reference")
    circumstances: str | None = Field(None, description="Brief circumstances (sensitive)")


class NotificationBatchIn(BaseModel):
    """A batch of Operation Encompass notifications."""

    source: str = "police"
    records: list[NotificationIn]


class OutcomeIn(RecordIn):
    """The response a professional agreed for a child and its status."""

    upn: str | None = Field(None, description=_UPN)
    urn: str | None = Field(None, description="6-digit school URN")
    response: str | None = Field(None, description="e.g. New, Continue to monitor, 1:1")
    status: str | None = Field(None, description="e.g. No Progress, Further Risk")
    recorded_by: str | None = Field(None, description="Who recorded it (role or user id)")
    recorded_on: str | None = Field(None, description="YYYY-MM-DD")


class OutcomeBatchIn(BaseModel):
    """A batch of professionals' outcomes."""

    source: str = "dashboard"
    records: list[OutcomeIn]
