"""Per-record validation of the partner sources that feed the other flags (SEN, FSM, Attain,
Family) and of professionals' outcomes: raw record -> domain event, or Reject."""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

from flagstream.domain.events import (
    OUTCOME_AREAS,
    AssessmentRecorded,
    DomesticAbuseNotified,
    FamilyCaseRecorded,
    FsmEligibilityRecorded,
    OutcomeRecorded,
    SenProvision,
    SenProvisionRecorded,
)
from flagstream.domain.rules.assessments import ASSESSMENTS, CATALOGUE
from flagstream.restricted import Details

from . import fields as f
from .fields import Reject, Stamp
from .households import NO_CHILD, household_key
from .models_partners import AssessmentIn, FamilyCaseIn, FsmIn, NotificationIn, OutcomeIn, SenIn

Key = Callable[[str], str]


def sen(raw: SenIn, key: Key, stamp: Stamp) -> SenProvisionRecorded:
    """A validated SEN provision event; raises Reject."""
    child_key = f.child_key(raw.upn, key)
    provision = f.required(raw.provision, "provision").upper()
    if provision not in get_args(SenProvision):
        raise Reject("invalid_provision", "provision", "provision must be N, K or E")
    effective = f.past_day(raw.effective_on, "effective_on", stamp)
    return SenProvisionRecorded(
        **f.envelope(raw.event_id, stamp, f.midnight(effective)),
        child_key=child_key,
        urn=f.urn(raw.urn),
        provision=provision,  # type: ignore[arg-type]
        effective_on=effective,
    )


def fsm(raw: FsmIn, key: Key, stamp: Stamp) -> FsmEligibilityRecorded:
    """A validated FSM eligibility event; eligible_to may be in the future; raises Reject."""
    child_key = f.child_key(raw.upn, key)
    start = f.past_day(raw.eligible_from, "eligible_from", stamp)
    end = f.not_before(
        f.optional_day(raw.eligible_to, "eligible_to"), start, "ended_before_started", "eligible_to"
    )
    return FsmEligibilityRecorded(
        **f.envelope(
            raw.event_id,
            stamp,
            f.midnight(start if end is None or end > stamp.recorded_at.date() else end),
        ),
        child_key=child_key,
        eligible_from=start,
        eligible_to=end,
    )


def assessment(raw: AssessmentIn, key: Key, stamp: Stamp) -> AssessmentRecorded:
    """A validated assessment result; raises Reject."""
    child_key = f.child_key(raw.upn, key)
    kind = f.required(raw.assessment, "assessment").upper()
    if kind not in ASSESSMENTS:
        known = ", ".join(ASSESSMENTS)
        raise Reject("unknown_assessment", "assessment", f"assessment must be one of {known}")
    result = f.required(raw.result, "result").upper()
    scale = CATALOGUE[kind]
    if not scale.valid(result):
        raise Reject("invalid_result", "result", f"a {kind} result is {scale.valid_words()}")
    result = result if scale.levels else str(int(result))  # "032" is 32
    on = f.past_day(raw.assessed_on, "assessed_on", stamp)
    return AssessmentRecorded(
        **f.envelope(raw.event_id, stamp, f.midnight(on)),
        child_key=child_key,
        urn=f.urn(raw.urn),
        assessment=kind,
        result=result,
        assessed_on=on,
    )


def _areas(value: list[str] | str | None) -> list[str]:
    items = value.split(";") if isinstance(value, str) else list(value or [])
    areas = [a.strip().lower() for a in items if a.strip()]
    unknown = [a for a in areas if a not in OUTCOME_AREAS]
    if unknown:
        raise Reject("unknown_outcome_area", "outcome_areas", "an outcome area is not recognised")
    return areas


def family_case(raw: FamilyCaseIn, key: Key, stamp: Stamp) -> FamilyCaseRecorded:
    """A validated family-support case event; raises Reject. A case on a household may name
    no child (health and family-support teams do not always hold a UPN): its child_key is
    then '' and ingest publishes it only as copies for the household's children."""
    household = household_key(raw.household_ref, key)
    no_upn = raw.upn is None or (isinstance(raw.upn, str) and not raw.upn.strip())
    child_key = NO_CHILD if household and no_upn else f.child_key(raw.upn, key)
    case_id = f.text(raw.case_id, "case_id", 64)
    opened = f.past_day(raw.opened_on, "opened_on", stamp)
    closed = f.not_before(
        f.optional_day(raw.closed_on, "closed_on"), opened, "ended_before_started", "closed_on"
    )
    if closed is not None:
        f.past_day(raw.closed_on, "closed_on", stamp)
    return FamilyCaseRecorded(
        **f.envelope(raw.event_id, stamp, f.midnight(closed or opened)),
        child_key=child_key,
        case_id=case_id,
        opened_on=opened,
        closed_on=closed,
        outcome_areas=_areas(raw.outcome_areas),
        household_key=household,
    )


def notification(raw: NotificationIn, key: Key, stamp: Stamp) -> DomesticAbuseNotified:
    """A validated Operation Encompass notification; raises Reject."""
    child_key = f.child_key(raw.upn, key)
    on = f.past_day(raw.incident_on, "incident_on", stamp)
    # Checked here, so a bad one rejects the record; kept only by notification_details.
    f.text(raw.police_reference, "police_reference", 64)
    f.text(raw.circumstances, "circumstances")
    return DomesticAbuseNotified(
        **f.envelope(raw.event_id, stamp, f.midnight(on)),
        child_key=child_key,
        urn=f.urn(raw.urn),
        incident_on=on,
        child_present=f.boolean(raw.child_present, "child_present"),
    )


def notification_details(raw: NotificationIn, event: DomesticAbuseNotified) -> Details:
    """The police reference and circumstances of an accepted notification, for the restricted
    store only (never the event, the outbox or a topic); raises Reject."""
    return Details(
        event_id=str(event.event_id),
        child_key=event.child_key,
        urn=event.urn,
        incident_on=event.incident_on,
        child_present=event.child_present,
        police_reference=f.text(raw.police_reference, "police_reference", 64),
        circumstances=f.text(raw.circumstances, "circumstances"),
        received_at=event.recorded_at,
    )


def outcome(raw: OutcomeIn, key: Key, stamp: Stamp) -> OutcomeRecorded:
    """A validated professional's outcome; raises Reject."""
    child_key = f.child_key(raw.upn, key)
    on = f.past_day(raw.recorded_on, "recorded_on", stamp)
    return OutcomeRecorded(
        **f.envelope(raw.event_id, stamp, f.midnight(on)),
        child_key=child_key,
        urn=f.urn(raw.urn),
        response=f.text(raw.response, "response", 200),
        status=f.text(raw.status, "status", 200),
        recorded_by=f.text(raw.recorded_by, "recorded_by", 200),
        recorded_on=on,
    )
