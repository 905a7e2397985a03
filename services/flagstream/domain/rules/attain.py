"""Attain: a strand's latest counted assessment result is below the expected standard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..register import school_year_start
from ..state import ChildState, Result
from .assessments import ASSESSMENTS, CATALOGUE, RANK, STRANDS
from .base import FlagSettings, Outcome, Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class AttainSettings(FlagSettings):
    """Expected standards per assessment, and how many school years of results count."""

    # This school year and the two before: a secondary's in-year grades stop at Year 9, so
    # Years 10-11 still count Year 9's, and the sixth form its GCSE results.
    school_years_counted: int = 3
    phonics_expected: int = 32  # of 40
    mtc_expected: int = 20  # of 25
    ta_expected: tuple[str, ...] = ("EXS", "GDS")
    ks2_scaled_score_expected: int = 100
    ks2_writing_expected: tuple[str, ...] = ("EXS", "GDS")
    ks3_grade_expected: int = 4
    ks4_grade_expected: int = 4

    def __post_init__(self) -> None:
        if self.school_years_counted < 1:
            raise ValueError("school_years_counted must be at least 1")
        for a in CATALOGUE.values():
            expected = a.expected(self)
            if isinstance(expected, tuple) and not set(expected) <= set(a.levels):
                raise ValueError(f"{a.setting} must be among {', '.join(a.levels)}")


def counted_since(as_of: date, s: AttainSettings) -> date:
    """The first day whose results count as of a date: 1 September, N-1 school years back."""
    start = school_year_start(as_of)
    return start.replace(year=start.year - s.school_years_counted + 1)


def latest_by_strand(state: ChildState, as_of: date, s: AttainSettings) -> dict[str, Result]:
    """Each strand's latest result counted as of the date (valid, known, in the window)."""
    since = counted_since(as_of, s)
    latest: dict[str, Result] = {}
    for r in state.results:
        a = CATALOGUE.get(r.assessment)
        if a is None or not since <= r.assessed_on <= as_of or not a.valid(r.result):
            continue
        for strand in a.strands:
            held = latest.get(strand)
            if held is None or (r.assessed_on, RANK[r.assessment]) > (
                held.assessed_on,
                RANK[held.assessment],
            ):
                latest[strand] = r
    return latest


def _words(r: Result, s: AttainSettings) -> str:
    a = CATALOGUE[r.assessment]
    return f"{a.words} {a.shown(r.result)} on {r.assessed_on} (expected {a.expected_words(s)})"


def attain(state: ChildState, as_of: date, s: AttainSettings) -> Outcome:
    """Raised when any strand's latest counted result is below its expected standard."""
    latest = latest_by_strand(state, as_of, s)
    if not latest:
        return Outcome(False, f"no assessment result counted since {counted_since(as_of, s)}")
    below: list[Result] = []
    for strand in STRANDS:  # a fixed order, so the reason is the same in any delivery order
        r = latest.get(strand)
        if r is not None and r not in below and not CATALOGUE[r.assessment].met(r.result, s):
            below.append(r)
    if below:
        return Outcome(True, "below expected: " + "; ".join(_words(r, s) for r in below))
    newest = max(r.assessed_on for r in latest.values())
    strands = ", ".join(t for t in STRANDS if t in latest)
    return Outcome(False, f"at expected standard in {strands} (latest result {newest})")


def describe(s: AttainSettings) -> str:
    """The rule in words."""
    n = s.school_years_counted
    years = {1: "this school year", 2: "this school year or last"}.get(
        n, f"this school year or the {n - 1} before"
    )
    return (
        "Attain: raised when the latest result of any strand (development, phonics, times "
        "tables, reading, writing, maths; secondary English counts for reading and writing) "
        f"from {years} is below expected: EYFS profile not GLD, phonics screening check "
        f"under {s.phonics_expected} of 40, multiplication tables check under "
        f"{s.mtc_expected} of 25, teacher assessment not {'/'.join(s.ta_expected)}, KS2 "
        f"scaled score under {s.ks2_scaled_score_expected}, KS2 writing not "
        f"{'/'.join(s.ks2_writing_expected)}, KS3 in-year grade under {s.ks3_grade_expected}, "
        f"KS4 grade under {s.ks4_grade_expected}."
    )


ATTAIN = Rule("ATTAIN", AttainSettings, attain, describe)

__all__ = ["ASSESSMENTS", "ATTAIN", "AttainSettings", "attain", "describe", "latest_by_strand"]
