"""Outcomes a child's last evaluation already gave, for the rules whose inputs are unchanged.

Every event re-evaluates every enabled rule as of the child's as-of date, yet most events
change one part of the state: an assessment result changes `results` and nothing the Attend
rule reads, a second register of the day changes the register and nothing Attain reads. A
rule that declares the state fields it reads (`Rule.reads`) is not run again when, since the
child's last evaluation, the as-of date, the rules in force and each of those fields are
unchanged: it is a pure function of them, so its outcome would be the same. That outcome is
the child's held flag when it was raised and "not raised" otherwise; a reused "not raised"
carries no words, which nothing reads (words are kept for raised flags and for CLEARED,
which a flag not raised before cannot give).

The memo keeps, per child, only the state its last evaluation left (the very object the
handler saves, so it costs a dictionary entry) and is a cache: empty, it changes nothing but
speed, and a handler clears it whenever another worker may have changed its children.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from .rules import Outcome, Rule, RuleConfig
from .state import ChildState

_NOT_RAISED = Outcome(False, "")


class OutcomeMemo:
    """Each child's last evaluated state, as of its date, under a rules version."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: dict[str, tuple[date, RuleConfig, ChildState]] = {}

    def keep(self, state: ChildState, config: RuleConfig) -> None:
        """Remember the state an evaluation as of its as-of date left."""
        assert state.as_of is not None
        self._held[state.child_key] = (state.as_of, config, state)

    def reusable(
        self, state: ChildState, as_of: date, config: RuleConfig, rules: Mapping[str, Rule]
    ) -> dict[str, Outcome]:
        """Outcomes that evaluating `state` as of `as_of` would give again, by flag: none
        unless the child's last evaluation was as of the same date, under the same rules,
        and left the flags `state` holds (so `state` descends from it)."""
        held = self._held.get(state.child_key)
        if held is None:
            return {}
        on, kept_config, before = held
        if on != as_of or kept_config is not config or before.flags is not state.flags:
            return {}
        raised = {f.flag: f for f in state.flags}
        same: dict[str, Outcome] = {}
        for flag, settings in config.flags.items():
            rule = rules.get(flag)
            if rule is None or not rule.reads or not settings.enabled:
                continue
            if all(_same(getattr(state, f), getattr(before, f)) for f in rule.reads):
                active = raised.get(flag)
                same[flag] = (
                    _NOT_RAISED if active is None else Outcome(True, active.reason, active.tier)
                )
        return same

    def clear(self) -> None:
        """Forget every child (their state may have changed elsewhere)."""
        self._held.clear()

    def __len__(self) -> int:
        return len(self._held)


def _same(a: object, b: object) -> bool:
    return a is b or a == b
