"""Recording an outcome: the dashboard's only write, an event sent through ingest."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import httpx

# The council's original pick lists (DOMAIN.md "Outcome recording").
RESPONSES = (
    "New",
    "Continue to monitor",
    "1:1",
    "Family - Single agency",
    "Team around the family",
    "Referral",
)
STATUSES = ("No progress", "Some progress", "Good progress", "Further risk", "Resolved")
_OUTCOME_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "flagstream:dashboard:outcome")


@dataclass(frozen=True, slots=True)
class OutcomeForm:
    """What a professional submitted for one child."""

    event_id: str
    upn: str
    urn: str
    response: str
    status: str
    recorded_by: str
    recorded_on: date


class SendError(RuntimeError):
    """Ingest did not accept the outcome; the message says why and what to do."""


class OutcomeSender(Protocol):
    def send(self, outcome: OutcomeForm) -> None: ...


def event_id_for(outcome: OutcomeForm) -> str:
    """The event id sent to ingest, made here from the form's one-time token, the user and
    the child: the browser returns the token but cannot choose the id, so one user's form
    cannot collide with (and be dropped as a duplicate of) another's outcome, while the
    same form submitted twice is recorded once."""
    seed = f"{outcome.recorded_by}/{outcome.urn}/{outcome.upn}/{outcome.event_id}"
    return str(uuid.uuid5(_OUTCOME_IDS, seed))


class IngestOutcomeSender:
    """POSTs to ingest's /v1/outcomes; ingest turns the UPN into child_key and publishes."""

    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s)

    def send(self, outcome: OutcomeForm) -> None:
        record = {
            "event_id": event_id_for(outcome),
            "upn": outcome.upn,
            "urn": outcome.urn,
            "response": outcome.response,
            "status": outcome.status,
            "recorded_by": outcome.recorded_by,
            "recorded_on": outcome.recorded_on.isoformat(),
        }
        try:
            reply = self._client.post(
                "/v1/outcomes", json={"source": "dashboard", "records": [record]}
            )
        except httpx.HTTPError as exc:
            raise SendError(f"ingest is not reachable ({exc}); try again shortly") from exc
        if reply.status_code != 202:
            raise SendError(f"ingest answered {reply.status_code}: {reply.text[:200]}")
        body = reply.json()
        if body.get("rejected"):
            reasons = ", ".join(r.get("reason", "?") for r in body.get("rejections", []))
            if reasons != "duplicate_event":  # A resubmitted form was already recorded.
                raise SendError(f"ingest rejected the outcome: {reasons}")

    def close(self) -> None:
        self._client.close()
