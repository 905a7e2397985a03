"""Attain: a strand's latest counted assessment result is below the expected standard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from ..state import ChildState, Result
from .assessments import ASSESSMENTS, CATALOGUE, RANK, STRANDS, Assessment
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
    first = as_of.year if as_of.month >= 9 else as_of.year - 1
    return date(first - s.school_years_counted + 1, 9, 1)


@dataclass(frozen=True, slots=True)
class _Check:
    """One assessment under one set of settings, worked out once (the rule runs per child
    per message): each valid result as written -> whether it is at the expected standard."""

    assessment: Assessment
    rank: int
    met: Mapping[str, bool]
    expected: str  # "(expected 32+)"

    def outcome(self, result: str, s: AttainSettings) -> bool | None:
        """At expected (True), below (False), or not a result it can have (None)."""
        met = self.met.get(result)
        if met is None and self.assessment.valid(result):  # e.g. "098" held from before
            return self.assessment.met(result, s)
        return met


@lru_cache(maxsize=32)  # one entry per rules version in use
def _checks(s: AttainSettings) -> dict[str, _Check]:
    checks: dict[str, _Check] = {}
    for code, a in CATALOGUE.items():
        results = a.levels or tuple(str(n) for n in range(a.lo, a.hi + 1))
        met = {r: a.met(r, s) for r in results}
        checks[code] = _Check(a, RANK[code], met, f"(expected {a.expected_words(s)})")
    return checks


def latest_by_strand(
    state: ChildState, as_of: date, s: AttainSettings
) -> dict[str, tuple[Result, bool]]:
    """Each strand's latest result counted as of the date (known, valid, in the window), and
    whether it is at the expected standard."""
    since, checks = counted_since(as_of, s), _checks(s)
    latest: dict[str, tuple[Result, bool]] = {}
    order: dict[str, tuple[date, int]] = {}
    for r in state.results:
        on = r.assessed_on
        check = checks.get(r.assessment)
        if check is None or on < since or on > as_of:
            continue
        met = check.met.get(r.result)
        if met is None:
            met = check.outcome(r.result, s)
            if met is None:
                continue
        key = (on, check.rank)
        for strand in check.assessment.strands:
            if strand not in order or key > order[strand]:
                order[strand] = key
                latest[strand] = (r, met)
    return latest


def attain(state: ChildState, as_of: date, s: AttainSettings) -> Outcome:
    """Raised when any strand's latest counted result is below its expected standard."""
    latest = latest_by_strand(state, as_of, s)
    if not latest:
        return Outcome(False, f"no assessment result counted since {counted_since(as_of, s)}")
    below: list[Result] = []
    for strand in STRANDS:  # a fixed order, so the reason is the same in any delivery order
        held = latest.get(strand)
        if held is not None and not held[1] and held[0] not in below:
            below.append(held[0])
    if below:
        checks = _checks(s)
        words = [
            f"{(a := checks[r.assessment].assessment).words} {a.shown(r.result)} on "
            f"{r.assessed_on} {checks[r.assessment].expected}"
            for r in below
        ]
        return Outcome(True, "below expected: " + "; ".join(words))
    newest = max(r.assessed_on for r, _ in latest.values())
    strands = ", ".join(t for t in STRANDS if t in latest)
    return Outcome(False, f"at expected standard in {strands} (latest result {newest})")


def describe(s: AttainSettings) -> str:
    """The rule in words."""
    n = s.school_years_counted
    before = {2: "two", 3: "three", 4: "four"}.get(n - 1, str(n - 1))
    years = {1: "this school year", 2: "this school year or last"}.get(
        n, f"this school year or the {before} before"
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


ATTAIN = Rule("ATTAIN", AttainSettings, attain, describe, reads=("results",))

__all__ = ["ASSESSMENTS", "ATTAIN", "AttainSettings", "attain", "describe", "latest_by_strand"]
