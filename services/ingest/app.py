"""The ingest HTTP API (FastAPI; OpenAPI docs at /docs)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import FastAPI, HTTPException, Path, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from flagstream.identity import Identity
from flagstream.metrics import ServiceMetrics

from . import fields as f
from . import validation as v
from . import validation_partners as vp
from .models import EnrolmentIn, EnrolmentsIn, Receipt, RegisterIn, Rejection, SchoolsIn
from .models_partners import (
    AssessmentBatchIn,
    FamilyCaseBatchIn,
    FsmBatchIn,
    NotificationBatchIn,
    OutcomeBatchIn,
    SenBatchIn,
)
from .publisher import Publisher, PublishError

E = TypeVar("E")
Clock = Callable[[], datetime]
IdentityWriter = Callable[[list[Identity]], None]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    publisher: Publisher,
    pseudonymise: Callable[[str], str],
    metrics: ServiceMetrics,
    max_records: int = 20_000,
    clock: Clock = _utc_now,
    identities: IdentityWriter | None = None,
) -> FastAPI:
    """Build the API around its collaborators; nothing connects at import time."""
    app = FastAPI(
        title="Flagstream ingest",
        version="1",
        description="Partners send registers, enrolments and reference data. Every record is "
        "accepted or rejected with a stable reason code; received = accepted + rejected.",
    )

    def receive(
        kind: str,
        records: Sequence[Any],
        build: Callable[[Any, v.Stamp], E],
        source: str,
        publish: Callable[[list[E]], int],
        after: Callable[[list[tuple[Any, E]]], None] | None = None,
    ) -> Receipt:
        started = time.perf_counter()
        if len(records) > max_records:
            metrics.rejected.labels("too_many_records").inc(len(records))
            raise HTTPException(413, f"too_many_records: at most {max_records} per request")
        stamp = v.Stamp(source=source, recorded_at=clock())
        accepted: list[E] = []
        pairs: list[tuple[Any, E]] = []
        rejections: list[Rejection] = []
        for index, raw in enumerate(records):
            result = f.check(functools.partial(build, raw, stamp))
            if isinstance(result, f.Invalid):
                rejections.append(Rejection(index=index, **_fields(result)))
                metrics.rejected.labels(result.reason).inc()
            else:
                accepted.append(result)
                pairs.append((raw, result))
        metrics.events_in.labels(kind).inc(len(records))
        if accepted:
            try:
                publish(accepted)
            except PublishError as exc:
                metrics.rejected.labels("broker_unavailable").inc(len(accepted))
                raise HTTPException(
                    503,
                    f"broker_unavailable: nothing from this request was accepted ({exc}); "
                    "send it again later",
                ) from exc
            metrics.events_out.labels(kind).inc(len(accepted))
            if after is not None:
                after(pairs)
        metrics.latency.labels(kind).observe(time.perf_counter() - started)
        return Receipt(
            received=len(records),
            accepted=len(accepted),
            rejected=len(rejections),
            rejections=rejections,
        )

    @app.post("/v1/schools/{urn}/register", status_code=202, response_model=Receipt)
    def post_register(
        body: RegisterIn, urn: str = Path(description="The school's 6-digit URN")
    ) -> Receipt:
        """A school's register marks (any sessions; a later mark replaces an earlier one)."""
        return receive(
            "attendance_mark",
            body.marks,
            lambda raw, stamp: v.mark(raw, urn, pseudonymise, stamp),
            f"{body.source}:{urn}",
            publisher.marks,
        )

    @app.post("/v1/enrolments", status_code=202, response_model=Receipt)
    def post_enrolments(body: EnrolmentsIn) -> Receipt:
        """Pupil enrolments (joined, or left when left_on is given)."""
        return receive(
            "enrolment",
            body.enrolments,
            lambda raw, stamp: v.enrolment(raw, pseudonymise, stamp),
            body.source,
            publisher.enrolments,
            record_identities,
        )

    def record_identities(pairs: list[tuple[Any, Any]]) -> None:
        # The only place a UPN (and name) is kept: the identity store, never a topic.
        if identities is not None:
            identities([_identity(raw, event) for raw, event in pairs])

    def partner(kind: str, path: str, body_type: type[Any], build: Any, publish: Any) -> None:
        def post(body: Any) -> Receipt:
            return receive(
                kind,
                body.records,
                lambda raw, stamp: build(raw, pseudonymise, stamp),
                body.source,
                publish,
            )

        post.__annotations__ = {"body": body_type, "return": Receipt}
        post.__doc__ = body_type.__doc__
        app.post(path, status_code=202, response_model=Receipt, name=kind)(post)

    # Every partner source beyond registers: a body {"source": ..., "records": [...]}.
    partner("sen_provision", "/v1/sen-provision", SenBatchIn, vp.sen, publisher.child_events)
    partner("fsm_eligibility", "/v1/fsm-eligibility", FsmBatchIn, vp.fsm, publisher.child_events)
    partner(
        "assessment", "/v1/assessments", AssessmentBatchIn, vp.assessment, publisher.child_events
    )
    partner(
        "family_case", "/v1/family-cases", FamilyCaseBatchIn, vp.family_case, publisher.child_events
    )
    partner(
        "domestic_abuse_notification",
        "/v1/domestic-abuse-notifications",
        NotificationBatchIn,
        vp.notification,
        publisher.child_events,
    )
    partner("outcome", "/v1/outcomes", OutcomeBatchIn, vp.outcome, publisher.outcomes)

    @app.post("/v1/schools", status_code=202, response_model=Receipt)
    def post_schools(body: SchoolsIn) -> Receipt:
        """School reference data: URN, name, phase, pyramid and zone."""
        return receive("school", body.schools, v.school, body.source, publisher.schools)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _identity(raw: EnrolmentIn, event: Any) -> Identity:
    return Identity(
        child_key=event.child_key,
        urn=event.urn,
        upn=f.upn(raw.upn),
        forename=f.optional_text(raw.forename, "forename", 100),
        surname=f.optional_text(raw.surname, "surname", 100),
        updated_at=event.recorded_at,
    )


def _fields(invalid: f.Invalid) -> dict[str, Any]:
    return {"reason": invalid.reason, "field": invalid.field, "message": invalid.message}
