"""flag_churn streams events through the flagger's step and counts the projector's intervals."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from flagstream.domain import events as ev
from flagstream.domain.rules import RuleConfig
from flagstream.domain.rules.attend import AttendSettings
from flagstream.domain.state import ChildState
from flagstream_tools.flag_churn import churn, disagreements, without_clearing_level
from flagstream_tools.oracle import recompute_children

from .factories import T0, mark
from .test_attend_dfe import HOVER, school_days

# The early warning off: this is about the persistent tier alone.
CONFIG = RuleConfig(
    "c", {"ATTEND": AttendSettings(persistent_min_raised_days=0, early_warning_drop_points=100)}
)


def _timeline() -> list[object]:
    """The hovering child's marks a day at a time, each day ended by a tick."""
    days = school_days(date(2025, 9, 8), date(2025, 12, 19))[: len(HOVER)]
    out: list[object] = []
    for day, pair in zip(days, HOVER, strict=True):
        out += [mark("c1", day, "AM", pair[0]), mark("c1", day, "PM", pair[1])]
        out.append(ev.DayEnded(event_id=uuid.uuid4(), source="t", occurred_at=T0,
                               recorded_at=T0, day=day))  # fmt: skip
    # Raised again a week after the last clear: back above 10%.
    late = days[-1] + timedelta(days=7)
    out += [mark("c1", late, s, "I") for s in ("AM", "PM")]
    out += [mark("c1", late + timedelta(days=1), s, "I") for s in ("AM", "PM")]
    return out


def test_the_clearing_level_ends_the_flapping_and_the_gap_drops_the_re_flag() -> None:
    # Without it: raised 3 Oct, cleared 6 Oct (9.8%), raised 8 Oct, cleared 13 Oct, raised 22
    # Oct; with it: raised 3 Oct, cleared 15 Oct (under 9%), raised 22 Oct.
    flapping = churn(_timeline(), without_clearing_level(CONFIG), 0)
    steady = churn(_timeline(), CONFIG, 0)
    assert flapping.intervals["ATTEND"] == 3 and steady.intervals["ATTEND"] == 2
    assert flapping.reflags["ATTEND"] == 2 and steady.reflags["ATTEND"] == 1
    gapped = churn(_timeline(), CONFIG, 28)
    assert gapped.reflags["ATTEND"] == 0 and gapped.raised_again["ATTEND"] == 1
    assert steady.evaluations == len(_timeline())  # one per message and per tick


def test_the_streamed_flags_are_checked_against_the_oracle() -> None:
    events = _timeline()
    states: dict[str, ChildState] = {}
    churn(events, CONFIG, 28, states)
    as_of = states["c1"].as_of
    assert as_of is not None
    assert disagreements(states, recompute_children(events, as_of, CONFIG)) == 0
    # As of the Monday before, the flag had cleared: the oracle then differs from the stream.
    earlier = recompute_children(events, as_of - timedelta(days=3), CONFIG)
    assert states["c1"].flags and disagreements(states, earlier) == 1
