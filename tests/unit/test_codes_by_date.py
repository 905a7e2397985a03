"""Attendance codes valid by date (the DfE's August 2024 change): which codes a register may
carry on a day, that retired codes count as they did, that the flagging step equals the batch
oracle over a register spanning the change, and that the generator sends only valid codes."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flagstream.domain import events as ev
from flagstream.domain.codes import CATEGORY_OF, CODE_IDS, CODES_2024, valid_on, validity
from flagstream.domain.flagging import step
from flagstream.domain.register import SessionRegister
from flagstream.domain.rules import RuleConfig, default_config
from flagstream.domain.rules.attend import AttendSettings
from flagstream.domain.state import ChildState
from flagstream_tools.cli import build_parser
from flagstream_tools.generator import make_county, registers
from flagstream_tools.oracle import raised, recompute_children

# The 2024 regulations' reg. 10 tables, and the codes in use from September 2013 until then.
SET_2024 = {"/", "\\", "L", "B", "K", "P", "V", "W", "C", "C1", "C2", "E", "I", "J1", "M", "R",
            "S", "T", "G", "N", "O", "U", "X", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Q", "D",
            "Z", "#"}  # fmt: skip
SET_2013 = {"/", "\\", "L", "B", "J", "P", "V", "W", "C", "E", "H", "I", "M", "R", "S", "T",
            "G", "N", "O", "U", "X", "Y", "D", "Z", "#"}  # fmt: skip


def test_the_code_sets_either_side_of_the_changes() -> None:
    assert valid_on(date(2024, 8, 19)) == valid_on(date(2026, 1, 5)) == SET_2024
    assert valid_on(date(2024, 8, 18)) == valid_on(date(2013, 9, 1)) == SET_2013
    assert valid_on(date(2013, 8, 31)) == SET_2013 | {"F"}
    assert validity("H", date(2024, 8, 18)) == "valid"
    assert validity("H", date(2024, 8, 19)) == "retired"
    assert validity("C1", date(2024, 8, 18)) == "not_yet_valid"
    assert validity("c1", date(2025, 1, 6)) == "unknown"  # codes are exact, as the DfE writes them


def test_retired_codes_count_as_they_did() -> None:
    day = date(2023, 9, 4)
    reg = SessionRegister(date(2023, 9, 1))
    for i, code in enumerate(("H", "F", "J", "Y", "/")):
        reg = reg.with_mark(day + timedelta(days=i), "AM", code)
    assert reg.totals() == (4, 2)  # H, F absent; J attended; Y not possible; / present
    assert len(set(CODE_IDS)) == len(CODE_IDS) and set(CODE_IDS) - {""} == set(CATEGORY_OF)
    assert CODE_IDS.index("#") == 34  # ids already in flagger state never move


T = datetime(2024, 10, 1, tzinfo=UTC)
CHILDREN = ("a", "b")
CONFIG = RuleConfig(
    "codes", {**default_config().flags, "ATTEND": AttendSettings(min_possible_sessions=6)}
)
# The summer term of 2023/24 and its last days after the change on 19 August (the school year,
# 1 September to 31 August, spans it), with the flags as of 31 August.
DAY = st.integers(0, 89).map(lambda n: date(2024, 6, 3) + timedelta(days=n))
FINAL_DAY = date(2024, 8, 31)


@st.composite
def marks(draw: Any) -> ev.AttendanceMarkRecorded:
    day = draw(DAY)
    code = draw(st.sampled_from(sorted(valid_on(day))))
    return ev.AttendanceMarkRecorded(
        event_id=uuid.uuid4(),
        source="codes",
        occurred_at=T,
        recorded_at=T,
        child_key=draw(st.sampled_from(CHILDREN)),
        urn="100001",
        date=day,
        session=draw(st.sampled_from(["AM", "PM"])),
        code=code,
    )


def _stream(events: list[Any], final_day: date, rnd: random.Random) -> dict[str, ChildState]:
    # A child's marks keep their order (one partition); children interleave; some repeat.
    queues: dict[str, list[Any]] = defaultdict(list)
    for e in events:
        queues[e.child_key].append(e)
    states = {c: ChildState(c) for c in CHILDREN}
    while queues:
        child = rnd.choice(sorted(queues))
        batch = queues[child][: rnd.randint(1, 5)]
        del queues[child][: len(batch)]
        if rnd.random() < 0.2:
            batch += batch[-1:]
        states[child] = step(states[child], batch, CONFIG, "f", T).state
        if not queues[child]:
            del queues[child]
    tick = ev.DayEnded(event_id=uuid.uuid4(), source="t", occurred_at=T, recorded_at=T,
                       day=final_day)  # fmt: skip
    return {c: step(s, [tick], CONFIG, "f", T).state for c, s in states.items()}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(marks(), max_size=80), st.randoms())
def test_stream_equals_oracle_across_the_2024_change(events: list[Any], rnd: random.Random) -> None:
    expected = recompute_children(events, FINAL_DAY, CONFIG)
    got = _stream(events, FINAL_DAY, rnd)
    for c in CHILDREN:
        flags = {f.flag: f.tier for f in got[c].flags}
        assert flags == (raised(expected[c].outcomes) if c in expected else {}), c


def test_holiday_h_raises_attend_in_the_old_year_as_authorised_absence() -> None:
    start = date(2024, 6, 3)
    events = [
        ev.AttendanceMarkRecorded(event_id=uuid.uuid4(), source="s", occurred_at=T,
                                  recorded_at=T, child_key="a", urn="100001",
                                  date=start + timedelta(days=i // 2),
                                  session="AM" if i % 2 == 0 else "PM",
                                  code="H" if i < 4 else "/")
        for i in range(20)
    ]  # fmt: skip
    final = start + timedelta(days=10)
    expected = raised(recompute_children(events, final, CONFIG)["a"].outcomes)
    assert "ATTEND" in expected
    assert {f.flag for f in _stream(events, final, random.Random(1))["a"].flags} == {"ATTEND"}


@pytest.mark.parametrize("start", [date(2024, 8, 5), date(2023, 9, 4), date(2025, 9, 8)])
def test_the_generator_sends_only_codes_valid_on_each_day(start: date) -> None:
    county = make_county("tiny", 3)
    old = [m for r in registers(county, start, 30, 3) for m in r.marks]
    new = [m for r in registers(county, date(2025, 9, 1), 30, 3) for m in r.marks]
    assert all(validity(m.code, m.date) == "valid" for m in old)
    assert all(validity(m.code, m.date) == "valid" for m in new)
    # The same draws: an earlier start changes a 2024 code to its forerunner of the same
    # category, and nothing else.
    assert [CATEGORY_OF[m.code] for m in old] == [CATEGORY_OF[m.code] for m in new]
    changed = {(n.code, o.code) for o, n in zip(old, new, strict=True) if o.code != n.code}
    assert changed <= {("C1", "C"), ("J1", "C"), ("Y1", "Y")}
    assert bool(changed) == (start < CODES_2024)


def test_the_cli_refuses_a_start_before_the_national_codes() -> None:
    parser = build_parser()
    assert parser.parse_args(["generate", "--start", "2006-09-01", "--out", "x.jsonl"]).start
    with pytest.raises(SystemExit):
        parser.parse_args(["generate", "--start", "2006-08-31", "--out", "x.jsonl"])
