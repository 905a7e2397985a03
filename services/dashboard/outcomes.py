"""Recording an outcome or a huddle: the dashboard's only writes, events sent through ingest."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
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
_HUDDLE_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "flagstream:dashboard:huddle")


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


@dataclass(frozen=True, slots=True)
class HuddleForm:
    """A huddle a school's staff or zone lead recorded: reviews are (upn, response, status)."""

    event_id: str
    urn: str
    half_term: str
    held_on: date
    attendees: tuple[str, ...]
    recorded_by: str
    reviews: tuple[tuple[str, str, str], ...]


class OutcomeSender(Protocol):
    def send(self, outcome: OutcomeForm) -> None: ...

    def send_huddle(self, huddle: HuddleForm) -> None: ...


def event_id_for(outcome: OutcomeForm) -> str:
    """The event id sent to ingest, made here from the form's one-time token, the user and
    the child: the browser returns the token but cannot choose the id, so one user's form
    cannot collide with (and be dropped as a duplicate of) another's outcome, while the
    same form submitted twice is recorded once."""
    seed = f"{outcome.recorded_by}/{outcome.urn}/{outcome.upn}/{outcome.event_id}"
    return str(uuid.uuid5(_OUTCOME_IDS, seed))


def huddle_event_id(huddle: HuddleForm) -> str:
    """As event_id_for: from the form's one-time token, the user and the school."""
    seed = f"{huddle.recorded_by}/{huddle.urn}/{huddle.event_id}"
    return str(uuid.uuid5(_HUDDLE_IDS, seed))


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
        self._post("/v1/outcomes", record, "outcome")

    def send_huddle(self, huddle: HuddleForm) -> None:
        """POSTs to ingest's /v1/huddles (UPNs turned into child keys there)."""
        record = {
            "event_id": huddle_event_id(huddle),
            "urn": huddle.urn,
            "half_term": huddle.half_term,
            "held_on": huddle.held_on.isoformat(),
            "attendees": list(huddle.attendees),
            "recorded_by": huddle.recorded_by,
            "reviews": [
                {"upn": upn, "response": response, "status": status}
                for upn, response, status in huddle.reviews
            ],
        }
        self._post("/v1/huddles", record, "huddle")

    def _post(self, path: str, record: Mapping[str, object], what: str) -> None:
        try:
            reply = self._client.post(path, json={"source": "dashboard", "records": [record]})
        except httpx.HTTPError as exc:
            raise SendError(f"ingest is not reachable ({exc}); try again shortly") from exc
        if reply.status_code != 202:
            raise SendError(f"ingest answered {reply.status_code}: {reply.text[:200]}")
        body = reply.json()
        if body.get("rejected"):
            reasons = ", ".join(r.get("reason", "?") for r in body.get("rejections", []))
            if reasons != "duplicate_event":  # A resubmitted form was already recorded.
                raise SendError(f"ingest rejected the {what}: {reasons}")

    def close(self) -> None:
        self._client.close()
