"""The ingest HTTP API (FastAPI; OpenAPI docs at /docs)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Path, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from flagstream.identity import Identity
from flagstream.metrics import ServiceMetrics

from . import bodies
from .avro_bodies import PartnerSchema
from .fields import school_source, source_problem
from .intake import IdempotencyKeyReused, Intake, Upload, identities_of
from .keys import KeyStore, Partner, key_from_headers
from .kinds import BY_NAME, KINDS, Kind
from .models import Receipt
from .ratelimit import RateLimiter

log = logging.getLogger("flagstream.ingest")
Clock = Callable[[], datetime]
IdentityWriter = Callable[[list[Identity]], None]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-request limits."""

    max_records: int = 20_000
    max_body_bytes: int = 32 * 1024 * 1024
    rate_per_minute: int = 600  # requests per API key (token bucket); 0 = no limit


class Refused(Exception):
    """A whole request refused, with an HTTP status and a stable reason code."""

    def __init__(
        self, status: int, reason: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message
        self.headers = headers


def create_app(
    intake: Intake,
    keys: KeyStore,
    metrics: ServiceMetrics,
    limits: Limits = Limits(),
    identities: IdentityWriter | None = None,
    registry: bodies.RegistryLookup | None = None,
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

    limiter = RateLimiter(limits.rate_per_minute)

    def authenticate(request: Request) -> Partner:
        headers = request.headers
        partner = keys.check(
            key_from_headers(headers.get("authorization"), headers.get("x-api-key"))
        )
        if not isinstance(partner, Partner):
            raise Refused(401, partner, _UNAUTHENTICATED[partner])
        wait = limiter.take(partner.key_id)
        if wait:
            after = RateLimiter.retry_after(wait)
            message = f"at most {limits.rate_per_minute} requests a minute per key; retry later"
            raise Refused(429, "rate_limited", message, {"Retry-After": after})
        return partner

    def authorise(partner: Partner, kind: Kind, urns: list[str | None]) -> None:
        if not partner.may_send(kind.name, urns):
            raise Refused(403, "out_of_scope", f"this key may not send {kind.name} for that school")

    def parse(kind: Kind, request: Request, body: bytes) -> bodies.Parsed:
        media = bodies.media_type(request.headers.get("content-type"))
        if media == bodies.CSV:
            return bodies.parse_csv(body, limits.max_records, request.headers.get("content-type"))
        if media == bodies.AVRO:
            return bodies.parse_avro(body, schemas[kind.name], limits.max_records, registry)
        return bodies.parse_json(body, kind.records_field, limits.max_records)

    def handle(
        kind: Kind, request: Request, body: bytes, urn: str | None, partner: Partner
    ) -> Response:
        parsed = parse(kind, request, body)
        authorise(partner, kind, [urn] if urn is not None else [_urn_of(r) for r in parsed.records])
        source = parsed.source or request.query_params.get("source") or kind.default_source
        problem = source_problem(source)
        if problem is not None:
            raise Refused(422, "invalid_source", problem)
        key = request.headers.get("idempotency-key")
        if key is not None and not 0 < len(key) <= 200:
            raise Refused(400, "invalid_idempotency_key", "Idempotency-Key is 1-200 characters")
        digest = hashlib.sha256(
            f"{kind.name}\0{urn}\0{request.headers.get('content-type')}\0{source}\0".encode() + body
        ).hexdigest()
        upload = Upload(
            kind,
            parsed.records,
            f"{source}:{urn}" if urn is not None else source,
            partner.partner,
            urn,
            key,
            digest,
            key_id=partner.key_id or None,
            school=partner.urn,
        )
        try:
            outcome = intake.submit(upload)
        except IdempotencyKeyReused:
            raise Refused(
                409, "idempotency_key_reused", "that key was used for another body"
            ) from None
        receipt = outcome.receipt
        if parsed.encoding is not None:  # the same for a replay: it is read off the same body
            receipt = {**receipt, "encoding": parsed.encoding}
        if outcome.replayed:
            return JSONResponse(receipt, outcome.status, {"Idempotent-Replayed": "true"})
        for r in outcome.receipt["rejections"]:
            metrics.rejected.labels(r["reason"]).inc()
        metrics.events_in.labels(kind.name).inc(outcome.receipt["received"])
        metrics.events_out.labels(kind.name).inc(outcome.receipt["accepted"])
        if kind.name == "enrolment" and identities is not None and outcome.accepted:
            # The only place a UPN (and name) is kept: the identity store, never a topic.
            identities(identities_of(outcome.accepted))
        return JSONResponse(receipt, outcome.status)

    def refuse(kind: Kind, request: Request, urn: str | None, exc: Refused) -> Response:
        # Counted per source and day; before authentication the client's own words (source,
        # URN) are not trusted, so those all count under one source.
        source = "unauthenticated"
        if exc.status != 401:
            source = _refusal_source(kind, request.query_params.get("source"), urn)
        try:
            intake.refused(source, kind.name, exc.reason)
        except Exception:  # counting must not turn a refusal into a 500
            log.exception("could not count a refused request in the ledger")
        return _refusal(metrics, exc.status, exc.reason, exc.message, exc.headers)

    async def receive(kind: Kind, request: Request, urn: str | None) -> Response:
        started = time.perf_counter()
        try:
            partner = await run_in_threadpool(authenticate, request)
            declared = int(request.headers.get("content-length") or 0)
            if declared > limits.max_body_bytes:
                raise Refused(413, "body_too_large", f"at most {limits.max_body_bytes} bytes")
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > limits.max_body_bytes:
                    raise Refused(413, "body_too_large", f"at most {limits.max_body_bytes} bytes")
            return await run_in_threadpool(handle, kind, request, bytes(body), urn, partner)
        except bodies.BodyError as exc:
            status = {"too_many_records": 413, "unsupported_media_type": 415}.get(exc.reason, 400)
            message = str(exc).partition(": ")[2]
            refused = Refused(status, exc.reason, message)
            return await run_in_threadpool(refuse, kind, request, urn, refused)
        except Refused as exc:
            return await run_in_threadpool(refuse, kind, request, urn, exc)
        except SQLAlchemyError as exc:
            # Nothing was stored; the message never carries the statement's parameters.
            log.error("ingest's database is unavailable (%s): answering 503", type(exc).__name__)
            metrics.rejected.labels("storage_unavailable").inc()
            return JSONResponse(
                {
                    "detail": "storage_unavailable: nothing was stored; send the same request "
                    "again (same Idempotency-Key) in a few seconds",
                    "reason": "storage_unavailable",
                },
                503,
                {"Retry-After": "5"},
            )
        finally:
            metrics.latency.labels(kind.name).observe(time.perf_counter() - started)

    def register(kind: Kind) -> None:
        extra = {"requestBody": _request_body(kind), "security": [{"apiKey": []}]}
        responses: dict[int | str, dict[str, Any]] = {
            code: {"description": text} for code, text in _ERRORS.items()
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


_ERRORS = {
    400: "malformed body or Idempotency-Key",
    401: "unauthenticated (missing or unknown API key), key_revoked or key_expired",
    403: "out_of_scope: the key may not send this kind, or for this school",
    409: "idempotency_key_reused: the key was used for a different body",
    413: "too_many_records or body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited: too many requests with this key; retry after Retry-After seconds",
    503: "storage_unavailable: nothing stored; retry the same request",
}
_UNAUTHENTICATED = {
    "unauthenticated": "missing or unknown API key",
    "key_revoked": "this API key was revoked: ask the council for a new one",
    "key_expired": "this API key has expired: ask the council for a new one",
}


def _request_body(kind: Kind) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            bodies.JSON: {"schema": {"$ref": f"#/components/schemas/{kind.batch.__name__}"}},
            bodies.CSV: {"schema": {"type": "string"}},
            bodies.AVRO: {"schema": {"type": "string", "format": "binary"}},
        },
    }


def _urn_of(record: Any) -> str | None:
    value = record.get("urn") if isinstance(record, dict) else None
    return value.strip() if isinstance(value, str) else None


def _refusal_source(kind: Kind, given: str | None, urn: str | None) -> str:
    """The ledger source of a refused request, as an accepted one would be counted."""
    source = given if given and source_problem(given) is None else kind.default_source
    if urn is None:
        return source
    return school_source(source, urn)


def _refusal(
    metrics: ServiceMetrics,
    status: int,
    reason: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    metrics.rejected.labels(reason).inc()
    return JSONResponse({"detail": f"{reason}: {message}", "reason": reason}, status, headers)
