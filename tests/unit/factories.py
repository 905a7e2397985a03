"""Small builders for domain events in tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from flagstream.domain.events import AttendanceMarkRecorded, EnrolmentRecorded, SenProvisionRecorded

T0 = datetime(2025, 9, 8, 9, 0, tzinfo=UTC)


def _envelope() -> dict[str, Any]:
    """What every test event carries: a fresh id, the test source, both times at T0."""
    return {"event_id": uuid.uuid4(), "source": "test", "occurred_at": T0, "recorded_at": T0}


def mark(
    child: str, day: date, session: str, code: str, urn: str = "100001"
) -> AttendanceMarkRecorded:
    return AttendanceMarkRecorded(
        **_envelope(),
        child_key=child,
        urn=urn,
        date=day,
        session=session,
        code=code,  # type: ignore[arg-type]
    )


def enrolment(child: str, urn: str = "100001", nc_year: int = 5) -> EnrolmentRecorded:
    return EnrolmentRecorded(
        **_envelope(),
        child_key=child,
        urn=urn,
        nc_year=nc_year,
        sex="F",
        month_of_birth="2015-03",
        joined_on=date(2021, 9, 1),
    )


def sen(child: str, provision: str, on: date = date(2025, 9, 8)) -> SenProvisionRecorded:
    """A SEN record: provision K raises the SEN flag at once, N clears it."""
    return SenProvisionRecorded(
        **_envelope(),
        child_key=child,
        urn="100001",
        effective_on=on,
        provision=provision,  # type: ignore[arg-type]
    )
