"""HTTP body of a recorded huddle: the school, the day, attendees' roles and each child
reviewed (by UPN, turned into child_key at the edge). JSON only: a huddle's reviews are a
list, which a CSV row cannot carry. Loose on purpose, as models.py."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .models import RecordIn


class HuddleReviewIn(BaseModel):
    """One child reviewed at the huddle and the response agreed."""

    upn: str | None = Field(None, description="13-character Unique Pupil Number")
    response: str | None = Field(None, description="e.g. New, Continue to monitor, 1:1")
    status: str | None = Field(None, description="e.g. No progress, Some progress")


class HuddleIn(RecordIn):
    """A school's half-termly huddle."""

    urn: str | None = Field(None, description="6-digit school URN")
    half_term: str | None = Field(None, description="e.g. 'Autumn 1 2025/26'")
    held_on: str | None = Field(None, description="YYYY-MM-DD, the day it met")
    attendees: list[str] | str | None = Field(
        None, description="Attendees' roles (list, or ';'-separated text), never names"
    )
    recorded_by: str | None = Field(None, description="Who recorded it (role or user id)")
    reviews: list[HuddleReviewIn] | None = Field(
        None, description="Each child reviewed, once: [{upn, response, status}, ...]"
    )


class HuddleBatchIn(BaseModel):
    """A batch of recorded huddles (the dashboard sends one at a time)."""

    source: str = "dashboard"
    records: list[HuddleIn]
