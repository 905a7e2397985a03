from datetime import date, timedelta

from flagstream.domain.register import SessionRegister, school_year_start
from flagstream.domain.rules.attend import AttendSettings, attend
from flagstream.domain.state import ChildState

CONFIG = AttendSettings(persistent_absence_pct=10.0, min_possible_sessions=20)


def state_with(codes: list[str], start: date = date(2025, 9, 8)) -> tuple[ChildState, date]:
    register = SessionRegister(school_year_start(start))
    for i, code in enumerate(codes):
        register = register.with_mark(
            start + timedelta(days=i // 2), "AM" if i % 2 == 0 else "PM", code
        )
    as_of = start + timedelta(days=len(codes) // 2)
    return ChildState("c", register=register, as_of=as_of), as_of


def test_exactly_ten_percent_absent_is_persistent_absence() -> None:
    outcome = attend(*state_with(["/"] * 18 + ["I", "O"]), CONFIG)
    assert outcome.raised
    assert outcome.reason.startswith("attendance 90.0% (18 of 20 sessions); absent 10.0%")


def test_just_under_ten_percent_is_not() -> None:
    assert not attend(*state_with(["/"] * 19 + ["I", "I"]), CONFIG).raised  # 2 of 21 = 9.5%


def test_needs_the_minimum_possible_sessions() -> None:
    outcome = attend(*state_with(["I"] * 19), CONFIG)
    assert not outcome.raised and "fewer than 20" in outcome.reason


def test_not_possible_sessions_do_not_count() -> None:
    # X (non-compulsory school age) is not a possible session: 18 present + 2 absent of 20.
    assert attend(*state_with(["/"] * 18 + ["X"] * 10 + ["I", "I"]), CONFIG).raised
    # Approved educational activity counts as attendance.
    assert not attend(*state_with(["B"] * 19 + ["/"] * 19 + ["I", "I"]), CONFIG).raised


def test_threshold_is_configuration() -> None:
    codes = ["/"] * 17 + ["I"] * 3  # 15% absent
    assert attend(*state_with(codes), CONFIG).raised
    assert not attend(*state_with(codes), AttendSettings(persistent_absence_pct=20.0)).raised
