"""Requests refused whole: each with an HTTP status and a stable reason code, answered the
same way and counted (Prometheus, and the ledger per source and day)."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import JSONResponse

from flagstream.metrics import ServiceMetrics

from ..fields import school_source, source_problem
from ..kinds import RecordKind


class Refused(Exception):
    """A whole request refused, with an HTTP status and a stable reason code."""

    def __init__(
        self, status: int, reason: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message
        self.headers = headers


ERRORS = {
    400: "malformed body or Idempotency-Key",
    401: "unauthenticated (missing or unknown API key), key_revoked or key_expired",
    403: "out_of_scope: the key may not send this kind, or for this school",
    409: "idempotency_key_reused: the key was used for a different body",
    413: "too_many_records or body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited: too many requests with this key; retry after Retry-After seconds",
    503: "storage_unavailable: nothing stored; retry the same request",
}
UNAUTHENTICATED = {
    "unauthenticated": "missing or unknown API key",
    "key_revoked": "this API key was revoked: ask the council for a new one",
    "key_expired": "this API key has expired: ask the council for a new one",
}


def refusal_source(kind: RecordKind, given: str | None, urn: str | None) -> str:
    """The ledger source of a refused request, as an accepted one would be counted."""
    source = given if given and source_problem(given) is None else kind.default_source
    if urn is None:
        return source
    return school_source(source, urn)


def refusal(
    metrics: ServiceMetrics,
    status: int,
    reason: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    metrics.rejected.labels(reason).inc()
    return JSONResponse({"detail": f"{reason}: {message}", "reason": reason}, status, headers)
