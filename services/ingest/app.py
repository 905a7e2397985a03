"""The ingest HTTP API (FastAPI; OpenAPI docs at /docs)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import FastAPI, HTTPException, Path, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from flagstream.metrics import ServiceMetrics

from . import validation as v
from .models import EnrolmentsIn, Receipt, RegisterIn, Rejection, SchoolsIn
from .publisher import Publisher, PublishError

E = TypeVar("E")
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    publisher: Publisher,
    pseudonymise: Callable[[str], str],
    metrics: ServiceMetrics,
    max_records: int = 20_000,
    clock: Clock = _utc_now,
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
    ) -> Receipt:
        started = time.perf_counter()
        if len(records) > max_records:
            metrics.rejected.labels("too_many_records").inc(len(records))
            raise HTTPException(413, f"too_many_records: at most {max_records} per request")
        stamp = v.Stamp(source=source, recorded_at=clock())
        accepted: list[E] = []
        rejections: list[Rejection] = []
        for index, raw in enumerate(records):
            result = v.check(functools.partial(build, raw, stamp))
            if isinstance(result, v.Invalid):
                rejections.append(Rejection(index=index, **_fields(result)))
                metrics.rejected.labels(result.reason).inc()
            else:
                accepted.append(result)
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
        )

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


def _fields(invalid: v.Invalid) -> dict[str, Any]:
    return {"reason": invalid.reason, "field": invalid.field, "message": invalid.message}
