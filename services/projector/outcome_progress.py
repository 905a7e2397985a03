"""Current and overall progress from a child's sequence of recorded statuses (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Progress = Literal["new", "improved", "same", "worse", "unknown"]

# Worst to best; a status not listed here gives "unknown" progress rather than a guess.
STATUS_RANK: dict[str, int] = {
    "further risk": 0,
    "no progress": 1,
    "some progress": 2,
    "good progress": 3,
    "resolved": 4,
}


def _compare(before: str, after: str) -> Progress:
    a, b = STATUS_RANK.get(before.strip().lower()), STATUS_RANK.get(after.strip().lower())
    if a is None or b is None:
        return "unknown"
    return "improved" if b > a else "worse" if b < a else "same"


def current_progress(statuses: Sequence[str]) -> Progress | None:
    """Latest status against the one before it ("new" for the first record)."""
    if not statuses:
        return None
    return "new" if len(statuses) == 1 else _compare(statuses[-2], statuses[-1])


def overall_progress(statuses: Sequence[str]) -> Progress | None:
    """Latest status against the first one recorded."""
    if not statuses:
        return None
    return "new" if len(statuses) == 1 else _compare(statuses[0], statuses[-1])
