"""Validation of a recorded huddle: raw record -> HuddleRecorded, or Reject. Every reviewed
child's UPN is checked and pseudonymised here, so no UPN travels further; a huddle with any
bad review is refused whole (a half-recorded meeting would mislead the next list)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from flagstream.domain.events import HuddleRecorded, HuddleReview

from . import fields as f
from .fields import Reject, Stamp
from .models_huddles import HuddleIn

Key = Callable[[str], str]

MAX_ATTENDEES: Final = 30
MAX_REVIEWS: Final = 1000  # a large secondary's flagged children, with room to spare


def _attendees(value: list[str] | str | None) -> list[str]:
    items = value.split(";") if isinstance(value, str) else list(value or [])
    roles = [r.strip() for r in items if r.strip()]
    if not roles:
        raise Reject("missing_field", "attendees", "attendees: name at least one role")
    if len(roles) > MAX_ATTENDEES:
        raise Reject("too_long", "attendees", f"attendees: at most {MAX_ATTENDEES} roles")
    for role in roles:
        f.text(role, "attendees", 60)
    return list(dict.fromkeys(roles))


def huddle(raw: HuddleIn, key: Key, stamp: Stamp) -> HuddleRecorded:
    """A validated huddle; raises Reject naming the first bad field (reviews[i].field for a
    reviewed child's)."""
    urn = f.urn(raw.urn)
    on = f.past_day(raw.held_on, "held_on", stamp)
    reviews = raw.reviews or []
    if len(reviews) > MAX_REVIEWS:
        raise Reject("too_long", "reviews", f"reviews: at most {MAX_REVIEWS} children")
    seen: set[str] = set()
    out = []
    for i, r in enumerate(reviews):
        where = f"reviews[{i}]"
        try:
            child_key = f.child_key(r.upn, key)
            response = f.text(r.response, "response", 200)
            status = f.text(r.status, "status", 200)
        except Reject as exc:
            bad = exc.invalid
            raise Reject(bad.reason, f"{where}.{bad.field}", f"{where}: {bad.message}") from None
        if child_key in seen:
            raise Reject("duplicate_review", where, f"{where}: the same child is reviewed twice")
        seen.add(child_key)
        out.append(HuddleReview(child_key=child_key, response=response, status=status))
    return HuddleRecorded(
        **f.envelope(raw.event_id, stamp, f.midnight(on)),
        urn=urn,
        half_term=f.text(raw.half_term, "half_term", 32),
        held_on=on,
        attendees=_attendees(raw.attendees),
        recorded_by=f.text(raw.recorded_by, "recorded_by", 200),
        reviews=out,
    )
