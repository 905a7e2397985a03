"""The daily counts' sweep (projector/daily.py) equals counting by brute force: for each day,
the distinct members with a span [from, to) covering it (an open span covers every day on)."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from projector.daily import covering

START = date(2025, 9, 1)
day_offsets = st.integers(min_value=0, max_value=40)
spans = st.tuples(
    st.sampled_from("abcde"),
    day_offsets,
    st.one_of(st.none(), st.integers(min_value=0, max_value=15)),
)


def brute_force(days: list[date], given_spans: list[tuple[str, date, date | None]]) -> list[int]:
    return [
        len({m for m, start, end in given_spans if start <= d and (end is None or d < end)})
        for d in days
    ]


@given(st.sets(day_offsets, max_size=30), st.lists(spans, max_size=25))
def test_covering_counts_each_member_once_per_day(
    offsets: set[int], raw: list[tuple[str, int, int | None]]
) -> None:
    days = sorted(START + timedelta(days=o) for o in offsets)
    given_spans = [
        (m, START + timedelta(days=a), None if n is None else START + timedelta(days=a + n))
        for m, a, n in raw
    ]
    counted = covering(days, [(m, (start, end)) for m, start, end in given_spans])
    assert counted == brute_force(days, given_spans)


def d(i: int) -> date:
    return START + timedelta(days=i)


def test_touching_and_overlapping_spans_count_once() -> None:
    days = [d(i) for i in range(6)]
    spans = [("x", (d(0), d(2))), ("x", (d(2), d(4))), ("x", (d(1), d(3))), ("y", (d(3), None))]
    assert covering(days, spans) == [1, 1, 1, 2, 1, 1]
