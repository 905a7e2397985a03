"""Generator output as the canonical events ingest would publish, for the oracle and tests.

The generator writes what partners send (keyed by UPN); the pipeline publishes domain
events keyed by child_key. `canonical_events` does that step without HTTP or Kafka:
`child_key` is whatever the caller passes (ingest's keyed HMAC to compare with a real
pipeline, or the identity function for a self-contained check). Household references and
NHS numbers are keyed with the same function, domain-separated exactly as ingest does
(ingest/households.py, ingest/nhs.py), and an early-years check is published under its NHS
number's key (the oracle joins it to the child an enrolment links the number to). Event ids
are derived from content, so the same input always gives the same events.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from flagstream.domain import events as ev
from flagstream_tools.generator import model as m
from ingest.households import NO_CHILD, household_key
from ingest.nhs import nhs_key, optional_nhs_key

_IDS = uuid.UUID("0f6f2b8e-3d0c-4b7e-9a51-6f0c3b1d2e48")


def _stamp(day: date) -> datetime:
    return datetime.combine(day, time(16, 0), UTC)


def _env(kind: str, day: date, *parts: object) -> dict[str, Any]:
    key = "|".join([kind, str(day), *map(str, parts)])
    return {
        "event_id": uuid.uuid5(_IDS, key),
        "source": "generator",
        "occurred_at": _stamp(day),
        "recorded_at": _stamp(day),
    }


def reference_events(county: m.County, child_key: Callable[[str], str]) -> Iterator[Any]:
    """Schools, then every pupil's enrolment."""
    for s in county.schools:
        yield ev.SchoolRecorded(
            **_env("school", date(2000, 1, 1), s.urn),
            urn=s.urn, name=s.name, phase=s.phase, pyramid=s.pyramid, zone=s.zone,
        )  # fmt: skip
    for p in county.pupils:
        yield ev.EnrolmentRecorded(
            **_env("enrolment", p.joined_on, p.upn, p.urn),
            child_key=child_key(p.upn), urn=p.urn, nc_year=p.nc_year, sex=p.sex,
            month_of_birth=p.month_of_birth, joined_on=p.joined_on,
            household_key=household_key(p.household_ref, child_key),
            nhs_key=optional_nhs_key(p.nhs_number, child_key),
        )  # fmt: skip


def _early_years(x: m.EarlyYearsRecorded, child_key: Callable[[str], str]) -> Any:
    """An early-years check as ingest's catalogue intake builds it (ingest/streams.py):
    under the NHS number's key, its check reference keyed too."""
    from flagstream.early_years import KIND, EarlyYearsOutcomeRecorded  # an extension

    ref = child_key(f"ref:{KIND.label}:check_ref:{x.check_ref.encode('utf-8').hex()}")
    return EarlyYearsOutcomeRecorded(
        **_env("early-years", x.checked_on, x.nhs_number, x.check_ref),
        child_key=nhs_key(x.nhs_number, child_key), setting=x.setting, zone=x.zone,
        check_ref=ref, checked_on=x.checked_on, on_track=x.on_track,
    )  # fmt: skip


def _register(r: m.Register, child_key: Callable[[str], str]) -> ev.AttendanceMarksRecorded:
    marks = [
        ev.AttendanceMarkRecorded(
            **_env("mark", r.day, r.urn, x.upn, x.date, x.session, x.code, i),
            child_key=child_key(x.upn),
            urn=r.urn,
            date=x.date,
            session=x.session,
            code=x.code,
        )
        for i, x in enumerate(r.marks)
    ]
    return ev.AttendanceMarksRecorded(
        batch_id=uuid.uuid5(_IDS, f"register|{r.urn}|{r.day}"), marks=marks
    )


_CONVERT: dict[type[Any], Callable[[Any, Callable[[str], str]], Any]] = {
    m.Register: _register,
    m.SenRecorded: lambda x, k: ev.SenProvisionRecorded(
        **_env("sen", x.effective_on, x.upn, x.provision),
        child_key=k(x.upn), urn=x.urn, provision=x.provision, effective_on=x.effective_on,
    ),
    m.FsmRecorded: lambda x, k: ev.FsmEligibilityRecorded(
        **_env("fsm", x.eligible_from, x.upn, x.eligible_to),
        child_key=k(x.upn), eligible_from=x.eligible_from, eligible_to=x.eligible_to,
    ),
    m.AssessmentRecorded: lambda x, k: ev.AssessmentRecorded(
        **_env("result", x.assessed_on, x.upn, x.assessment),
        child_key=k(x.upn), urn=x.urn, assessment=x.assessment, result=x.result,
        assessed_on=x.assessed_on,
    ),
    m.FamilyCaseRecorded: lambda x, k: ev.FamilyCaseRecorded(
        **_env("case", x.opened_on, x.case_id, x.closed_on),
        # A case naming only its household: no child's, as in ingest (NO_CHILD).
        child_key=k(x.upn) if x.upn else NO_CHILD, case_id=x.case_id, opened_on=x.opened_on,
        closed_on=x.closed_on, outcome_areas=list(x.outcome_areas),
        household_key=household_key(x.household_ref, k),
    ),
    m.DomesticAbuseNotified: lambda x, k: ev.DomesticAbuseNotified(
        **_env("notification", x.incident_on, x.police_reference),
        child_key=k(x.upn), urn=x.urn, incident_on=x.incident_on,
        child_present=x.child_present,
    ),
    m.EarlyYearsRecorded: _early_years,
    m.DayEnded: lambda x, _k: ev.DayEnded(**_env("day-ended", x.day), day=x.day),
    m.EnrolmentChanged: lambda x, k: ev.EnrolmentRecorded(
        **_env("enrolment-change", x.left_on or x.joined_on, x.upn, x.urn, x.nc_year,
               x.joined_on, x.left_on),
        child_key=k(x.upn), urn=x.urn, nc_year=x.nc_year, sex=x.sex,
        month_of_birth=x.month_of_birth, joined_on=x.joined_on, left_on=x.left_on,
    ),
}  # fmt: skip


def canonical_events(
    county: m.County, items: Iterable[m.Item], child_key: Callable[[str], str] = str
) -> Iterator[Any]:
    """Reference data, then each timeline item as the message ingest would publish."""
    yield from reference_events(county, child_key)
    for item in items:
        yield convert(item, child_key)


def convert(item: m.Item, child_key: Callable[[str], str] = str) -> Any:
    """One timeline item as the canonical event (or, for a register, the marks batch)."""
    return _CONVERT[type(item)](item, child_key)


def last_day(items: Iterable[m.Item]) -> date | None:
    """The latest school day in a timeline (its last DayEnded, else its last register)."""
    days = [i.day for i in items if isinstance(i, m.DayEnded | m.Register)]
    return max(days) if days else None
