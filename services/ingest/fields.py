"""Field checks shared by every record kind: each returns a clean value or raises Reject with a
stable reason code. Pseudonymisation happens here, so no UPN travels further."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, TypedDict, TypeVar, get_args

from flagstream.domain.upn import upn_problem

Reason = Literal[
    "missing_field",
    "malformed_record",
    "invalid_upn_format",
    "invalid_upn_check_letter",
    "invalid_urn",
    "invalid_date",
    "date_in_future",
    "date_too_old",
    "invalid_session",
    "unknown_attendance_code",
    "code_retired",
    "code_not_yet_valid",
    "invalid_nc_year",
    "invalid_sex",
    "invalid_month_of_birth",
    "left_before_joined",
    "invalid_phase",
    "invalid_provision",
    "ended_before_started",
    "unknown_assessment",
    "invalid_result",
    "unknown_outcome_area",
    "invalid_boolean",
    "invalid_event_id",
    "too_long",
    "duplicate_event",
    "duplicate_review",  # a huddle reviewing the same child twice
    # Checked against ingest's own records, not the record alone (intake/roll.py): a URN no
    # school record was accepted for, and a school key writing for a child not on its roll.
    "unknown_school",
    "not_on_roll",
    # A raw Kafka record whose `source` header is not printable text of 1-100 characters (over
    # HTTP such a source refuses the whole request).
    "invalid_source",
    # A record on a partner's raw Kafka topic that cannot be decoded (over HTTP these refuse
    # the whole body instead).
    "malformed_avro",
    "truncated_avro",
    "trailing_bytes",
    "unknown_schema",
    # An NHS number that is not 10 digits with a valid modulus 11 check digit (ingest/nhs.py).
    "invalid_nhs_number",
]
REASONS: tuple[str, ...] = get_args(Reason)
FUTURE_TOLERANCE = timedelta(days=1)  # clocks and time zones differ; a day later is an error
MAX_TEXT = 2000  # longest free-text field kept (circumstances, names)
MAX_SOURCE = 100  # longest `source` (a sending system's name, printed by the ledger)
# No record's date is before this: UPNs, which key every record, date from 1999 (check), so an
# older date is a typing or export error (1900-01-01 is a common "no date" filler). Register
# marks have a later floor, the national attendance codes' start (domain.codes.CODES_FROM).
OLDEST = date(2000, 1, 1)
URN = re.compile(r"[0-9]{6}")  # a school's unique reference number


@dataclass(frozen=True, slots=True)
class Invalid:
    """A record that failed validation."""

    reason: Reason
    field: str | None
    message: str


class Reject(Exception):
    """Raised by a check; turned into an Invalid by check()."""

    def __init__(self, reason: Reason, field: str | None, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.invalid = Invalid(reason, field, message)


@dataclass(frozen=True, slots=True)
class Stamp:
    """Envelope values the edge adds to every accepted record."""

    source: str
    recorded_at: datetime
    new_id: Callable[[], uuid.UUID] = uuid.uuid4
    # Whose event ids these are (an API key's id, or "raw" for the raw topics): a partner's own
    # event_id is published as one derived from it and the scope, so ids are unique per key.
    scope: str | None = None


class Envelope(TypedDict):
    """The fields every event built from a partner's record carries besides its own."""

    event_id: uuid.UUID
    source: str
    occurred_at: datetime
    recorded_at: datetime


def envelope(given_id: object, stamp: Stamp, occurred_at: datetime) -> Envelope:
    """An event's envelope: its id (event_id: the partner's, scoped, or a new one), the
    source and time the edge stamps, and when it happened; raises Reject."""
    return Envelope(
        event_id=event_id(given_id, stamp),
        source=stamp.source,
        occurred_at=occurred_at,
        recorded_at=stamp.recorded_at,
    )


def required(value: object, field: str) -> str:
    """The value as stripped text; missing_field when absent or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Reject("missing_field", field, f"{field} is required")
    return str(value).strip()


def text(value: object, field: str, longest: int = MAX_TEXT) -> str:
    """Required free text, at most `longest` characters."""
    result = required(value, field)
    if len(result) > longest:
        raise Reject("too_long", field, f"{field} is longer than {longest} characters")
    return result


def optional_text(value: object, field: str, longest: int = MAX_TEXT) -> str | None:
    """Free text, or None when absent or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return text(value, field, longest)


