"""HTTP request and response bodies. Record fields are loose on purpose: each record is
validated on its own, so one bad record is rejected with a reason, not the whole request."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RecordIn(BaseModel):
    """Fields every record may carry."""

    event_id: str | None = Field(
        None,
        description="Optional UUID chosen by the sender; a record whose event_id was already "
        "accepted is rejected as duplicate_event and not published again",
    )


class MarkIn(RecordIn):
    """One register mark as a school MIS sends it."""

    upn: str | None = Field(None, description="13-character Unique Pupil Number")
    date: str | None = Field(None, description="School day, YYYY-MM-DD")
    session: str | None = Field(None, description="AM or PM")
    code: str | None = Field(None, description="DfE attendance code, e.g. '/', '\\\\', 'I', 'O'")


class RegisterIn(BaseModel):
    """A school's register: marks for any sessions, corrections included."""

    source: str = Field("mis", description="Sending system, e.g. the MIS product name")
    marks: list[MarkIn]


class EnrolmentIn(RecordIn):
    """One pupil's enrolment at a school."""

    upn: str | None = None
    forename: str | None = Field(
        None, description="Optional; kept only in the identity store, never published"
    )
    surname: str | None = Field(
        None, description="Optional; kept only in the identity store, never published"
    )
    urn: str | None = Field(None, description="6-digit school URN")
    nc_year: int | str | None = Field(None, description="NC year: -2..14 (0 = Reception)")
    sex: str | None = Field(None, description="F, M or U")
    month_of_birth: str | None = Field(None, description="YYYY-MM")
    joined_on: str | None = Field(None, description="YYYY-MM-DD")
    left_on: str | None = Field(None, description="YYYY-MM-DD, when the pupil has left")
    household_ref: str | None = Field(
        None,
        description="Optional: the council's household reference (up to 64 characters); "
        "turned into a keyed hash at the edge, never published (docs/families.md)",
    )
    nhs_number: str | None = Field(
        None,
        description="Optional: the pupil's NHS number, linking records early-years and health "
        "partners sent by it to this pupil; turned into a keyed hash at the edge",
    )


class EnrolmentsIn(BaseModel):
    """A batch of enrolments (e.g. a census-style extract)."""

    source: str = "census"
    enrolments: list[EnrolmentIn]


class SchoolIn(RecordIn):
    """Reference data for one school."""

    urn: str | None = None
    name: str | None = None
    phase: str | None = Field(None, description="PRIMARY, SECONDARY, SPECIAL, FIRST, MIDDLE, ...")
    pyramid: str | None = None
    zone: str | None = None


class SchoolsIn(BaseModel):
    """A batch of school reference records."""

    source: str = "gias"
    schools: list[SchoolIn]


class Rejection(BaseModel):
    """Why one record was not accepted. Never echoes identifiers."""

    index: int = Field(description="Position of the record in the request (0-based)")
    reason: str = Field(description="Stable reason code, e.g. invalid_upn_check_letter")
    field: str | None = Field(None, description="Field at fault, if one")
    message: str = Field(description="What is wrong, in words")


class PendingRecord(BaseModel):
    """An accepted record held, not yet published: an enrolment of a pupil on another school's
    roll, published once that school records the leaving date or the council confirms."""

    index: int = Field(description="Position of the record in the request (0-based)")
    reason: str = Field("pending_transfer", description="Why it is held: pending_transfer")
    transfer_id: str = Field(description="The pending transfer's id, to quote to the council")
    message: str = Field(description="What happens next, in words")


class Receipt(BaseModel):
    """The outcome of a request: received = accepted + rejected."""

    upload_id: str = Field(description="Reference of this upload (dead letters cite it)")
    received: int
    accepted: int = Field(description="Records stored, pending ones included")
    pending: int = Field(0, description="Of the accepted, records held (pending_records)")
    pending_records: list[PendingRecord] = Field(default_factory=list)
    rejected: int
    rejections: list[Rejection]
    encoding: str | None = Field(
        None,
        description="CSV bodies only: the character encoding the body was read in - the "
        "Content-Type's charset, else found by byte order mark, else utf-8 if it decodes as "
        "UTF-8, else windows-1252 (utf-8, utf-16le, utf-16be, windows-1252, iso-8859-1, "
        "us-ascii, utf-16)",
    )
