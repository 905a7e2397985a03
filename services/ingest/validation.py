"""Per-record validation of registers, enrolments and school reference data: raw partner
record -> domain event, or a rejection with a stable reason code (see fields.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import get_args

from flagstream.domain.codes import CODES_2024, CODES_FROM, REPLACED_BY, VALID_UNTIL, validity
from flagstream.domain.events import (
    AttendanceMarkRecorded,
    EnrolmentRecorded,
    Phase,
    SchoolRecorded,
)

from . import fields as f
from .fields import REASONS, Invalid, Reason, Reject, Stamp, check
from .households import household_key
from .models import EnrolmentIn, MarkIn, SchoolIn
from .nhs import optional_nhs_key

__all__ = ["REASONS", "Invalid", "Reason", "Stamp", "check", "enrolment", "mark", "school"]

_MONTH = re.compile(r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])")
_SESSION_START = {"AM": time(9, 0), "PM": time(13, 30)}
OLDEST_BIRTH_YEARS = 30  # pupils are 2-25 (nursery to an EHC plan's end); older is an error


def mark(raw: MarkIn, urn: str, key: Callable[[str], str], stamp: Stamp) -> AttendanceMarkRecorded:
    """A validated mark event; raises Reject."""
    child_key = f.child_key(raw.upn, key)
    day = f.past_day(raw.date, "date", stamp, oldest=CODES_FROM)
    session = f.required(raw.session, "session").upper()
    if session not in ("AM", "PM"):
        raise Reject("invalid_session", "session", "session must be AM or PM")
    code = _code(f.required(raw.code, "code"), day)
    return AttendanceMarkRecorded(
        **f.envelope(raw.event_id, stamp, datetime.combine(day, _SESSION_START[session], UTC)),
        child_key=child_key,
        urn=f.urn(urn),
        date=day,
        session=session,  # type: ignore[arg-type]
        code=code,
    )


def _code(code: str, on: date) -> str:
    """A DfE code valid on the mark's date: the 2024 set from 19 August 2024, the earlier one
    before (codes.py)."""
    valid = validity(code, on)
    if valid == "unknown":
        raise Reject("unknown_attendance_code", "code", f"'{code[:8]}' is not a DfE code")
    if valid == "retired":
        instead = REPLACED_BY[code]
        while instead in VALID_UNTIL and on >= VALID_UNTIL[instead]:  # F became H, then C
            instead = REPLACED_BY[instead]
        raise Reject(
            "code_retired",
            "code",
            f"'{code}' was retired on {VALID_UNTIL[code].isoformat()}; use {instead} or another",
        )
    if valid == "not_yet_valid":
        raise Reject(
            "code_not_yet_valid",
            "code",
            f"'{code}' is valid from {CODES_2024.isoformat()}; use the code of the time",
        )
    return code


def enrolment(raw: EnrolmentIn, key: Callable[[str], str], stamp: Stamp) -> EnrolmentRecorded:
    """A validated enrolment event; raises Reject."""
    child_key = f.child_key(raw.upn, key)
    urn = f.urn(raw.urn)
    try:
        nc_year = int(f.required(raw.nc_year, "nc_year"))
    except ValueError:
        raise Reject("invalid_nc_year", "nc_year", "nc_year must be a whole number") from None
    if not -2 <= nc_year <= 14:
        raise Reject("invalid_nc_year", "nc_year", "nc_year must be between -2 and 14")
    sex = f.required(raw.sex, "sex").upper()
    if sex not in ("F", "M", "U"):
        raise Reject("invalid_sex", "sex", "sex must be F, M or U")
    month = f.required(raw.month_of_birth, "month_of_birth")
    if not _MONTH.fullmatch(month):
        raise Reject("invalid_month_of_birth", "month_of_birth", "month_of_birth is YYYY-MM")
    if int(month[:4]) < stamp.recorded_at.year - OLDEST_BIRTH_YEARS:
        raise Reject(
            "date_too_old",
            "month_of_birth",
            f"month_of_birth is more than {OLDEST_BIRTH_YEARS} years ago",
        )
    joined = f.day(raw.joined_on, "joined_on")
    left = f.not_before(
        f.optional_day(raw.left_on, "left_on"), joined, "left_before_joined", "left_on"
    )
    f.optional_text(raw.forename, "forename", 100)
    f.optional_text(raw.surname, "surname", 100)
    return EnrolmentRecorded(
        **f.envelope(raw.event_id, stamp, f.midnight(left or joined)),
        child_key=child_key,
        urn=urn,
        nc_year=nc_year,
        sex=sex,  # type: ignore[arg-type]
        month_of_birth=month,
        joined_on=joined,
        left_on=left,
        household_key=household_key(raw.household_ref, key),
        nhs_key=optional_nhs_key(raw.nhs_number, key),
    )


def school(raw: SchoolIn, stamp: Stamp) -> SchoolRecorded:
    """A validated school reference event; raises Reject."""
    phase = f.required(raw.phase, "phase").upper().replace("-", "_").replace(" ", "_")
    if phase not in get_args(Phase):
        raise Reject("invalid_phase", "phase", f"phase must be one of {', '.join(get_args(Phase))}")
    return SchoolRecorded(
        **f.envelope(raw.event_id, stamp, stamp.recorded_at),
        urn=f.urn(raw.urn),
        name=f.text(raw.name, "name", 200),
        phase=phase,  # type: ignore[arg-type]
        pyramid=f.text(raw.pyramid, "pyramid", 200),
        zone=f.text(raw.zone, "zone", 200),
    )
