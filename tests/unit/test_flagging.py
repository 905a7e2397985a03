from dataclasses import fields, replace
from datetime import date, timedelta

from flagstream.domain.events import ActiveFlag
from flagstream.domain.flagging import step
from flagstream.domain.observations import Observation
from flagstream.domain.register import SessionRegister
from flagstream.domain.rules import RuleConfig, default_config
from flagstream.domain.rules.attend import AttendSettings
from flagstream.domain.state import Case, ChildState, Result, with_flags, with_register

from .factories import T0, enrolment, mark

RULES = RuleConfig(
    "v-test", {**default_config().flags, "ATTEND": AttendSettings(min_possible_sessions=4)}
)
D = date(2025, 9, 8)


def days(codes: str, child: str = "c1") -> list:  # type: ignore[type-arg]
    return [mark(child, D + timedelta(days=i), "AM", code) for i, code in enumerate(codes)]


def test_raise_then_clear_with_reasons_and_rule_version() -> None:
    first = step(ChildState("c1"), days("//O/"), RULES, "flagger", T0)
    assert [(c.flag, c.change) for c in first.changes] == [("ATTEND", "RAISED")]
    assert first.changes[0].rule_version == "v-test"
    assert first.changes[0].reason.startswith("attendance 75.0% (3 of 4 sessions)")
    assert first.snapshot is not None and first.snapshot.indicators == 1
    # The school corrects the O to a present mark: the flag clears.
    fixed = step(first.state, [mark("c1", D + timedelta(days=2), "AM", "/")], RULES, "f", T0)
    assert [(c.flag, c.change) for c in fixed.changes] == [("ATTEND", "CLEARED")]
    assert fixed.snapshot is not None and fixed.snapshot.flags == []
    assert fixed.snapshot.possible_sessions == 4 and fixed.snapshot.absent_sessions == 0


def test_still_raised_keeps_raised_on_and_emits_no_change() -> None:
    first = step(ChildState("c1"), days("OOOO"), RULES, "f", T0)
    later = step(first.state, [mark("c1", D + timedelta(days=9), "AM", "O")], RULES, "f", T0)
    assert later.changes == []
    assert later.snapshot is not None
    assert later.snapshot.flags[0].raised_on == first.state.as_of
    assert later.snapshot.as_of == D + timedelta(days=9)


def test_duplicates_change_nothing() -> None:
    events = days("//O/I")
    once = step(ChildState("c1"), events, RULES, "f", T0)
    twice = step(once.state, events, RULES, "f", T0)
    assert twice.state == once.state and twice.changes == []


def test_out_of_order_delivery_gives_the_same_state() -> None:
    events = days("/O/I//")
    forward = step(ChildState("c1"), events, RULES, "f", T0).state
    backward = step(ChildState("c1"), events[::-1], RULES, "f", T0).state
    assert forward.register == backward.register and forward.as_of == backward.as_of


def test_enrolment_alone_emits_nothing_but_is_remembered() -> None:
    result = step(ChildState("c1"), [enrolment("c1", nc_year=3)], RULES, "f", T0)
    assert result.snapshot is None and result.state.nc_year == 3
    after = step(result.state, days("////"), RULES, "f", T0)
    assert after.snapshot is not None and after.snapshot.nc_year == 3


def test_a_new_school_year_starts_a_new_register() -> None:
    first = step(ChildState("c1"), days("OOOO"), RULES, "f", T0)
    new_year = [mark("c1", date(2026, 9, 7) + timedelta(days=i), "AM", "/") for i in range(4)]
    result = step(first.state, new_year, RULES, "f", T0)
    assert [(c.change) for c in result.changes] == ["CLEARED"]
    # A straggler from the old year no longer moves the new year's figures.
    late = step(result.state, [mark("c1", D, "PM", "O")], RULES, "f", T0)
    assert late.state.register == result.state.register


def test_replayed_steps_emit_the_same_event_ids() -> None:
    events = days("OOOO")
    a = step(ChildState("c1"), events, RULES, "f", T0)
    b = step(ChildState("c1"), events, RULES, "f", T0)
    assert [c.event_id for c in a.changes] == [c.event_id for c in b.changes]


def test_the_fast_copies_of_a_state_equal_dataclasses_replace() -> None:
    # Every field set and distinct, so a field the copies miss or shift shows.
    full = ChildState(
        child_key="c1",
        urn="100001",
        nc_year=7,
        sex="F",
        as_of=D,
        register=SessionRegister(date(2025, 9, 1), b"\x01\x02"),
        sen=((D, "K"),),
        fsm=((D, None),),
        results=(Result("KS2", "WTS", D),),
        cases=(Case("case-1", D, None),),
        notifications=(D,),
        observations=(Observation("asb", "INC-1", D, "youth"),),
        flags=(ActiveFlag(flag="FSM", reason="eligible", raised_on=D),),
    )
    assert len({repr(getattr(full, f.name)) for f in fields(ChildState)}) == len(fields(full))
    register = SessionRegister(date(2025, 9, 1), b"\x03")
    later = D + timedelta(days=1)
    assert with_register(full, "100002", later, register) == replace(
        full, urn="100002", as_of=later, register=register
    )
    flags = (ActiveFlag(flag="ATTEND", reason="absent", raised_on=later, tier="persistent"),)
    assert with_flags(full, flags) == replace(full, flags=flags)
