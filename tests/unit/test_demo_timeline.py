"""The demo's simulated days never pass today (demo.start_day.fit_start, demo.live.stream)."""

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from flagstream_tools.demo.live import stream
from flagstream_tools.demo.start_day import StartTooLate, fit_start, latest_start
from flagstream_tools.generator import school_days

MONDAY = date(2026, 12, 7)


def test_a_start_that_fits_is_kept() -> None:
    assert fit_start(date(2026, 9, 7), 55, MONDAY, given=False) == date(2026, 9, 7)
    assert fit_start(date(2026, 9, 7), 55, MONDAY, given=True) == date(2026, 9, 7)


def test_the_default_start_moves_so_the_days_end_today() -> None:
    start = fit_start(date(2026, 11, 2), 55, MONDAY, given=False)
    assert school_days(start, 55)[-1] == MONDAY
    assert start == date(2026, 9, 22)  # 11 weeks of weekdays back, Tuesday to Monday


def test_on_a_weekend_the_days_end_the_friday_before() -> None:
    sunday = MONDAY - timedelta(days=1)
    start = fit_start(sunday, 15, sunday, given=False)
    assert school_days(start, 15)[-1] == date(2026, 12, 4)
    assert start == date(2026, 11, 16)


def test_a_start_the_user_gave_that_cannot_fit_says_what_to_pass() -> None:
    with pytest.raises(StartTooLate, match=r"pass --start 2026-11-17 or earlier"):
        fit_start(date(2026, 12, 1), 15, MONDAY, given=True)


@pytest.mark.parametrize("days", [1, 2, 4, 5, 6, 10, 11, 40, 55])
def test_latest_start_agrees_with_the_generators_school_days(days: int) -> None:
    for offset in range(14):  # every weekday and weekend day as "today"
        now = MONDAY + timedelta(days=offset)
        start = latest_start(days, now)
        dates = school_days(start, days)
        assert dates[0] == start and dates[-1] <= now
        assert all(d.weekday() < 5 for d in dates)
        later = [d for d in school_days(dates[-1] + timedelta(days=1), 1) if d <= now]
        assert later == []  # no school day between the last simulated day and today


def test_the_live_loop_stops_before_a_day_after_today() -> None:
    sent: list[date] = []
    said: list[str] = []

    def send(day: date) -> Callable[[], str]:
        def send_day() -> str:
            sent.append(day)
            return str(day)

        return send_day

    days = [MONDAY - timedelta(days=1 - k) for k in range(4)]  # Sun, Mon, Tue, Wed
    stream([(d, send(d)) for d in days], 0.0, said.append, lambda: MONDAY)
    assert sent == days[:2]
    assert "after today (2026-12-07)" in said[-1] and "2026-12-08" in said[-1]
