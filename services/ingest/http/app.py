"""The ingest HTTP API (FastAPI; OpenAPI docs at /docs): a route per record kind, the Avro
schemas, health, readiness and metrics. Nothing connects at import time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Path, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from flagstream.metrics import ServiceMetrics

from ..avro_bodies import PartnerSchema, RegistryLookup
from ..intake import Intake
from ..keys import KeyStore
from ..kinds import BY_NAME, KINDS, RecordKind
from ..models import Receipt
from . import bodies
from .receive import DEFAULT_LIMITS, IdentityWriter, Limits, receiver
from .refusals import ERRORS


def create_app(
    intake: Intake,
    keys: KeyStore,
    metrics: ServiceMetrics,
    limits: Limits = DEFAULT_LIMITS,
    identities: IdentityWriter | None = None,
    registry: RegistryLookup | None = None,
    health: Callable[[], Any] | None = None,
) -> FastAPI:
    """Build the API around its collaborators; nothing connects at import time."""
    app = FastAPI(
        title="Flagstream ingest",
        version="1",
        description="Partners send registers, enrolments, reference data and partner sources "
        "as JSON, CSV or Avro. Every record is accepted or rejected with a stable reason code; "
        "received = accepted + rejected. Authenticate with `Authorization: Bearer <key>`.",
    )
    schemas = {k.name: PartnerSchema(k.record.__name__, k.record) for k in KINDS}

    receive = receiver(intake, keys, metrics, limits, schemas, identities, registry)

    def register(kind: RecordKind) -> None:
        extra = {"requestBody": _request_body(kind), "security": [{"apiKey": []}]}
        responses: dict[int | str, dict[str, Any]] = {
            code: {"description": text} for code, text in ERRORS.items()
        }
        common = {
            "status_code": 202,
            "response_model": Receipt,
            "summary": kind.summary,
            "openapi_extra": extra,
            "responses": responses,
            "name": kind.name,
        }
        if "{urn}" in kind.path:

            async def with_urn(
                request: Request, urn: str = Path(description="The school's 6-digit URN")
            ) -> Response:
                return await receive(kind, request, urn)

            app.post(kind.path, **common)(with_urn)  # type: ignore[arg-type]
        else:

            async def without_urn(request: Request) -> Response:
                return await receive(kind, request, None)

            app.post(kind.path, **common)(without_urn)  # type: ignore[arg-type]

    for kind in KINDS:
        register(kind)

    @app.get("/v1/schemas/{kind}.avsc")
    def avro_schema(
        kind: str = Path(description="A record kind, e.g. attendance_mark"),
    ) -> Response:
        """The Avro schema of one kind's records, for partners sending Avro."""
        if kind not in BY_NAME:
            return JSONResponse({"detail": f"unknown kind; one of {', '.join(BY_NAME)}"}, 404)
        return Response(schemas[kind].avsc(), media_type="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        """Liveness: fails (503) once the outbox drainer has died or is stuck."""
        state = health() if health is not None else None
        if state is not None and not state.alive:
            return JSONResponse({"status": "failing", "reason": state.reason}, 503)
        return JSONResponse({"status": "ok"})

    @app.get("/readyz")
    def readyz() -> Response:
        """Readiness: fails (503) while accepted records cannot reach the broker (drainer dead,
        broker unreachable, topics missing or wrong); uploads are still stored meanwhile."""
        state = health() if health is not None else None
        if state is not None and not state.ready:
            body = {"status": "not_ready", "reason": state.reason, "detail": state.detail}
            return JSONResponse(body, 503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = spec.setdefault("components", {})
            defs = components.setdefault("schemas", {})
            for kind in KINDS:
                schema = kind.batch.model_json_schema(ref_template="#/components/schemas/{model}")
                defs.update(schema.pop("$defs", {}))
                defs[kind.batch.__name__] = schema
            components["securitySchemes"] = {"apiKey": {"type": "http", "scheme": "bearer"}}
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _request_body(kind: RecordKind) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            bodies.JSON: {"schema": {"$ref": f"#/components/schemas/{kind.batch.__name__}"}},
            bodies.CSV: {"schema": {"type": "string"}},
            bodies.AVRO: {"schema": {"type": "string", "format": "binary"}},
        },
    }
