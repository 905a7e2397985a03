"""The assessments Attain reads: each one's valid results, strands and expected standard.

One entry per assessment code (STYLE 15): ingest validates results against it and the rule
reads its strands and expected standard from it. The expected standard is a setting of
[flags.ATTAIN] named by the entry (`setting`), or fixed by the entry when it has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

# What a result speaks about: the rule takes each strand's latest result. Secondary English
# speaks for reading and writing both, so a KS3 grade supersedes a KS2 reading result.
STRANDS: Final = ("development", "phonics", "times tables", "reading", "writing", "maths")


@dataclass(frozen=True, slots=True)
class Assessment:
    """One assessment: a score scale (lo-hi, expected = at least the setting's number) or
    named levels (expected = one of the setting's levels, or of `fixed`)."""

    code: str
    words: str  # e.g. "phonics screening check"
    strands: tuple[str, ...]
    setting: str = ""  # the AttainSettings field holding the expected standard
    lo: int = 0
    hi: int = 0
    out_of: bool = False  # a mark out of `hi` ("28 of 40"), not a scaled score or grade
    score_words: str = ""  # what the number is: "scaled score", "grade"
    levels: tuple[str, ...] = ()  # named results, when not a score
    fixed: tuple[str, ...] = ()  # expected levels when there is no setting

    def valid(self, result: str) -> bool:
        """Whether the result is one this assessment can have."""
        if self.levels:
            return result in self.levels
        return result.isascii() and result.isdigit() and self.lo <= int(result) <= self.hi

    def valid_words(self) -> str:
        """The valid results in words, for a rejection: "0-40", "one of WTS, EXS, GDS"."""
        return f"one of {', '.join(self.levels)}" if self.levels else f"{self.lo}-{self.hi}"

    def expected(self, settings: Any) -> int | tuple[str, ...]:
        """The expected standard under these settings: a least score, or levels."""
        return getattr(settings, self.setting) if self.setting else self.fixed

    def met(self, result: str, settings: Any) -> bool:
        """Whether a valid result is at the expected standard."""
        expected = self.expected(settings)
        if isinstance(expected, int):
            return int(result) >= expected
        return result in expected

    def shown(self, result: str) -> str:
        """The result in words: "28 of 40", "scaled score 96", "WTS"."""
        if self.levels:
            return result
        if self.out_of:
            return f"{result} of {self.hi}"
        return f"{self.score_words} {result}"

    def expected_words(self, settings: Any) -> str:
        """The expected standard in words: "32+", "EXS or GDS"."""
        expected = self.expected(settings)
        if isinstance(expected, int):
            return f"{expected}+"
        return " or ".join(expected)


_TA_LEVELS: Final = ("PKS", "WTS", "EXS", "GDS")  # pre-key stage, working towards, expected, ...
_KS2_WRITING_LEVELS: Final = ("WTS", "EXS", "GDS", "PKF", "HNM")


def _ta(subject: str) -> Assessment:
    return Assessment(f"TA_{subject.upper()}", f"teacher assessment in {subject}", (subject,),
                      "ta_expected", levels=_TA_LEVELS)  # fmt: skip


def _scaled(subject: str) -> Assessment:
    return Assessment(f"KS2_{subject.upper()}", f"KS2 {subject} test", (subject,),
                      "ks2_scaled_score_expected", 80, 120, score_words="scaled score")  # fmt: skip


def _grade(stage: str, subject: str, score_words: str) -> Assessment:
    strands = ("reading", "writing") if subject == "english" else (subject,)
    words = f"{stage} {'English' if subject == 'english' else subject}"
    return Assessment(f"{stage}_{subject.upper()}", words, strands,
                      f"{stage.lower()}_grade_expected", 1, 9, score_words=score_words)  # fmt: skip


# In order of precedence: of two results of one strand on the same day, the later entry's
# counts (a statutory result over a teacher assessment, a later key stage over an earlier).
CATALOGUE: Final[dict[str, Assessment]] = {
    a.code: a
    for a in (
        Assessment("EYFS_GLD", "EYFS profile (good level of development)", ("development",),
                   levels=("GLD", "NOT_GLD"), fixed=("GLD",)),
        Assessment("PHONICS", "phonics screening check", ("phonics",), "phonics_expected",
                   0, 40, out_of=True),
        Assessment("MTC", "multiplication tables check", ("times tables",), "mtc_expected",
                   0, 25, out_of=True),
        _ta("reading"), _ta("writing"), _ta("maths"),
        _scaled("reading"), _scaled("maths"),
        Assessment("KS2_WRITING", "KS2 writing teacher assessment", ("writing",),
                   "ks2_writing_expected", levels=_KS2_WRITING_LEVELS),
        _grade("KS3", "english", "in-year grade"), _grade("KS3", "maths", "in-year grade"),
        _grade("KS4", "english", "GCSE grade"), _grade("KS4", "maths", "GCSE grade"),
    )
}  # fmt: skip
RANK: Final[dict[str, int]] = {code: i for i, code in enumerate(CATALOGUE)}
# The assessment codes a record may name; ingest rejects another as `unknown_assessment`.
ASSESSMENTS: Final[tuple[str, ...]] = tuple(CATALOGUE)
