"""The outcome memo (domain/memo.py) changes nothing but speed: each rule's `reads` names
every state field it reads, and stepping with a memo gives the very flags, reasons, changes
and snapshots stepping without one gives, whatever the events and their order."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flagstream.domain import events as ev
from flagstream.domain.flagging import StepResult, step
from flagstream.domain.memo import OutcomeMemo
from flagstream.domain.rules import DEFAULT_RULES, Rule
from flagstream.domain.rules.attend import AttendSettings
from flagstream.domain.state import ChildState
from flagstream.term_calendar import england, term_start_lookup
from tests.unit.test_oracle_properties import (
    CHILDREN,
    CONFIG,
    START,
    T,
    _e,
    history,
    legal_shuffle,
)

TERM_OF = term_start_lookup(england())


class _Only:
    """A child's state offering only the fields a rule says it reads: any other is an error."""

    def __init__(self, state: ChildState, reads: tuple[str, ...]) -> None:
        self._state, self._reads = state, reads

    def __getattr__(self, name: str) -> Any:
        if name == "observed" and "observations" in self._reads:
            return self._state.observed
        if name in self._reads:
            return getattr(self._state, name)
        raise AttributeError(f"reads {name!r}, which its Rule.reads does not name")


TICKS = [_e(ev.DayEnded, day=START + timedelta(days=n)) for n in (61, 62)]


def _stepped(events: list[Any], rnd: random.Random, memo: OutcomeMemo | None) -> list[Any]:
    """Every step's result as values: flags, changes and snapshots, in order."""
    states = {c: ChildState(c) for c in CHILDREN}
    seen: list[Any] = []

    def keep(result: StepResult) -> None:
        snap = result.snapshot
        seen.append((result.state.flags, [(c.flag, c.change, c.reason) for c in result.changes]))
        seen.append(None if snap is None else (snap.flags, snap.event_id, snap.term_start))

    i = 0
    while i < len(events):
        size = rnd.randint(1, 10)
        message, i = events[i : i + size], i + size
        by_child: dict[str, list[Any]] = defaultdict(list)
        for e in message:
            by_child[e.child_key].append(e)
        for key, evs in by_child.items():
            result = step(states[key], evs, CONFIG, "f", T, term_of=TERM_OF, memo=memo)
            states[key] = result.state
            keep(result)
    for tick in TICKS:
        for c in CHILDREN:
            result = step(states[c], [tick], CONFIG, "f", T, term_of=TERM_OF, memo=memo)
            states[c] = result.state
            keep(result)
    return seen


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history, st.randoms(use_true_random=False))
def test_stepping_with_a_memo_equals_stepping_without(
    events: list[Any], rnd: random.Random
) -> None:
    shuffled = legal_shuffle(events, rnd)
    seed = rnd.random()
    assert _stepped(shuffled, random.Random(seed), OutcomeMemo()) == _stepped(
        shuffled, random.Random(seed), None
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history, st.randoms(use_true_random=False))
def test_each_rule_reads_only_what_it_declares(events: list[Any], rnd: random.Random) -> None:
    states = {c: ChildState(c) for c in CHILDREN}
    for e in legal_shuffle(events, rnd):
        states[e.child_key] = step(states[e.child_key], [e], CONFIG, "f", T).state
    for state in states.values():
        for as_of in (START + timedelta(days=30), START + timedelta(days=61), date(2026, 6, 1)):
            for flag, rule in DEFAULT_RULES.items():
                if not rule.reads:
                    continue
                s = CONFIG.flags.get(flag) or rule.settings_type()
                assert rule.outcome(_Only(state, rule.reads), as_of, s) == rule.outcome(  # type: ignore[arg-type]
                    state, as_of, s
                ), flag


def test_every_built_in_rule_declares_what_it_reads() -> None:
    for flag in ("ATTAIN", "ATTEND", "FAMILY", "FSM", "SAFEGUARD", "SEN"):
        assert DEFAULT_RULES[flag].reads, flag


def test_a_rule_whose_inputs_changed_runs_again_and_one_whose_did_not_is_reused() -> None:
    calls: list[str] = []

    def counted(rule: Rule) -> Rule:
        def evaluate(state: ChildState, as_of: date, s: Any) -> Any:
            calls.append(rule.flag)
            return rule.evaluate(state, as_of, s)

        return Rule(rule.flag, rule.settings_type, evaluate, rule.describe, reads=rule.reads)

    rules = {f: counted(r) for f, r in DEFAULT_RULES.items()}
    memo = OutcomeMemo()
    day = date(2025, 9, 15)
    state = ChildState("a")
    mark = _e(ev.AttendanceMarkRecorded, child_key="a", urn="100001", date=day, session="AM",
              code="O")  # fmt: skip
    state = step(state, [mark], CONFIG, "f", T, rules, memo=memo).state
    assert sorted(calls) == sorted(f for f, s in CONFIG.flags.items() if s.enabled)
    calls.clear()
    fsm = _e(ev.FsmEligibilityRecorded, child_key="a", eligible_from=day, eligible_to=None)
    result = step(state, [fsm], CONFIG, "f", T, rules, memo=memo)
    assert calls == ["FSM"]  # the same day and register: only the rule reading fsm runs
    assert [(c.flag, c.change) for c in result.changes] == [("FSM", "RAISED")]
    calls.clear()
    pm = _e(ev.AttendanceMarkRecorded, child_key="a", urn="100001", date=day, session="PM",
            code="/")  # fmt: skip
    result = step(result.state, [pm], CONFIG, "f", T, rules, memo=memo)
    assert calls == ["ATTEND"]
    assert "FSM" in {f.flag for f in result.state.flags}  # reused raised: still held
    calls.clear()
    later = _e(ev.DayEnded, day=day + timedelta(days=1))
    step(result.state, [later], CONFIG, "f", T, rules, memo=memo)
    assert len(calls) == len([s for s in CONFIG.flags.values() if s.enabled])  # a new day


def test_a_memo_is_not_used_for_a_state_that_did_not_come_from_its_evaluation() -> None:
    memo = OutcomeMemo()
    day = date(2025, 9, 15)
    fsm = _e(ev.FsmEligibilityRecorded, child_key="a", eligible_from=day, eligible_to=None)
    tick = _e(ev.DayEnded, day=day)
    raised = step(ChildState("a"), [fsm, tick], CONFIG, "f", T, memo=memo).state
    assert {f.flag for f in raised.flags} == {"FSM"}
    # The same child's state from elsewhere (another worker, a store) with other flags held.
    other = ChildState("a", as_of=day, fsm=raised.fsm, flags=())
    assert memo.reusable(other, day, CONFIG, DEFAULT_RULES) == {}
    assert memo.reusable(raised, day, CONFIG, DEFAULT_RULES)  # its own: reused
    again = step(other, [tick], CONFIG, "f", T, memo=memo)
    assert [(c.flag, c.change) for c in again.changes] == [("FSM", "RAISED")]


@pytest.mark.parametrize("pct", [5.0, 10.0])
def test_a_new_rules_version_evaluates_afresh(pct: float) -> None:
    memo = OutcomeMemo()
    day = date(2025, 9, 15)
    state = ChildState("a")
    tick = _e(ev.DayEnded, day=day)
    state = step(state, [tick], CONFIG, "f", T, memo=memo).state
    other = type(CONFIG)("v2", {**CONFIG.flags, "ATTEND": AttendSettings(at_risk_pct=pct)})
    assert memo.reusable(state, day, other, DEFAULT_RULES) == {}
