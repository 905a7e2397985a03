"""Receiving one upload over HTTP: authenticate and rate-limit the key, read the body (up to
the limit), parse it, check the key's scope and the source, hand the upload to intake and
answer with its receipt - or refuse the request whole (refusals.py)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from flagstream.identity import Identity
from flagstream.metrics import ServiceMetrics

from ..avro_bodies import PartnerSchema, RegistryLookup
from ..fields import source_problem
from ..intake import IdempotencyKeyReused, Intake, Upload, identities_of
from ..keys import KeyStore, Partner, key_from_headers
from ..kinds import RecordKind
from . import bodies
from .ratelimit import RateLimiter
from .refusals import UNAUTHENTICATED, Refused, refusal, refusal_source

log = logging.getLogger("flagstream.ingest")
IdentityWriter = Callable[[list[Identity]], None]
Receive = Callable[[RecordKind, Request, str | None], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-request limits."""

    max_records: int = 20_000
    max_body_bytes: int = 32 * 1024 * 1024
    rate_per_minute: int = 600  # requests per API key (token bucket); 0 = no limit


DEFAULT_LIMITS: Final = Limits()


def receiver(
    intake: Intake,
    keys: KeyStore,
    metrics: ServiceMetrics,
    limits: Limits,
    schemas: dict[str, PartnerSchema],
    identities: IdentityWriter | None = None,
    registry: RegistryLookup | None = None,
) -> Receive:
    """The handler of every upload route: (kind, request, URN from the path or None)."""
    limiter = RateLimiter(limits.rate_per_minute)

    def authenticate(request: Request) -> Partner:
        headers = request.headers
        partner = keys.check(
            key_from_headers(headers.get("authorization"), headers.get("x-api-key"))
        )
        if not isinstance(partner, Partner):
            raise Refused(401, partner, UNAUTHENTICATED[partner])
        wait = limiter.take(partner.key_id)
        if wait:
            after = RateLimiter.retry_after(wait)
            message = f"at most {limits.rate_per_minute} requests a minute per key; retry later"
            raise Refused(429, "rate_limited", message, {"Retry-After": after})
        return partner

    def authorise(partner: Partner, kind: RecordKind, urns: list[str | None]) -> None:
        if not partner.may_send(kind.name, urns):
            raise Refused(403, "out_of_scope", f"this key may not send {kind.name} for that school")

    def parse(kind: RecordKind, request: Request, body: bytes) -> bodies.Parsed:
        media = bodies.media_type(request.headers.get("content-type"))
        if media == bodies.CSV:
            return bodies.parse_csv(body, limits.max_records, request.headers.get("content-type"))
        if media == bodies.AVRO:
            return bodies.parse_avro(body, schemas[kind.name], limits.max_records, registry)
        return bodies.parse_json(body, kind.records_field, limits.max_records)

    def handle(
        kind: RecordKind, request: Request, body: bytes, urn: str | None, partner: Partner
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

    def refuse(kind: RecordKind, request: Request, urn: str | None, exc: Refused) -> Response:
        # Counted per source and day; before authentication the client's own words (source,
        # URN) are not trusted, so those all count under one source.
        source = "unauthenticated"
        if exc.status != 401:
            source = refusal_source(kind, request.query_params.get("source"), urn)
        try:
            intake.refused(source, kind.name, exc.reason)
        except Exception:  # counting must not turn a refusal into a 500
            log.exception("could not count a refused request in the ledger")
        return refusal(metrics, exc.status, exc.reason, exc.message, exc.headers)

    async def receive(kind: RecordKind, request: Request, urn: str | None) -> Response:
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

    return receive


def _urn_of(record: Any) -> str | None:
    value = record.get("urn") if isinstance(record, dict) else None
    return value.strip() if isinstance(value, str) else None