def child_key(value: object, pseudonymise: Callable[[str], str]) -> str:
    """The child_key of a valid UPN."""
    return pseudonymise(upn(value))


def upn(value: object) -> str:
    """A valid UPN, upper case (only the identity store may keep it)."""
    result = required(value, "upn").upper()
    problem = upn_problem(result)
    if problem == "invalid_upn_format":
        raise Reject(problem, "upn", "UPN must be 13 characters: check letter then 12")
    if problem == "invalid_upn_check_letter":
        raise Reject(problem, "upn", "UPN check letter does not match the other 12 characters")
    return result


def urn(value: object) -> str:
    """A 6-digit URN."""
    result = required(value, "urn")
    if not URN.fullmatch(result):
        raise Reject("invalid_urn", "urn", "URN must be 6 digits")
    return result


def day(value: object, field: str, oldest: date = OLDEST) -> date:
    """A YYYY-MM-DD date, not before `oldest`."""
    result = required(value, field)
    try:
        parsed = date.fromisoformat(result)
    except ValueError:
        raise Reject("invalid_date", field, f"{field} must be a date, YYYY-MM-DD") from None
    if parsed < oldest:
        raise Reject("date_too_old", field, f"{field} cannot be before {oldest.isoformat()}")
    return parsed


def optional_day(value: object, field: str, oldest: date = OLDEST) -> date | None:
    """A date, or None when absent or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return day(value, field, oldest)


def past_day(value: object, field: str, stamp: Stamp, oldest: date = OLDEST) -> date:
    """A date from `oldest` to tomorrow (by the edge's clock)."""
    result = day(value, field, oldest)
    if result > (stamp.recorded_at + FUTURE_TOLERANCE).date():
        raise Reject("date_in_future", field, f"{field} cannot be in the future")
    return result


def source_problem(source: str) -> str | None:
    """What is wrong with a sender's `source` name, or None: it is printed by the ledger and
    `flagstream reconcile`, so it must be printable text (no control, format or line-break
    characters) of 1-MAX_SOURCE characters."""
    if not 0 < len(source) <= MAX_SOURCE:
        return f"source is 1-{MAX_SOURCE} characters"
    if not source.isprintable():
        return "source must be printable text (no control characters)"
    return None


def school_source(source: str, urn: str) -> str:
    """The ledger source of records sent for one school (a register, over HTTP or Kafka): the
    source and the URN, or `invalid-urn` in its place when it is not 6 digits."""
    return f"{source}:{urn}" if URN.fullmatch(urn) else f"{source}:invalid-urn"


def not_before(later: date | None, earlier: date, reason: Reason, field: str) -> date | None:
    """later, unless it is before earlier."""
    if later is not None and later < earlier:
        raise Reject(reason, field, f"{field} is before the start date")
    return later


def boolean(value: object, field: str) -> bool:
    """true/false, also as text (CSV): true/false, yes/no, y/n, 1/0."""
    if isinstance(value, bool):
        return value
    word = required(value, field).lower()
    if word in ("true", "yes", "y", "1"):
        return True
    if word in ("false", "no", "n", "0"):
        return False
    raise Reject("invalid_boolean", field, f"{field} must be true or false")


def event_id(value: object, stamp: Stamp) -> uuid.UUID:
    """The partner's event_id (a UUID; lets a resend be recognised), or a new one. Given a
    scope, a partner's id is published as uuid5(scope, id): two keys sending the same id never
    publish one id twice, and a key cannot shadow another's records."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return stamp.new_id()
    try:
        given = uuid.UUID(str(value).strip())
    except ValueError:
        raise Reject("invalid_event_id", "event_id", "event_id must be a UUID") from None
    return given if stamp.scope is None else scoped_event_id(stamp.scope, given)


_PARTNER_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "flagstream:ingest:partner-event-id")


def scoped_event_id(scope: str, given: uuid.UUID) -> uuid.UUID:
    """The id published for a partner's event_id sent under `scope`."""
    return uuid.uuid5(_PARTNER_IDS, f"{scope}/{given}")


def midnight(on: date) -> datetime:
    """Event time of a record that carries a date only."""
    return datetime.combine(on, time(), UTC)


T = TypeVar("T")


def check(build: Callable[[], T]) -> T | Invalid:
    """Run one record's validation, turning a rejection into a value."""
    try:
        return build()
    except Reject as rejected:
        return rejected.invalid
