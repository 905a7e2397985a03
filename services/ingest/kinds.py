"""Every record kind ingest accepts: its endpoint, record model, validator and where it goes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from . import streams
from . import validation as v
from . import validation_huddles as vh
from . import validation_partners as vp
from .fields import Stamp
from .models import EnrolmentIn, EnrolmentsIn, MarkIn, RegisterIn, SchoolIn, SchoolsIn
from .models_huddles import HuddleBatchIn, HuddleIn
from .models_partners import (
    AssessmentBatchIn,
    AssessmentIn,
    FamilyCaseBatchIn,
    FamilyCaseIn,
    FsmBatchIn,
    FsmIn,
    NotificationBatchIn,
    NotificationIn,
    OutcomeBatchIn,
    OutcomeIn,
    SenBatchIn,
    SenIn,
)
from .routing import Message, Router

Key = Callable[[str], str]
# (record, URN from the path or None, pseudonymiser, stamp) -> event; raises fields.Reject.
Build = Callable[[Any, str | None, Key, Stamp], Any]


@dataclass(frozen=True, slots=True)
class RecordKind:
    """One kind of partner record and how ingest handles it."""

    name: str  # metric label and scope entry
    path: str
    batch: type[BaseModel]  # the JSON body, for OpenAPI
    record: type[BaseModel]
    records_field: str  # where the records are in the JSON body
    default_source: str
    build: Build
    route: Callable[[Router, Sequence[Any]], list[Message]]
    summary: str


BESPOKE: tuple[RecordKind, ...] = (
    RecordKind(
        "attendance_mark",
        "/v1/schools/{urn}/register",
        RegisterIn,
        MarkIn,
        "marks",
        "mis",
        lambda r, urn, k, s: v.mark(r, urn or "", k, s),
        Router.marks,
        "A school's register marks (a later mark for the same session replaces an earlier one)",
    ),
    RecordKind(
        "enrolment",
        "/v1/enrolments",
        EnrolmentsIn,
        EnrolmentIn,
        "enrolments",
        "census",
        lambda r, _u, k, s: v.enrolment(r, k, s),
        Router.enrolments,
        "Pupil enrolments (joined, or left when left_on is given); names go to the identity store",
    ),
    RecordKind(
        "school",
        "/v1/schools",
        SchoolsIn,
        SchoolIn,
        "schools",
        "gias",
        lambda r, _u, _k, s: v.school(r, s),
        Router.schools,
        "School reference data: URN, name, phase, pyramid and zone",
    ),
    *(
        RecordKind(name, path, batch, record, "records", source, build, route, summary)
        for name, path, batch, record, source, build, route, summary in (
            (
                "sen_provision",
                "/v1/sen-provision",
                SenBatchIn,
                SenIn,
                "census",
                lambda r, _u, k, s: vp.sen(r, k, s),
                Router.child_events,
                "SEN provision (N, K, E) from a date",
            ),
            (
                "fsm_eligibility",
                "/v1/fsm-eligibility",
                FsmBatchIn,
                FsmIn,
                "fsm-checks",
                lambda r, _u, k, s: vp.fsm(r, k, s),
                Router.child_events,
                "Free-school-meals eligibility periods",
            ),
            (
                "assessment",
                "/v1/assessments",
                AssessmentBatchIn,
                AssessmentIn,
                "assessments",
                lambda r, _u, k, s: vp.assessment(r, k, s),
                Router.child_events,
                "Assessment results (EYFS, phonics, MTC, teacher assessments, KS2, KS3, KS4)",
            ),
            (
                "family_case",
                "/v1/family-cases",
                FamilyCaseBatchIn,
                FamilyCaseIn,
                "family-support",
                lambda r, _u, k, s: vp.family_case(r, k, s),
                Router.child_events,
                "Family-support cases opened or closed",
            ),
            (
                "domestic_abuse_notification",
                "/v1/domestic-abuse-notifications",
                NotificationBatchIn,
                NotificationIn,
                "police",
                lambda r, _u, k, s: vp.notification(r, k, s),
                Router.child_events,
                "Operation Encompass domestic-abuse notifications (police)",
            ),
            (
                "outcome",
                "/v1/outcomes",
                OutcomeBatchIn,
                OutcomeIn,
                "dashboard",
                lambda r, _u, k, s: vp.outcome(r, k, s),
                Router.outcomes,
                "Professionals' outcomes (response and status); not a flagger input",
            ),
            (
                "huddle",
                "/v1/huddles",
                HuddleBatchIn,
                HuddleIn,
                "dashboard",
                lambda r, _u, k, s: vh.huddle(r, k, s),
                Router.huddles,
                "Half-termly huddles recorded (attendees' roles, each child's agreed response)",
            ),
        )
    ),
)


def _generic() -> tuple[RecordKind, ...]:
    """The catalogue's generic streams (streams.py), each at /v1/streams/<label>."""
    out = []
    for kind in streams.intake_kinds():
        assert kind.intake is not None
        record = streams.record_model(kind)
        out.append(
            RecordKind(
                kind.label,
                streams.path(kind),
                streams.batch_model(kind, record),
                record,
                "records",
                kind.intake.source,
                streams.builder(kind),
                Router.child_events,
                (kind.event_type.__doc__ or kind.label).strip().splitlines()[0],
            )
        )
    return tuple(out)


def every_kind() -> tuple[RecordKind, ...]:
    """The bespoke kinds and the catalogue's generic streams as the catalogue is now (a tool
    that registers an extension after importing ingest asks here)."""
    return (*BESPOKE, *_generic())


# Extensions are loaded by the composition root before ingest is imported, so their
# streams are here (flagstream/extensions.py).
KINDS = every_kind()
BY_NAME = {k.name: k for k in KINDS}
