"""What every rule shares: its outcome, its settings and the versioned configuration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ..state import ChildState


@dataclass(frozen=True, slots=True)
class Outcome:
    """Whether a flag is raised, its tier, and the evidence in words either way."""

    raised: bool
    reason: str
    tier: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagSettings:
    """Settings every flag has; a rule's own settings extend this."""

    enabled: bool = True
    # A minimum time raised: raised on a day if the rule raised on any of the days before,
    # this many back (0: as the rule says that day). Costs up to this many evaluations of a
    # child the rule does not raise, so rules with their own clearing level need not use it.
    min_raised_days: int = 0


@dataclass(frozen=True, slots=True)
class Rule:
    """A flag's name, the type of its settings, its pure evaluation function and whether
    it is sensitive."""

    flag: str
    settings_type: type[FlagSettings]
    evaluate: Callable[[ChildState, date, Any], Outcome]
    describe: Callable[[Any], str]
    # A sensitive flag is seen only by the DSL of the child's current school: the read model
    # keeps it apart from every count, list and history others read (docs/security.md).
    sensitive: bool = False
    # How screens spell it (the council's own: "FSM", "Attend"); empty: the name, title-cased.
    title: str = ""
    # The ChildState fields `evaluate` reads besides the date (its settings aside): an outcome
    # is reused while they are unchanged (domain/memo.py). Empty: evaluated every time. A
    # test runs each built-in rule on a state offering only these fields.
    reads: tuple[str, ...] = ()

    def outcome(self, state: ChildState, as_of: date, settings: FlagSettings) -> Outcome:
        """The rule's outcome, kept raised for settings.min_raised_days after the last day it
        raised: a pure function of the state and the date, however often it is evaluated."""
        now = self.evaluate(state, as_of, settings)
        if now.raised or settings.min_raised_days <= 0:
            return now
        for back in range(1, settings.min_raised_days + 1):
            day = as_of - timedelta(days=back)
            then = self.evaluate(state, day, settings)
            if then.raised:
                until = day + timedelta(days=settings.min_raised_days)
                words = f"{now.reason}; kept raised to {until} (raised on {day})"
                return Outcome(True, words, then.tier)
        return now

    @property
    def display_name(self) -> str:
        """The flag as screens and exports show it."""
        return self.title or self.flag.title()


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """A versioned set of flag settings; the version is recorded on every flag change."""

    version: str
    flags: Mapping[str, FlagSettings] = field(default_factory=dict)

    def enabled(self) -> list[str]:
        """Names of the flags switched on."""
        return [name for name, s in self.flags.items() if s.enabled]
