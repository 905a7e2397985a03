"""The stream and the batch oracle agree on Attain for the new assessments, across a new
school year (a result stops counting) and whatever the delivery order."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from flagstream.domain import events as ev
from flagstream_tools.oracle import raised, recompute

from .test_oracle_properties import CONFIG, START, _e, legal_shuffle, stream


def _result(child: str, assessment: str, result: str, on: date) -> Any:
    return _e(ev.AssessmentRecorded, child_key=child, urn="100001", assessment=assessment,
              result=result, assessed_on=on)  # fmt: skip


def _mark(child: str, day: date) -> Any:
    return _e(ev.AttendanceMarkRecorded, child_key=child, urn="100001", date=day, session="AM",
              code="/")  # fmt: skip


def test_key_stage_1_pupils_are_flagged_alike_by_stream_and_oracle() -> None:
    d = START + timedelta(days=2)
    events = [
        _mark("a", d), _mark("b", d), _mark("c", d),
        # a: Year 1, not at a good level of development in Reception last June.
        _result("a", "EYFS_GLD", "NOT_GLD", date(2025, 6, 27)),
        # b: Year 2, phonics below 32 in Year 1, teacher assessments in reading at expected.
        _result("b", "PHONICS", "27", date(2025, 6, 9)),
        _result("b", "TA_READING", "WTS", date(2025, 3, 28)),
        _result("b", "TA_READING", "EXS", date(2025, 7, 18)),
        # c: Year 5, MTC at expected, but writing below two terms ago and not since assessed.
        _result("c", "MTC", "22", date(2025, 6, 11)),
        _result("c", "TA_WRITING", "WTS", date(2025, 3, 28)),
    ]  # fmt: skip
    final = d + timedelta(days=5)
    expected = recompute(events, final, CONFIG)
    assert {c: raised(o) for c, o in expected.items()} == {c: {"ATTAIN": ""} for c in "abc"}
    assert expected["a"]["ATTAIN"].reason == (
        "below expected: EYFS profile (good level of development) NOT_GLD on 2025-06-27 "
        "(expected GLD)"
    )
    assert "phonics screening check 27 of 40" in expected["b"]["ATTAIN"].reason
    assert "reading" not in expected["b"]["ATTAIN"].reason  # the July TA replaced March's
    assert "in writing WTS on 2025-03-28" in expected["c"]["ATTAIN"].reason
    for seed in range(5):
        rnd = random.Random(seed)
        got = stream(legal_shuffle(events, rnd), final, rnd)
        assert got == {c: raised(expected[c]) for c in "abc"}


def test_a_new_school_year_ends_last_years_results_alike() -> None:
    # Results from 2023/24 count through 2025/26, and stop on 1 September 2026.
    events = [_mark("a", date(2026, 8, 28)), _result("a", "PHONICS", "20", date(2024, 6, 10))]
    before, after = date(2026, 8, 31), date(2026, 9, 1)
    assert raised(recompute(events, before, CONFIG)["a"]) == {"ATTAIN": ""}
    assert raised(recompute(events, after, CONFIG)["a"]) == {}
    rnd = random.Random(1)
    assert stream(events, before, rnd)["a"] == {"ATTAIN": ""}
    assert stream(events, after, rnd)["a"] == {}
