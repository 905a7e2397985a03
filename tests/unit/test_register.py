from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from flagstream.domain.codes import ABSENT, ATTENDED, CATEGORY_OF, UNAUTHORISED
from flagstream.domain.register import SessionRegister, school_year_start

DAYS = st.dates(min_value=date(2025, 9, 1), max_value=date(2026, 8, 31))
MARK = st.tuples(DAYS, st.sampled_from(["AM", "PM"]), st.sampled_from(sorted(CATEGORY_OF)))


def test_school_year_starts_in_september() -> None:
    assert school_year_start(date(2026, 1, 15)) == date(2025, 9, 1)
    assert school_year_start(date(2025, 9, 1)) == date(2025, 9, 1)
    assert school_year_start(date(2025, 8, 31)) == date(2024, 9, 1)


def test_a_later_mark_replaces_the_earlier_one() -> None:
    reg = SessionRegister(date(2025, 9, 1)).with_mark(date(2025, 9, 8), "AM", "N")
    assert reg.totals() == (1, 1)
    reg = reg.with_mark(date(2025, 9, 8), "AM", "/")
    assert reg.totals() == (1, 0)


@given(st.lists(MARK, max_size=60), st.randoms())
def test_totals_equal_a_plain_last_wins_count(marks: list, rnd) -> None:  # type: ignore[type-arg]
    reg = SessionRegister(date(2025, 9, 1))
    for day, session, code in marks:
        reg = reg.with_mark(day, session, code)
    final = {(d, s): c for d, s, c in marks}
    absent = sum(1 for c in final.values() if c in ABSENT)
    attended = sum(1 for c in final.values() if c in ATTENDED)
    assert reg.totals() == (absent + attended, absent)
    # Re-sending any subset again (duplicates) changes nothing.
    again = reg
    for day, session, _ in rnd.sample(marks, len(marks) // 2):
        again = again.with_mark(day, session, final[(day, session)])
    assert again == reg


@given(st.lists(MARK, max_size=80), DAYS, DAYS, DAYS)
def test_tally_equals_plain_counts_of_the_last_marks(
    marks: list,  # type: ignore[type-arg]
    end: date,
    recent_from: date,
    unauthorised_from: date,
) -> None:
    reg = SessionRegister(date(2025, 9, 1)).with_marks(marks)
    final = {(d, s): c for d, s, c in marks}

    def sessions(codes: frozenset[str], start: date, stop: date) -> int:
        return sum(1 for (d, _), c in final.items() if start <= d <= stop and c in codes)

    year = date(2025, 9, 1)
    t = reg.tally(end, recent_from, unauthorised_from)
    assert t.absent == sessions(ABSENT, year, end)
    assert t.possible == t.absent + sessions(ATTENDED, year, end)
    assert t.recent_absent == sessions(ABSENT, recent_from, end)
    assert t.recent_possible == t.recent_absent + sessions(ATTENDED, recent_from, end)
    assert t.unauthorised == sessions(UNAUTHORISED, unauthorised_from, end)
    assert (t.possible, t.absent) == reg.totals(None, end)
    assert (t.recent_possible, t.recent_absent) == reg.totals(recent_from, end)
    if recent_from <= end + timedelta(days=1):
        # What the Attend rule relies on: the rest of the year is the total less the window.
        before = reg.totals(None, recent_from - timedelta(days=1))
        assert before == (t.possible - t.recent_possible, t.absent - t.recent_absent)
