"""Per-record validation: raw partner record -> domain event, or a rejection with a stable
reason code. Pseudonymisation happens here, so no UPN travels further."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, TypeVar, get_args

from flagstream.domain.codes import is_known
from flagstream.domain.events import (
    AttendanceMarkRecorded,
    EnrolmentRecorded,
    Phase,
    SchoolRecorded,
)
from flagstream.domain.upn import upn_problem

from .models import EnrolmentIn, MarkIn, SchoolIn

Reason = Literal[
    "missing_field",
    "invalid_upn_format",
    "invalid_upn_check_letter",
    "invalid_urn",
    "invalid_date",
    "date_in_future",
    "invalid_session",
    "unknown_attendance_code",
    "invalid_nc_year",
    "invalid_sex",
    "invalid_month_of_birth",
    "left_before_joined",
    "invalid_phase",
]
REASONS: tuple[str, ...] = get_args(Reason)
_URN = re.compile(r"[0-9]{6}")
_MONTH = re.compile(r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])")
_SESSION_START = {"AM": time(9, 0), "PM": time(13, 30)}


@dataclass(frozen=True, slots=True)
class Invalid:
    """A record that failed validation."""

    reason: Reason
    field: str | None
    message: str


class _Reject(Exception):
    def __init__(self, reason: Reason, field: str | None, message: str) -> None:
        self.invalid = Invalid(reason, field, message)


@dataclass(frozen=True, slots=True)
class Stamp:
    """Envelope values the edge adds to every accepted record."""

    source: str
    recorded_at: datetime
    new_id: Callable[[], uuid.UUID] = uuid.uuid4


def _required(value: str | int | None, field: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _Reject("missing_field", field, f"{field} is required")
    return str(value).strip()


def _upn(value: str | None, pseudonymise: Callable[[str], str]) -> str:
    upn = _required(value, "upn").upper()
    problem = upn_problem(upn)
    if problem == "invalid_upn_format":
        raise _Reject(problem, "upn", "UPN must be 13 characters: check letter then 12")
    if problem == "invalid_upn_check_letter":
        raise _Reject(problem, "upn", "UPN check letter does not match the other 12 characters")
    return pseudonymise(upn)


def _urn(value: str | None) -> str:
    urn = _required(value, "urn")
    if not _URN.fullmatch(urn):
        raise _Reject("invalid_urn", "urn", "URN must be 6 digits")
    return urn


def _date(value: str | None, field: str) -> date:
    text = _required(value, field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _Reject("invalid_date", field, f"{field} must be a date, YYYY-MM-DD") from None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def mark(raw: MarkIn, urn: str, key: Callable[[str], str], stamp: Stamp) -> AttendanceMarkRecorded:
    """A validated mark event; raises _Reject."""
    child_key = _upn(raw.upn, key)
    day = _date(raw.date, "date")
    if day > (stamp.recorded_at + timedelta(days=1)).date():
        raise _Reject("date_in_future", "date", "a register mark cannot be for a future day")
    session = _required(raw.session, "session").upper()
    if session not in ("AM", "PM"):
        raise _Reject("invalid_session", "session", "session must be AM or PM")
    code = _required(raw.code, "code")
    if not is_known(code):
        raise _Reject("unknown_attendance_code", "code", f"'{code}' is not a current DfE code")
    return AttendanceMarkRecorded(
        event_id=stamp.new_id(),
        source=stamp.source,
        occurred_at=datetime.combine(day, _SESSION_START[session], UTC),
        recorded_at=stamp.recorded_at,
        child_key=child_key,
        urn=_urn(urn),
        date=day,
        session=session,  # type: ignore[arg-type]
        code=code,
    )


def enrolment(raw: EnrolmentIn, key: Callable[[str], str], stamp: Stamp) -> EnrolmentRecorded:
    """A validated enrolment event; raises _Reject."""
    child_key = _upn(raw.upn, key)
    urn = _urn(raw.urn)
    try:
        nc_year = int(_required(raw.nc_year, "nc_year"))
    except ValueError:
        raise _Reject("invalid_nc_year", "nc_year", "nc_year must be a whole number") from None
    if not -2 <= nc_year <= 14:
        raise _Reject("invalid_nc_year", "nc_year", "nc_year must be between -2 and 14")
    sex = _required(raw.sex, "sex").upper()
    if sex not in ("F", "M", "U"):
        raise _Reject("invalid_sex", "sex", "sex must be F, M or U")
    month = _required(raw.month_of_birth, "month_of_birth")
    if not _MONTH.fullmatch(month):
        raise _Reject("invalid_month_of_birth", "month_of_birth", "month_of_birth is YYYY-MM")
    joined = _date(raw.joined_on, "joined_on")
    left = _date(raw.left_on, "left_on") if raw.left_on else None
    if left is not None and left < joined:
        raise _Reject("left_before_joined", "left_on", "left_on is before joined_on")
    return EnrolmentRecorded(
        event_id=stamp.new_id(),
        source=stamp.source,
        occurred_at=_midnight(left or joined),
        recorded_at=stamp.recorded_at,
        child_key=child_key,
        urn=urn,
        nc_year=nc_year,
        sex=sex,  # type: ignore[arg-type]
        month_of_birth=month,
        joined_on=joined,
        left_on=left,
    )


def school(raw: SchoolIn, stamp: Stamp) -> SchoolRecorded:
    """A validated school reference event; raises _Reject."""
    phase = _required(raw.phase, "phase").upper().replace("-", "_").replace(" ", "_")
    if phase not in get_args(Phase):
        raise _Reject(
            "invalid_phase", "phase", f"phase must be one of {', '.join(get_args(Phase))}"
        )
    return SchoolRecorded(
        event_id=stamp.new_id(),
        source=stamp.source,
        occurred_at=stamp.recorded_at,
        recorded_at=stamp.recorded_at,
        urn=_urn(raw.urn),
        name=_required(raw.name, "name"),
        phase=phase,  # type: ignore[arg-type]
        pyramid=_required(raw.pyramid, "pyramid"),
        zone=_required(raw.zone, "zone"),
    )


T = TypeVar("T")


def check(build: Callable[[], T]) -> T | Invalid:
    """Run one record's validation, turning a rejection into a value."""
    try:
        return build()
    except _Reject as rejected:
        return rejected.invalid
