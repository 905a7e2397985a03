"""Property: the stream's Attend flag equals the oracle's across a new school year, with a
clearing level and the school-week window, however the marks are delivered and evaluated."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flagstream.domain import events as ev
from flagstream.domain.codes import ABSENT, ATTENDED
from flagstream.domain.flagging import step
from flagstream.domain.register import school_year_start
from flagstream.domain.rules import RuleConfig
from flagstream.domain.rules.attend import AttendSettings
from flagstream.domain.state import ChildState
from flagstream_tools.oracle import recompute

from .test_oracle_properties import T, _e, legal_shuffle

START = date(2026, 6, 1)  # the summer term, the holiday and a new school year
SETTINGS = AttendSettings(
    min_possible_sessions=6, persistent_absence_pct=20.0, persistent_clear_below_pct=12.0,
    persistent_min_raised_days=5,
    unauthorised_sessions=4, unauthorised_weeks=3,
)  # fmt: skip
CONFIG = RuleConfig("attend-prop", {"ATTEND": SETTINGS})
DAY = st.integers(0, 135).map(lambda n: START + timedelta(days=n))
CODE = st.sampled_from(["/"] * 8 + ["L", "I", "O", "G", "N", "U", "X", "#"])
mark = st.builds(lambda d, s, code: _e(ev.AttendanceMarkRecorded, child_key="a", urn="100001",
                                       date=d, session=s, code=code),
                 DAY, st.sampled_from(["AM", "PM"]), CODE)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mark, max_size=120), st.integers(0, 30), st.randoms(use_true_random=False))
def test_stream_attend_equals_oracle_across_school_years(
    marks: list[Any], extra_days: int, rnd: random.Random
) -> None:
    events = legal_shuffle(marks, rnd)
    state = ChildState("a")
    i = 0
    while i < len(events):  # evaluated after every message of random size
        size = rnd.randint(1, 12)
        state = step(state, events[i : i + size], CONFIG, "f", T).state
        i += size
    final = max([m.date for m in marks], default=START) + timedelta(days=extra_days)
    result = step(state, [_e(ev.DayEnded, day=final)], CONFIG, "f", T)
    expected = recompute(marks, final, CONFIG).get("a", {}).get("ATTEND")
    got = {f.flag: f for f in result.state.flags}.get("ATTEND")
    if expected is None or not expected.raised:
        assert got is None
    else:
        assert got is not None and (got.tier, got.reason) == (expected.tier, expected.reason)
    # The snapshot's figures are the year to date, from plain last-wins counts.
    last = {(m.date, m.session): m.code for m in marks}
    year = [c for (d, _), c in last.items() if school_year_start(final) <= d <= final]
    absent = sum(1 for c in year if c in ABSENT)
    snapshot = result.snapshot
    assert snapshot is not None or not marks
    if snapshot is not None:
        assert snapshot.absent_sessions == absent
        assert snapshot.possible_sessions == absent + sum(1 for c in year if c in ATTENDED)


def test_the_property_meets_every_tier_and_a_kept_flag() -> None:
    """Guard against a vacuous property: these histories raise each tier, and one is raised
    only by the clearing level."""
    rnd = random.Random(5)
    seen: set[str] = set()
    days = [START + timedelta(days=n) for n in range(136)]
    for _ in range(200):
        p = rnd.uniform(0.03, 0.3)
        marks = [
            _e(ev.AttendanceMarkRecorded, child_key="a", urn="100001", date=d, session=s,
               code=rnd.choice("IOGNU") if rnd.random() < p else "/")
            for d in days if d.weekday() < 5 and not date(2026, 7, 23) <= d <= date(2026, 9, 2)
            for s in ("AM", "PM")
        ]  # fmt: skip
        final = rnd.choice(days)
        for o in recompute(marks, final, CONFIG).get("a", {}).values():
            seen.add(o.tier)
            if "persistent absence: " in o.reason and "%+ on" in o.reason:
                seen.add("kept")
            if "unauthorised sessions in" in o.reason:
                seen.add("unauthorised")
                if final.month >= 9 and "from 2026-07" in o.reason:
                    seen.add("across years")
    assert {"severe", "persistent", "unauthorised", "kept", "across years"} <= seen, seen
