"""Attain for every year group: each assessment's expected standard, strands, the window of
school years counted, the reason's words and the rules file's settings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flagstream.domain.rules.attain import ATTAIN, AttainSettings, attain, latest_by_strand
from flagstream.domain.rules.base import Outcome
from flagstream.domain.state import ChildState, Result
from flagstream.rules_file import RulesFileError, load_rules, parse_rules

D = date(2025, 10, 1)  # school year 2025/26: results from 1 September 2023 count
ON = date(2025, 6, 12)
DEFAULT = AttainSettings()
RULES_FILE = Path(__file__).resolve().parents[2] / "deploy" / "rules.toml"


def _outcome(
    *results: tuple[str, str, date], s: AttainSettings = DEFAULT, as_of: date = D
) -> Outcome:
    state = ChildState("c", results=tuple(Result(a, r, on) for a, r, on in results))
    return attain(state, as_of, s)


@pytest.mark.parametrize(
    ("assessment", "below", "at", "words"),
    [
        ("EYFS_GLD", "NOT_GLD", "GLD", "EYFS profile (good level of development) NOT_GLD"),
        ("PHONICS", "31", "32", "phonics screening check 31 of 40"),
        ("MTC", "19", "20", "multiplication tables check 19 of 25"),
        ("TA_READING", "WTS", "EXS", "teacher assessment in reading WTS"),
        ("TA_WRITING", "PKS", "GDS", "teacher assessment in writing PKS"),
        ("TA_MATHS", "WTS", "GDS", "teacher assessment in maths WTS"),
        ("KS2_READING", "99", "100", "KS2 reading test scaled score 99"),
        ("KS2_MATHS", "80", "120", "KS2 maths test scaled score 80"),
        ("KS2_WRITING", "HNM", "EXS", "KS2 writing teacher assessment HNM"),
        ("KS3_ENGLISH", "3", "4", "KS3 English in-year grade 3"),
        ("KS3_MATHS", "1", "9", "KS3 maths in-year grade 1"),
        ("KS4_ENGLISH", "3", "4", "KS4 English GCSE grade 3"),
        ("KS4_MATHS", "2", "5", "KS4 maths GCSE grade 2"),
    ],
)
def test_each_assessment_has_its_expected_standard(
    assessment: str, below: str, at: str, words: str
) -> None:
    raised = _outcome((assessment, below, ON))
    assert raised.raised
    assert raised.reason.startswith(f"below expected: {words} on 2025-06-12 (expected ")
    assert not _outcome((assessment, at, ON)).raised


def test_the_reason_names_assessment_result_date_and_expected_standard() -> None:
    outcome = _outcome(("PHONICS", "28", date(2025, 6, 10)))
    assert outcome.reason == (
        "below expected: phonics screening check 28 of 40 on 2025-06-10 (expected 32+)"
    )
    outcome = _outcome(("TA_WRITING", "WTS", date(2025, 7, 18)))
    assert outcome.reason.endswith("on 2025-07-18 (expected EXS or GDS)")
    outcome = _outcome(("EYFS_GLD", "NOT_GLD", ON))
    assert outcome.reason.endswith("(expected GLD)")


def test_a_year_2_phonics_retake_replaces_the_year_1_result() -> None:
    year_1 = ("PHONICS", "25", date(2024, 6, 13))
    in_year_2 = date(2025, 7, 1)
    assert _outcome(year_1, as_of=date(2025, 3, 1)).raised  # the Year 1 check still counts
    retake = ("PHONICS", "34", date(2025, 6, 12))
    assert not _outcome(year_1, retake, as_of=in_year_2).raised
    failed_again = ("PHONICS", "30", date(2025, 6, 12))
    outcome = _outcome(year_1, failed_again, as_of=in_year_2)
    assert outcome.raised and "30 of 40" in outcome.reason and "25 of 40" not in outcome.reason


def test_each_strand_keeps_its_own_latest_result() -> None:
    # A later maths result does not hide an earlier writing result below expected.
    writing = ("TA_WRITING", "WTS", date(2025, 4, 1))
    maths = ("TA_MATHS", "EXS", date(2025, 7, 18))
    outcome = _outcome(writing, maths)
    assert outcome.raised and "in writing WTS" in outcome.reason and "maths" not in outcome.reason
    # A newer writing result at expected clears it.
    assert not _outcome(writing, maths, ("TA_WRITING", "EXS", date(2025, 7, 18))).raised
    # Statutory checks and teacher assessments are strands apart.
    assert _outcome(("MTC", "15", ON), ("TA_MATHS", "GDS", date(2025, 7, 18))).raised


def test_secondary_english_speaks_for_reading_and_writing() -> None:
    ks2 = [("KS2_READING", "96", date(2025, 7, 8)), ("KS2_WRITING", "WTS", date(2025, 7, 8))]
    assert _outcome(*ks2).raised
    later = ("KS3_ENGLISH", "4", date(2025, 9, 26))
    outcome = _outcome(*ks2, later)
    assert not outcome.raised and outcome.reason == (
        "at expected standard in reading, writing (latest result 2025-09-26)"
    )
    below = _outcome(*ks2, ("KS3_ENGLISH", "3", date(2025, 9, 26)))
    assert below.reason.count("KS3 English") == 1  # one result, named once


def test_a_statutory_result_counts_over_a_teacher_assessment_of_the_same_day() -> None:
    day = date(2025, 7, 8)
    state = ChildState(
        "c", results=(Result("KS2_MATHS", "95", day), Result("TA_MATHS", "EXS", day))
    )
    assert latest_by_strand(state, D, DEFAULT)["maths"][0].assessment == "KS2_MATHS"
    assert attain(state, D, DEFAULT).raised


def test_results_count_for_this_school_year_and_the_two_before() -> None:
    old = ("KS2_READING", "92", date(2023, 7, 10))  # school year 2022/23
    outcome = _outcome(old)
    assert not outcome.raised and outcome.reason == "no assessment result counted since 2023-09-01"
    assert _outcome(old, s=AttainSettings(school_years_counted=4)).raised
    assert _outcome(("KS2_READING", "92", date(2023, 9, 1))).raised
    # Year 9's in-year grade still counts in Year 11; not with one school year counted.
    year_9 = ("KS3_MATHS", "3", date(2024, 7, 19))
    assert _outcome(year_9).raised
    assert not _outcome(year_9, s=AttainSettings(school_years_counted=1)).raised
    # The same result stops counting when a new school year begins.
    result = ("TA_READING", "WTS", date(2025, 3, 28))
    assert _outcome(result, as_of=date(2027, 8, 31)).raised
    assert not _outcome(result, as_of=date(2027, 9, 1)).raised
    # A result dated after the as-of date is not yet known, and a later round wins.
    assert not _outcome(result, as_of=date(2025, 3, 27)).raised
    newer = ("KS4_MATHS", "5", date(2025, 8, 20))
    assert _outcome(("KS4_MATHS", "3", date(2025, 7, 1)), newer).reason.endswith("2025-08-20)")


def test_a_result_no_assessment_can_have_is_not_counted() -> None:
    # Ingest refuses these; state from an older version of the rules may hold them.
    assert not _outcome(("PHONICS", "41", ON), ("KS2_WRITING", "98", ON)).raised
    assert not _outcome(("KS5_ART", "E", ON)).raised


def test_expected_standards_are_settings() -> None:
    s = AttainSettings(phonics_expected=30, mtc_expected=25, ta_expected=("GDS",))
    assert not _outcome(("PHONICS", "30", ON), s=s).raised
    assert _outcome(("MTC", "24", ON), s=s).raised
    assert _outcome(("TA_MATHS", "EXS", ON), s=s).reason.endswith("(expected GDS)")
    assert _outcome(("KS3_MATHS", "4", ON), s=AttainSettings(ks3_grade_expected=5)).raised


def test_the_rules_file_carries_the_settings_and_their_words() -> None:
    settings = load_rules(RULES_FILE).flags["ATTAIN"]
    assert isinstance(settings, AttainSettings)
    assert (settings.phonics_expected, settings.mtc_expected, settings.ta_expected) == (
        32,
        20,
        ("EXS", "GDS"),
    )
    assert (settings.school_years_counted, settings.ks3_grade_expected) == (3, 4)
    text = 'version = "t"\n[flags.ATTAIN]\nphonics_expected = 35\nschool_years_counted = 2\n'
    words = ATTAIN.describe(parse_rules(text).flags["ATTAIN"])
    assert "under 35 of 40" in words and "this school year or last" in words
    assert "this school year or the two before" in ATTAIN.describe(DEFAULT)
    twelve = ATTAIN.describe(AttainSettings(school_years_counted=12))
    assert "this school year or the 11 before" in twelve
    assert "from this school year is below" in ATTAIN.describe(
        AttainSettings(school_years_counted=1)
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('ta_expected = ["exs"]', "ta_expected must be among PKS, WTS, EXS, GDS"),
        ('ks2_writing_expected = ["EXS", "Y"]', "ks2_writing_expected must be among"),
        ("school_years_counted = 0", "school_years_counted must be at least 1"),
        ("mtc_expected = 20.5", "must be a whole number"),
    ],
)
def test_the_rules_file_refuses_settings_no_result_can_meet(line: str, message: str) -> None:
    with pytest.raises(RulesFileError, match=message):
        parse_rules(f'version = "t"\n[flags.ATTAIN]\n{line}\n')
