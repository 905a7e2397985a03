"""A HuddleRecorded's rows: one in huddles, one per child reviewed in huddle_reviews, and
each review as the child's outcome too (the response agreed at the huddle is the child's
latest response, so Current and Overall Progress follow it), under an id derived from the
huddle's, so a replay writes the same rows again and nothing twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Final

from .rows import Record, at, day

_REVIEW_OUTCOMES: Final = uuid.uuid5(uuid.NAMESPACE_URL, "flagstream:huddle-review-outcome")


def review_outcome_id(huddle_event_id: str, child_key: str) -> str:
    """The outcome id of one child's review at one huddle."""
    return str(uuid.uuid5(_REVIEW_OUTCOMES, f"{huddle_event_id}/{child_key}"))


def huddle_row(r: Record) -> Record:
    """huddles row (roles joined for display; never names)."""
    return {
        "event_id": r["event_id"],
        "urn": r["urn"],
        "half_term": r["half_term"],
        "held_on": day(r["held_on"]),
        "attendees": ", ".join(r["attendees"]),
        "recorded_by": r["recorded_by"],
        "reviewed": len(r["reviews"]),
        "recorded_at": at(r["recorded_at"]),
    }


def review_rows(r: Record) -> Iterator[Record]:
    """huddle_reviews rows."""
    held_on = day(r["held_on"])
    for review in r["reviews"]:
        yield {
            "huddle_event_id": r["event_id"],
            "child_key": review["child_key"],
            "urn": r["urn"],
            "held_on": held_on,
            "response": review["response"],
            "status": review["status"],
        }


def review_outcomes(r: Record) -> Iterator[Record]:
    """outcomes rows, one per review, dated the day the huddle met."""
    held_on, recorded_at = day(r["held_on"]), at(r["recorded_at"])
    for review in r["reviews"]:
        yield {
            "event_id": review_outcome_id(r["event_id"], review["child_key"]),
            "child_key": review["child_key"],
            "urn": r["urn"],
            "response": review["response"],
            "status": review["status"],
            "recorded_by": r["recorded_by"],
            "recorded_on": held_on,
            "recorded_at": recorded_at,
        }
