"""Attain: the latest assessment round has a result below the expected standard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Final

from ..state import ChildState
from .base import FlagSettings, Outcome, Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class AttainSettings(FlagSettings):
    """Expected standards: KS2 scaled score, KS2 writing teacher assessment, KS4 grade."""

    ks2_scaled_score_expected: int = 100
    ks2_writing_expected: tuple[str, ...] = ("EXS", "GDS")
    ks4_grade_expected: int = 4


def _score_at_least(field: str) -> Callable[[str, AttainSettings], bool | None]:
    def check(result: str, s: AttainSettings) -> bool | None:
        return int(result) >= getattr(s, field) if result.isdigit() else None

    return check


# Assessment kind -> "is this result at the expected standard?" (None = not a valid result).
_AT_EXPECTED: dict[str, Callable[[str, AttainSettings], bool | None]] = {
    "KS2_READING": _score_at_least("ks2_scaled_score_expected"),
    "KS2_MATHS": _score_at_least("ks2_scaled_score_expected"),
    "KS2_WRITING": lambda result, s: result in s.ks2_writing_expected,
    "KS4_ENGLISH": _score_at_least("ks4_grade_expected"),
    "KS4_MATHS": _score_at_least("ks4_grade_expected"),
}
# The assessments Attain reads (any other is ignored by the rule): the kinds an assessment
# record may name. Ingest rejects a record naming another as `unknown_assessment`.
ASSESSMENTS: Final[tuple[str, ...]] = tuple(_AT_EXPECTED)


def attain(state: ChildState, as_of: date, s: AttainSettings) -> Outcome:
    """Raised when any result of the latest round (same date) is below expected."""
    known = [r for r in state.results if r.assessed_on <= as_of and r.assessment in _AT_EXPECTED]
    if not known:
        return Outcome(False, "no assessment recorded")
    latest = max(r.assessed_on for r in known)
    below = [
        f"{r.assessment} {r.result}"
        for r in known
        if r.assessed_on == latest and _AT_EXPECTED[r.assessment](r.result, s) is False
    ]
    if below:
        return Outcome(True, f"below expected standard on {latest}: {', '.join(below)}")
    return Outcome(False, f"at expected standard on {latest}")


def describe(s: AttainSettings) -> str:
    """The rule in words."""
    return (
        f"Attain: raised when the latest assessment round has a result below expected "
        f"(KS2 scaled score under {s.ks2_scaled_score_expected}, KS2 writing not "
        f"{'/'.join(s.ks2_writing_expected)}, KS4 grade under {s.ks4_grade_expected})."
    )


ATTAIN = Rule("ATTAIN", AttainSettings, attain, describe)
