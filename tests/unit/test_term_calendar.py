"""The term calendar: England's defaults, a council's overrides, and the questions the
huddles, digests and evidence screens ask of it (which half term, which term, school days)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flagstream.term_calendar import (
    TermCalendarError,
    england,
    load_term_calendar,
    parse_term_calendar,
)


def test_a_day_belongs_to_its_half_term_and_a_holiday_to_the_one_just_ended() -> None:
    cal = england()
    assert cal.half_term_of(date(2025, 9, 3)).name == "Autumn 1 2025/26"  # first day
    assert cal.half_term_of(date(2025, 10, 24)).name == "Autumn 1 2025/26"  # last day
    assert cal.half_term_of(date(2025, 10, 28)).name == "Autumn 1 2025/26"  # half-term week
    assert cal.half_term_of(date(2025, 11, 3)).name == "Autumn 2 2025/26"
    assert cal.half_term_of(date(2025, 8, 10)).name == "Summer 2 2024/25"  # summer holiday
    assert cal.half_term_of(date(2020, 1, 1)) is None


def test_terms_group_two_halves_and_previous_walks_back_across_years() -> None:
    cal = england()
    autumn = cal.term_of(date(2025, 12, 1))
    assert autumn is not None and autumn.name == "Autumn 2025/26"
    assert [h.label for h in autumn.halves] == ["Autumn 1", "Autumn 2"]
    assert (autumn.starts, autumn.ends) == (date(2025, 9, 3), date(2025, 12, 19))
    first = cal.half_term_of(date(2025, 9, 10))
    assert first is not None
    before = cal.previous(first)
    assert before is not None and before.name == "Summer 2 2024/25"
    assert cal.previous(cal.half_terms[0]) is None
    assert len(cal.terms()) == 3 * 4


def test_school_days_skip_weekends_holidays_and_closures() -> None:
    cal = england()
    assert cal.school_days(date(2025, 9, 1), date(2025, 9, 12)) == 8  # starts Wed 3rd
    assert not cal.is_school_day(date(2025, 10, 29))  # half-term week
    assert not cal.is_school_day(date(2026, 5, 4))  # early May bank holiday
    council = parse_term_calendar("closures = [2025-09-05]\n")
    assert not council.is_school_day(date(2025, 9, 5))
    assert council.school_days(date(2025, 9, 1), date(2025, 9, 12)) == 7


def test_a_council_file_replaces_the_half_terms_it_names(tmp_path: Path) -> None:
    path = tmp_path / "terms.toml"
    path.write_text(
        '[[half_term]]\nlabel = "Autumn 1"\nschool_year = "2025/26"\n'
        "starts = 2025-09-04\nends = 2025-10-17\n"
    )
    cal = load_term_calendar(path)
    half = cal.half_term_of(date(2025, 10, 20))
    assert half is not None and (half.starts, half.ends) == (date(2025, 9, 4), date(2025, 10, 17))
    assert len(cal.half_terms) == len(england().half_terms)
    only = parse_term_calendar(
        'replace_defaults = true\n[[half_term]]\nlabel = "Spring 1"\nschool_year = "2030/31"\n'
        'starts = "2031-01-06"\nends = "2031-02-14"\n'
    )
    assert [h.name for h in only.half_terms] == ["Spring 1 2030/31"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("half_term = [", "not valid TOML"),
        ('[[half_term]]\nlabel = "Autumn 1"\n', "needs ends, school_year, starts"),
        (
            '[[half_term]]\nlabel = "Autumn 3"\nschool_year = "2025/26"\n'
            "starts = 2025-09-04\nends = 2025-10-17\n",
            "label must be one of",
        ),
        (
            '[[half_term]]\nlabel = "Autumn 1"\nschool_year = "2025/26"\n'
            "starts = 2025-10-04\nends = 2025-09-17\n",
            "before it starts",
        ),
        (
            '[[half_term]]\nlabel = "Autumn 1"\nschool_year = "2025/26"\n'
            "starts = 2025-09-04\nends = 2025-11-05\n",
            "starts before Autumn 1 2025/26 has ended",
        ),
        (
            '[[half_term]]\nlabel = "Autumn 1"\nschool_year = "2025/26"\n'
            'starts = "4th Sept"\nends = 2025-10-17\n',
            "is not a date",
        ),
        ("replace_defaults = true\n", "no half terms"),
    ],
)
def test_a_bad_calendar_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(TermCalendarError, match=says):
        parse_term_calendar(text, "terms.toml")


def test_a_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(TermCalendarError, match="FLAGSTREAM_TERM_CALENDAR"):
        load_term_calendar(tmp_path / "nope.toml")
