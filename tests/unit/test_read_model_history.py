"""Flag intervals, re-referral counting and progress from statuses (pure, no database)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from projector.history import intervals
from projector.outcome_progress import current_progress, overall_progress


def c(kind: str, day: date, flag: str = "ATTEND", child: str = "k") -> SimpleNamespace:
    return SimpleNamespace(
        event_id=f"{child}{flag}{kind}{day}", child_key=child, urn="100001", flag=flag,
        change=kind, reason=kind.lower(), rule_version="v1", as_of=day,
    )  # fmt: skip


def test_intervals_pair_raise_with_clear_and_count_re_referrals() -> None:
    rows = intervals(
        [
            c("CLEARED", date(2024, 1, 1)),  # nothing raised: ignored
            c("RAISED", date(2024, 1, 10)),
            c("RAISED", date(2024, 1, 12)),  # still raised: same interval
            c("CLEARED", date(2024, 2, 1)),
            c("RAISED", date(2025, 1, 31)),  # 365 days after the clear: a re-referral
            c("CLEARED", date(2025, 3, 1)),
            c("RAISED", date(2026, 3, 2)),  # 366 days: not counted
            c("RAISED", date(2024, 5, 1), flag="FSM"),
        ]
    )
    got = [
        (r["flag"], r["raised_on"], r["cleared_on"], r["days_raised"], r["reflagged_within_12m"])
        for r in rows
    ]
    assert got == [
        ("ATTEND", date(2024, 1, 10), date(2024, 2, 1), 22, False),
        ("ATTEND", date(2025, 1, 31), date(2025, 3, 1), 29, True),
        ("ATTEND", date(2026, 3, 2), None, None, False),
        ("FSM", date(2024, 5, 1), None, None, False),
    ]
    assert rows[1]["previous_cleared_on"] == date(2024, 2, 1)
    assert rows[0]["raised_reason"] == "raised" and rows[0]["cleared_reason"] == "cleared"


def test_progress_from_the_status_sequence() -> None:
    assert current_progress([]) is None and overall_progress([]) is None
    assert current_progress(["No progress"]) == "new"
    seq = ["Further risk", "Good progress", "Some progress"]
    assert current_progress(seq) == "worse"
    assert overall_progress(seq) == "improved"
    assert current_progress(["Resolved", "resolved "]) == "same"
    assert overall_progress(["No progress", "Escalated"]) == "unknown"
